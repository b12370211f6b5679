/**
 * The SnapTrade imitation: the REST API the official SDK calls (signed requests, per-client
 * rate limit, SnapTrade's error bodies), the connection portal, and signed webhooks.
 * Mounted by `../mod.ts` at `/snaptrade` and `/snaptrade/api/v1`; paths here are relative.
 * See `../README.md` (SnapTrade) for the routes and rules.
 * @module
 */
import type { Hono } from "hono";
import type { SandboxCore } from "../core.ts";
import { RollingLimit } from "../rolling_limit.ts";
import { Timers } from "../timers.ts";
import { type SnapTradeAdmin, snapTradeAdmin } from "./admin.ts";
import { snapTradePortal } from "./portal.ts";
import { snapTradeRest } from "./rest.ts";
import { type SnapTradeState, SnapTradeStore, TRADE_INTERVAL_MS } from "./state.ts";
import { SnapTradeWebhooks } from "./webhooks.ts";

export type { SnapTradeAdmin } from "./admin.ts";
export { SIGNATURE_ERROR, snapTradeRequestSignature } from "./signature.ts";
export type { SnapTradeState } from "./state.ts";

/** SnapTrade credentials and behaviour of the imitation. */
export interface SnapTradeOptions {
  clientId: string;
  consumerKey: string;
  /** Where webhooks go (SnapTrade's dashboard setting); none are sent without it. */
  webhookUrl?: string;
  /**
   * The deprecated `webhookSecret` SnapTrade still puts in every webhook body (default: one
   * derived from the client id).
   */
  webhookSecret?: string;
  /** Requests per rolling minute per clientId (SnapTrade: 250). */
  rateLimitPerMinute?: number;
  /** Minimum time between two refreshes of one connection (default 60 s). */
  refreshCooldownMs?: number;
}

/** The SnapTrade imitation and its admin hooks. */
export interface SnapTradeSandbox {
  /** Signed REST API; paths relative to the mount. */
  api: Hono;
  /** Connection portal pages; paths relative to `/snaptrade`. */
  portal: Hono;
  admin: SnapTradeAdmin;
  /** What SnapTrade would keep (users, connections, accounts, orders, portal links, trades). */
  snapshot(): SnapTradeState;
  /** Cancels pending order executions. */
  close(): void;
}

/**
 * Builds the SnapTrade imitation, starting from `saved` when given (throws if it is malformed).
 * `onChange` hears of changes made outside a request (an order executing), for the state file.
 */
export function createSnapTrade(
  core: SandboxCore,
  opts: SnapTradeOptions,
  saved?: SnapTradeState,
  onChange: () => void = () => {},
): SnapTradeSandbox {
  const store = new SnapTradeStore(saved);
  const hooks = new SnapTradeWebhooks(core, store, opts);
  const timers = new Timers();
  const deps = { core, store, hooks };
  return {
    api: snapTradeRest({
      ...deps,
      clientId: opts.clientId,
      consumerKey: opts.consumerKey,
      limit: new RollingLimit(opts.rateLimitPerMinute ?? 250),
      refreshCooldownMs: opts.refreshCooldownMs ?? 60_000,
      tradeLimit: new RollingLimit(1, TRADE_INTERVAL_MS),
      timers,
      changed: onChange,
    }),
    portal: snapTradePortal(deps),
    admin: snapTradeAdmin(deps),
    snapshot: () => store.snapshot(),
    close: () => timers.close(),
  };
}
