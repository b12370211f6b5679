/**
 * Plaid's error bodies, and the one error an item can be in: ITEM_LOGIN_REQUIRED, set when its
 * login breaks (ITEM ERROR webhook) and cleared when it is repaired (ITEM LOGIN_REPAIRED).
 * @module
 */
import type { Item } from "./state.ts";
import type { PlaidWebhooks } from "./webhooks.ts";

/** A Plaid error body. */
export function plaidError(
  type: string,
  code: string,
  message: string,
  status: number,
  requestId: string,
  display: string | null = null,
): Record<string, unknown> {
  return {
    error_type: type,
    error_code: code,
    error_code_reason: null,
    error_message: message,
    display_message: display,
    request_id: requestId,
    causes: [],
    status,
    documentation_url: `https://plaid.com/docs/errors/${type.toLowerCase().replace("_", "-")}/`,
    suggested_action: null,
  };
}

/** The ITEM_LOGIN_REQUIRED error of a broken item. */
export function loginRequired(): Record<string, unknown> {
  return plaidError(
    "ITEM_ERROR",
    "ITEM_LOGIN_REQUIRED",
    "the login details of this item have changed (credentials, MFA, or required user action) and a user login is required to update this information. use Link's update mode to restore the item to a good state",
    400,
    "",
    "The login details of this item have changed. Please log in again.",
  );
}

/** Breaks the item's login, unless it is already broken. */
export function breakLogin(item: Item, hooks: PlaidWebhooks): void {
  if (item.error) return;
  item.error = loginRequired();
  hooks.send(item, "ITEM", "ERROR");
}

/** Repairs the item's login, if it is broken. */
export function repairLogin(item: Item, hooks: PlaidWebhooks): void {
  if (!item.error) return;
  item.error = null;
  hooks.send(item, "ITEM", "LOGIN_REPAIRED");
}
