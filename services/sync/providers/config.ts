/**
 * Where each provider lives and how fast we may call it. Sandbox and live differ only here:
 * base URLs and keys.
 * @module
 */
import type { Config } from "@meridian/runtime";
import { PlaidEnvironments } from "plaid";
import { trading } from "@alpacahq/alpaca-trade-api";
import { type RateLimiter, sharedLimiter } from "./rate_limit.ts";

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

/** SnapTrade's base path: the sandbox's mount, an override, or the SDK default (live). */
export function snaptradeBasePath(c: ProviderConfig): string | undefined {
  if (c.SNAPTRADE_BASE_URL) return c.SNAPTRADE_BASE_URL.replace(/\/+$/, "");
  return c.PROVIDERS === "sandbox"
    ? `${c.SANDBOX_URL.replace(/\/+$/, "")}/snaptrade/api/v1`
    : undefined;
}

/** Plaid's base path. */
export function plaidBasePath(c: ProviderConfig): string {
  if (c.PLAID_BASE_URL) return c.PLAID_BASE_URL.replace(/\/+$/, "");
  if (c.PROVIDERS === "sandbox") return `${c.SANDBOX_URL.replace(/\/+$/, "")}/plaid`;
  return PlaidEnvironments[c.PLAID_ENV];
}

/** Alpaca's trading base path for a connection (paper or live account). */
export function alpacaBasePath(c: ProviderConfig, paper: boolean): string {
  if (c.ALPACA_BASE_URL) return c.ALPACA_BASE_URL.replace(/\/+$/, "");
  if (c.PROVIDERS === "sandbox") return `${c.SANDBOX_URL.replace(/\/+$/, "")}/alpaca`;
  return paper ? trading.TRADING_PAPER_HOST : trading.TRADING_LIVE_HOST;
}

/** Published limits, and what we allow ourselves under them. */
export const LIMITS = {
  /** SnapTrade: 250 requests per rolling minute per clientId. A second of slack absorbs
   * the gap between when we send and when the server counts. */
  snaptrade: { limit: 250, windowMs: 61_000 },
  /** Alpaca: 200 requests per minute per account (key); Alpaca resets on fixed minutes, so
   * a sliding window over 60 s plus slack is always within it. */
  alpaca: { limit: 200, windowMs: 61_000 },
  /** Plaid publishes per-endpoint, per-item limits; stay conservative. */
  plaid: { limit: 100, windowMs: 60_000 },
} as const;

/**
 * What the connection flows, which a person waits on, may ask of the providers: they share
 * the budgets above with background syncs, so one person must not use them up, and nobody
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
 * `adapter` for a flow a person waits on: the same adapter (client, overrides), but its
 * calls wait at most {@link INTERACTIVE}.maxWaitMs for the shared budget.
 */
export function interactiveView<T extends { readonly maxWaitMs?: number }>(adapter: T): T {
  // A view rather than a copy, so subclasses and their clients are kept.
  return Object.create(adapter, { maxWaitMs: { value: INTERACTIVE.maxWaitMs } });
}

/** The process-wide limiter of SnapTrade for this client id. */
export function snaptradeLimiter(c: ProviderConfig): RateLimiter {
  return sharedLimiter(
    `snaptrade:${c.SNAPTRADE_CLIENT_ID}`,
    LIMITS.snaptrade.limit,
    LIMITS.snaptrade.windowMs,
  );
}
/** The process-wide limiter of Plaid for this client id. */
export function plaidLimiter(c: ProviderConfig): RateLimiter {
  return sharedLimiter(`plaid:${c.PLAID_CLIENT_ID}`, LIMITS.plaid.limit, LIMITS.plaid.windowMs);
}
/** The process-wide limiter of one Alpaca account (key id). */
export function alpacaLimiter(keyId: string): RateLimiter {
  return sharedLimiter(`alpaca:${keyId}`, LIMITS.alpaca.limit, LIMITS.alpaca.windowMs);
}
