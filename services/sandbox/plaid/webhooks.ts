/**
 * Plaid's webhooks: each item's own URL, a JSON body per type and code, and the
 * `Plaid-Verification` ES256 JWT over the exact bytes sent.
 * @module
 */
import { iso, type SandboxCore } from "../core.ts";
import type { DeliveryResult, OutgoingWebhook, PlaidWebhookSigner } from "../webhooks.ts";
import { loginRequired } from "./errors.ts";
import type { Item } from "./state.ts";

/** Builds, signs and sends an item's webhooks. */
export class PlaidWebhooks {
  constructor(
    private readonly core: SandboxCore,
    private readonly signer: PlaidWebhookSigner,
  ) {}

  /** Queues `type`/`code` for the item, if it has a webhook URL. */
  send(item: Item, type: string, code: string): void {
    if (!item.webhook) return;
    this.core.webhooks.enqueueSoon(this.#build(item.webhook, this.#body(item, type, code)));
  }

  /** Sends `type`/`code` now and reports the receiver's answer; the item must have a URL. */
  async sendNow(item: Item, type: string, code: string): Promise<DeliveryResult> {
    return await this.core.webhooks.deliver(
      await this.#build(item.webhook!, this.#body(item, type, code)),
    );
  }

  /** ITEM WEBHOOK_UPDATE_ACKNOWLEDGED, to the item's new URL. */
  acknowledgeUpdate(item: Item): void {
    if (!item.webhook) return;
    const body = {
      webhook_type: "ITEM",
      webhook_code: "WEBHOOK_UPDATE_ACKNOWLEDGED",
      item_id: item.itemId,
      error: null,
      new_webhook_url: item.webhook,
      environment: "sandbox",
    };
    this.core.webhooks.enqueueSoon(this.#build(item.webhook, body));
  }

  async #build(url: string, body: Record<string, unknown>): Promise<OutgoingWebhook> {
    const text = JSON.stringify(body);
    const jwt = await this.signer.sign(text, Math.floor(this.core.now() / 1000));
    return {
      provider: "plaid",
      url,
      body: text,
      headers: { "Plaid-Verification": jwt },
      event: `${body.webhook_type} ${body.webhook_code} ${body.item_id}`,
    };
  }

  // A HOLDINGS body reports the admin changes since the last one, so it resets the counts.
  #body(item: Item, type: string, code: string): Record<string, unknown> {
    const base = { webhook_type: type, webhook_code: code, item_id: item.itemId };
    const env = { environment: "sandbox" };
    if (type === "HOLDINGS") {
      const b = {
        ...base,
        error: null,
        new_holdings: item.newHoldings,
        updated_holdings: item.updatedHoldings,
        ...env,
      };
      item.newHoldings = 0;
      item.updatedHoldings = 0;
      return b;
    }
    if (type === "INVESTMENTS_TRANSACTIONS") {
      return {
        ...base,
        error: null,
        new_investments_transactions: 0,
        cancelled_investments_transactions: 0,
        ...env,
      };
    }
    if (type === "ITEM" && code === "ERROR") {
      return { ...base, error: item.error ?? loginRequired(), ...env };
    }
    if (type === "ITEM" && code === "PENDING_DISCONNECT") {
      return {
        ...base,
        reason: "INSTITUTION_TOKEN_EXPIRATION",
        disconnect_time: iso(this.core.now() + 7 * 86_400_000),
        ...env,
      };
    }
    if (type === "ITEM" && code === "NEW_ACCOUNTS_AVAILABLE") {
      return { ...base, error: null, ...env };
    }
    return { ...base, ...env };
  }
}
