/**
 * What the sync worker and the connection flows need, injected as one object.
 * @module
 */
import type { Config, Keyring, Logger, Sql } from "@meridian/runtime";
import type { NatsConnection } from "@nats-io/transport-node";
import { jetstream, type JetStreamClient } from "@nats-io/jetstream";
import { type Adapters, createAdapters } from "./providers/mod.ts";

/** Dependencies of the sync code. */
export interface SyncDeps {
  sql: Sql;
  nc: NatsConnection;
  js: JetStreamClient;
  keyring: Keyring;
  config: Config;
  log: Logger;
  adapters: Adapters;
}

/** Builds the dependencies from the pieces a service (or a test) has. */
export function createSyncDeps(
  parts: Omit<SyncDeps, "js" | "adapters"> & Partial<Pick<SyncDeps, "js" | "adapters">>,
): SyncDeps {
  return {
    ...parts,
    js: parts.js ?? jetstream(parts.nc),
    adapters: parts.adapters ?? createAdapters(parts.config),
  };
}

/** Feature flags of the sync area. */
export function flags(
  config: Pick<Config, "FF_SNAPTRADE_INVESTMENT_SYNC" | "FF_SNAPTRADE_TRADE_EXECUTION">,
) {
  return {
    /** SnapTrade investment sync; off → SnapTrade connections are skipped. */
    snaptradeInvestmentSync: config.FF_SNAPTRADE_INVESTMENT_SYNC,
    /** SnapTrade trading; off → connection flows offer read access only. */
    snaptradeTradeExecution: config.FF_SNAPTRADE_TRADE_EXECUTION,
  };
}
