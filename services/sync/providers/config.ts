/**
 * The configuration the providers read, and how much of the providers' shared budgets a flow a
 * person waits on may use. Where each provider lives and its own rate limit are in its folder.
 * @module
 */
import type { Config } from "@meridian/runtime";

/** The subset of the configuration the providers read. */
export type ProviderConfig = Pick<
  Config,
  | "PROVIDERS"
  | "SANDBOX_URL"
  | "SNAPTRADE_CLIENT_ID"
  | "SNAPTRADE_CONSUMER_KEY"
  | "SNAPTRADE_BASE_URL"
  | "PLAID_CLIENT_ID"
  | "PLAID_SECRET"
  | "PLAID_ENV"
  | "PLAID_BASE_URL"
  | "ALPACA_BASE_URL"
  | "FF_SNAPTRADE_INVESTMENT_SYNC"
  | "FF_SNAPTRADE_TRADE_EXECUTION"
>;

/**
 * What the connection flows, which a person waits on, may ask of the providers: they share
 * each provider's budget (its folder's limiter) with background syncs, so one person must not use them up, and nobody
 * should wait long for a slot.
 */
export const INTERACTIVE = {
  /**
   * Connection-flow steps (portal, link token, completion, key check, removal) per user in
   * any rolling minute. Connecting a brokerage takes two, so 20 leaves room to connect several
   * and retry, while a step usually makes one to three provider calls, so one person alone
   * cannot spend Plaid's 100 a minute.
   */
  perUser: { limit: 20, windowMs: 60_000 },
  /**
   * The longest a flow waits for a slot of a shared budget (or a provider's Retry-After);
   * beyond it the flow fails at once with Retry-After (the api answers 503).
   */
  maxWaitMs: 2_000,
} as const;

/**
 * `provider` for a flow a person waits on: the same provider (client, overrides), but its
 * calls wait at most {@link INTERACTIVE}.maxWaitMs for the shared budget.
 */
export function interactiveView<T extends { readonly maxWaitMs?: number }>(provider: T): T {
  // A view rather than a copy, so subclasses and their clients are kept.
  return Object.create(provider, { maxWaitMs: { value: INTERACTIVE.maxWaitMs } });
}
