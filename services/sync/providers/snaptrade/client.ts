/**
 * SnapTrade's official SDK (`snaptrade-typescript-sdk`): where it lives (the sandbox's mount, an
 * override, or live), how fast we may call it, and which of its failures mean the person must
 * reconnect.
 * @module
 */
import { type CommercialApiKeyAuth, Snaptrade, SnaptradeAuth } from "snaptrade-typescript-sdk";
import type { ErrorFacts } from "../call.ts";
import type { ProviderConfig } from "../config.ts";
import { type RateLimiter, sharedLimiter } from "../rate_limit.ts";

/** The SDK client type we use (commercial keys). */
export type SnaptradeClient = Snaptrade<CommercialApiKeyAuth>;

/** SnapTrade's base path: the sandbox's mount, an override, or the SDK default (live). */
export function snaptradeBasePath(c: ProviderConfig): string | undefined {
  if (c.SNAPTRADE_BASE_URL) return c.SNAPTRADE_BASE_URL.replace(/\/+$/, "");
  return c.PROVIDERS === "sandbox"
    ? `${c.SANDBOX_URL.replace(/\/+$/, "")}/snaptrade/api/v1`
    : undefined;
}

/** The SDK client for this configuration. */
export function snaptradeClient(c: ProviderConfig): SnaptradeClient {
  const basePath = snaptradeBasePath(c);
  return new Snaptrade({
    auth: SnaptradeAuth.commercialApiKey({
      clientId: c.SNAPTRADE_CLIENT_ID,
      consumerKey: c.SNAPTRADE_CONSUMER_KEY,
    }),
    ...(basePath ? { basePath } : {}),
  });
}

/**
 * SnapTrade's published limit: 250 requests per rolling minute per clientId. A second of slack
 * absorbs the gap between when we send and when the server counts.
 */
export const SNAPTRADE_LIMIT = { limit: 250, windowMs: 61_000 } as const;

/** The process-wide limiter of SnapTrade for this client id. */
export function snaptradeLimiter(c: ProviderConfig): RateLimiter {
  return sharedLimiter(
    `snaptrade:${c.SNAPTRADE_CLIENT_ID}`,
    SNAPTRADE_LIMIT.limit,
    SNAPTRADE_LIMIT.windowMs,
  );
}

/** Whether a SnapTrade failure means the person must reconnect (login expired or revoked). */
export function isSnaptradeAuthFailure(f: ErrorFacts): boolean {
  return f.status === 401 || f.code === "3003" || f.status === 402;
}
