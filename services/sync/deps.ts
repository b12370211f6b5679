/**
 * What the sync worker and the connection flows need, injected as one object.
 * @module
 */
import type { Config, Keyring, Logger, Sql } from "@meridian/runtime";
import type { NatsConnection } from "@nats-io/transport-node";
import { jetstream, type JetStreamClient } from "@nats-io/jetstream";
import { ProviderRegistry } from "./providers/registry.ts";

/** Dependencies of the sync code. */
export interface SyncDeps {
  sql: Sql;
  nc: NatsConnection;
  js: JetStreamClient;
  keyring: Keyring;
  config: Config;
  log: Logger;
  /** Every provider, routed by key. */
  providers: ProviderRegistry;
}

/** Builds the dependencies from the pieces a service (or a test) has. */
export function createSyncDeps(
  parts: Omit<SyncDeps, "js" | "providers"> & Partial<Pick<SyncDeps, "js" | "providers">>,
): SyncDeps {
  return {
    ...parts,
    js: parts.js ?? jetstream(parts.nc),
    providers: parts.providers ?? new ProviderRegistry(parts.config),
  };
}
