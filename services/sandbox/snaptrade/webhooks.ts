/**
 * SnapTrade's webhooks: the fields every event carries, the connection and account fields, and
 * the signed body; sent to the one configured URL (none while it is unset).
 * @module
 */
import type { SandboxCore } from "../core.ts";
import { stableUuid } from "../prng.ts";
import {
  type DeliveryResult,
  type OutgoingWebhook,
  signSnapTradeWebhook,
  snapTradeTimestamp,
} from "../webhooks.ts";
import type { Account, Authorization, SnapTradeStore } from "./state.ts";

/** Fields naming a connection. */
export function connectionFields(a: Authorization) {
  return {
    brokerageId: stableUuid(`brokerage:${a.brokerage.slug}`),
    brokerageAuthorizationId: a.id,
  };
}

const OK = { success: true, error: null };

/** Fields naming an account; ACCOUNT_HOLDINGS_UPDATED also says what was synced. */
export function accountFields(a: Authorization, acct: Account, eventType: string) {
  return {
    ...connectionFields(a),
    accountId: acct.id,
    ...(eventType === "ACCOUNT_HOLDINGS_UPDATED"
      ? { details: { total_value: OK, positions: OK, balances: OK, orders: OK } }
      : {}),
  };
}

/** What the webhooks are signed and sent with. */
export interface SnapTradeWebhookOptions {
  clientId: string;
  consumerKey: string;
  /** Where webhooks go at first. */
  webhookUrl?: string;
  /** The deprecated `webhookSecret` put in every body (default: derived from the client id). */
  webhookSecret?: string;
}

/** Builds, signs and sends SnapTrade webhooks. */
export class SnapTradeWebhooks {
  /** Where webhooks go (SnapTrade's dashboard setting); none are sent while it is unset. */
  url: string | undefined;
  readonly #secret: string;

  constructor(
    private readonly core: SandboxCore,
    private readonly store: SnapTradeStore,
    private readonly opts: SnapTradeWebhookOptions,
  ) {
    this.url = opts.webhookUrl;
    this.#secret = opts.webhookSecret ?? `whsec_${stableUuid(`webhook-secret:${opts.clientId}`)}`;
  }

  /** Queues an event for delivery after `delayMs`, if a URL is set. */
  emit(eventType: string, userId: string, extra: Record<string, unknown>, delayMs = 0): void {
    if (!this.url) return;
    this.core.webhooks.enqueueSoon(this.#build(eventType, userId, extra), delayMs);
  }

  /** ACCOUNT_HOLDINGS_UPDATED for one account of connection `a`. */
  holdingsUpdated(a: Authorization, acct: Account, delayMs: number): void {
    const type = "ACCOUNT_HOLDINGS_UPDATED";
    this.emit(type, a.userId, accountFields(a, acct, type), delayMs);
  }

  /** ACCOUNT_HOLDINGS_UPDATED for every account of a connection, as when a sync ends. */
  connectionHoldingsUpdated(a: Authorization, delayMs: number): void {
    for (const acct of this.store.accountsOf(a.id)) this.holdingsUpdated(a, acct, delayMs);
  }

  /** Sends an event now and reports the receiver's answer; the caller checks a URL is set. */
  async deliver(
    eventType: string,
    userId: string,
    extra: Record<string, unknown>,
  ): Promise<DeliveryResult> {
    return await this.core.webhooks.deliver(await this.#build(eventType, userId, extra));
  }

  async #build(
    eventType: string,
    userId: string,
    extra: Record<string, unknown>,
  ): Promise<OutgoingWebhook> {
    const p = {
      webhookId: crypto.randomUUID(),
      clientId: this.opts.clientId,
      eventTimestamp: snapTradeTimestamp(this.core.now()),
      userId,
      eventType,
      webhookSecret: this.#secret,
      ...extra,
    };
    const { body, signature } = await signSnapTradeWebhook(p, this.opts.consumerKey);
    return {
      provider: "snaptrade",
      url: this.url!,
      body,
      headers: { Signature: signature },
      event: `${eventType} ${p.webhookId}`,
    };
  }
}
