/**
 * What the api's route areas share: its dependencies, the session helpers and the caches,
 * built once by `createApp` and handed to each area.
 * @module
 */
import type { Context } from "hono";
import type { JetStreamClient } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import type { Config, Logger, Sql } from "@meridian/runtime";
import type { HoldingsCache } from "./holdings_cache.ts";
import type { LoginThrottle, ThrottlePolicy } from "./login_throttle.ts";
import type { ConnectionsPort } from "./ports.ts";
import type { SessionStore, SessionUser } from "./sessions.ts";
import type { StreamHub } from "./stream.ts";
import type { QuoteBook } from "./live_quotes.ts";
import type { TradingDeps } from "@meridian/sync/trading";

/** Everything the app is built from. */
export interface ApiDeps {
  sql: Sql;
  js: JetStreamClient;
  nc?: NatsConnection;
  log: Logger;
  config:
    & Pick<Config, "PUBLIC_URL" | "ALLOW_SIGNUP" | "REFRESH_COOLDOWN_S" | "HOLDINGS_TTL_H">
    & Partial<Pick<Config, "FF_SNAPTRADE_TRADE_EXECUTION" | "TRUSTED_PROXIES">>;
  connections: ConnectionsPort;
  /** What the order flow needs but the live prices (the app has those); no trading without. */
  trading?: Omit<TradingDeps, "lastPrice">;
  /** The stream hub; created (and subscribed on `nc`) when absent. */
  hub?: StreamHub;
  /** Sign-in throttle numbers; the defaults of `login_throttle.ts` when absent. */
  throttle?: ThrottlePolicy;
  /** Whether NATS is connected now; requests that must publish answer 503 when it is not. */
  natsConnected?: () => boolean;
  /** Directory of the built dashboard; defaults to web/dist beside this repository. */
  webDist?: string;
  now?: () => Date;
}

/** The Hono environment of the api: the signed-in user, once the session is resolved. */
export type ApiEnv = { Variables: { user: SessionUser } };

/** What every route area is built from. */
export interface RouteContext {
  deps: ApiDeps;
  sql: Sql;
  log: Logger;
  config: ApiDeps["config"];
  now: () => Date;
  sessions: SessionStore;
  throttle: LoginThrottle;
  holdingsCache: HoldingsCache;
  hub: StreamHub;
  /** The live prices (KV `last_prices`), when NATS is there. */
  quotes?: QuoteBook;
  /** The client's address (behind TRUSTED_PROXIES only), or null when unknown. */
  clientAddress(c: Context): string | null;
  /** Whether cookies are Secure for this request. */
  secure(c: Context): boolean;
  /** Starts a session for `userId` (ending the one the browser had) and sets its cookie. */
  startSession(c: Context, userId: string): Promise<void>;
}
