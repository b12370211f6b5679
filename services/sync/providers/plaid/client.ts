/**
 * Plaid's official SDK (`plaid`): where it lives (the sandbox's mount, an override, or the
 * configured Plaid environment), how fast we may call it, which of its failures mean the person
 * must reconnect, and where it sends an item's webhooks.
 * @module
 */
import { Configuration, PlaidApi, PlaidEnvironments } from "plaid";
import type { ErrorFacts } from "../call.ts";
import type { ProviderConfig } from "../config.ts";
import { type RateLimiter, sharedLimiter } from "../rate_limit.ts";

/** Plaid's base path. */
export function plaidBasePath(c: ProviderConfig): string {
  if (c.PLAID_BASE_URL) return c.PLAID_BASE_URL.replace(/\/+$/, "");
  if (c.PROVIDERS === "sandbox") return `${c.SANDBOX_URL.replace(/\/+$/, "")}/plaid`;
  return PlaidEnvironments[c.PLAID_ENV];
}

/** The SDK client for this configuration. */
export function plaidClient(c: ProviderConfig): PlaidApi {
  return new PlaidApi(
    new Configuration({
      basePath: plaidBasePath(c),
      baseOptions: {
        headers: { "PLAID-CLIENT-ID": c.PLAID_CLIENT_ID, "PLAID-SECRET": c.PLAID_SECRET },
      },
    }),
  );
}

/** Plaid publishes per-endpoint, per-item limits; we stay conservative. */
const PLAID_LIMIT = { limit: 100, windowMs: 60_000 } as const;

/** The process-wide limiter of Plaid for this client id. */
export function plaidLimiter(c: ProviderConfig): RateLimiter {
  return sharedLimiter(`plaid:${c.PLAID_CLIENT_ID}`, PLAID_LIMIT.limit, PLAID_LIMIT.windowMs);
}

/** Whether a Plaid failure means the person must reconnect (sign in again, consent revoked). */
export function isPlaidAuthFailure(f: ErrorFacts): boolean {
  return f.code === "ITEM_LOGIN_REQUIRED" || f.code === "INVALID_ACCESS_TOKEN" ||
    f.code === "ITEM_NOT_FOUND" || f.code === "ACCESS_NOT_GRANTED" ||
    f.code === "PENDING_EXPIRATION" || f.code === "USER_PERMISSION_REVOKED";
}

/** Where Plaid sends an item's webhooks: the relay at `relayPublicUrl`. */
export function plaidWebhookUrl(relayPublicUrl: string): string {
  return `${relayPublicUrl.replace(/\/+$/, "")}/webhooks/plaid`;
}
