/**
 * Alpaca's official SDK (`@alpacahq/alpaca-trade-api`, its per-API classes): where it lives
 * (the sandbox's mount, an override, or Alpaca's paper or live host), how fast we may call it,
 * and which of its failures mean the person must reconnect. The SDK's own retry and limiter
 * stay off: our wrapper does both, per account.
 * @module
 */
import { trading } from "@alpacahq/alpaca-trade-api";
import type { ErrorFacts } from "../call.ts";
import type { ProviderConfig } from "../config.ts";
import { type RateLimiter, sharedLimiter } from "../rate_limit.ts";

/** Alpaca's trading base path for a connection (paper or live account). */
export function alpacaBasePath(c: ProviderConfig, paper: boolean): string {
  if (c.ALPACA_BASE_URL) return c.ALPACA_BASE_URL.replace(/\/+$/, "");
  if (c.PROVIDERS === "sandbox") return `${c.SANDBOX_URL.replace(/\/+$/, "")}/alpaca`;
  return paper ? trading.TRADING_PAPER_HOST : trading.TRADING_LIVE_HOST;
}

/** The SDK's API classes for one key pair. */
export function alpacaApis(c: ProviderConfig, keyId: string, secret: string, paper: boolean) {
  const cfg = new trading.Configuration({
    basePath: alpacaBasePath(c, paper),
    keyId,
    secret,
    paper,
  });
  return {
    accounts: new trading.AccountsApi(cfg),
    positions: new trading.PositionsApi(cfg),
    activities: new trading.AccountActivitiesApi(cfg),
    orders: new trading.OrdersApi(cfg),
    assets: new trading.AssetsApi(cfg),
  };
}

/**
 * Alpaca: 200 requests per minute per account (key). Alpaca resets on fixed minutes, so a
 * sliding window over 60 s plus slack is always within it.
 */
const ALPACA_LIMIT = { limit: 200, windowMs: 61_000 } as const;

/** The process-wide limiter of one Alpaca account (key id). */
export function alpacaLimiter(keyId: string): RateLimiter {
  return sharedLimiter(`alpaca:${keyId}`, ALPACA_LIMIT.limit, ALPACA_LIMIT.windowMs);
}

/** Whether an Alpaca failure means the person must reconnect (key revoked or wrong). */
export function isAlpacaAuthFailure(f: ErrorFacts): boolean {
  return f.status === 401 || f.status === 403;
}
