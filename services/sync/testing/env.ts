/**
 * A complete environment for sync integration tests: real PostgreSQL, real NATS with the
 * contract's streams, the sandbox over real HTTP, the real SDKs, and a running worker.
 * @module
 */
import {
  connectNats,
  createLogger,
  Keyring,
  parseConfig,
  provisionAll,
  setLogSink,
} from "@meridian/runtime";
import { eventually, startNats, testDatabase } from "@meridian/runtime/testing";
import { startSandbox } from "../../sandbox/mod.ts";
import { DEMO_ALPACA_DATA_KEYS } from "../../sandbox/alpaca/data_keys.ts";
import { sandboxAdmin } from "../../sandbox/test_support.ts";
import { createSyncDeps, type SyncDeps } from "../deps.ts";
import { SyncWorker } from "../worker.ts";

export const SNAPTRADE_CLIENT_ID = "MERIDIAN-TEST";
export const SNAPTRADE_CONSUMER_KEY = "test-consumer-key-0123456789";
export const PLAID_CLIENT_ID = "meridian-test";
export const PLAID_SECRET = "test-plaid-secret-0123456789";

/** A running test environment. */
export interface SyncEnv {
  deps: SyncDeps;
  worker: SyncWorker;
  sandboxUrl: string;
  keyringSpec: string;
  logs: string[];
  admin(path: string, body?: unknown): Promise<unknown>;
  /** Creates a user and returns its id. */
  user(email?: string): Promise<string>;
  close(): Promise<void>;
}

/** Starts everything; `env` overrides configuration variables. */
export async function startSyncEnv(
  env: Record<string, string> = {},
  opts: { worker?: boolean; rateLimitPerMinute?: number } = {},
): Promise<SyncEnv> {
  const logs: string[] = [];
  const previousSink = setLogSink((line) => logs.push(line));
  const db = await testDatabase();
  const nats = await startNats();
  const sandbox = await startSandbox({
    port: 0,
    mode: "test",
    snaptrade: {
      clientId: SNAPTRADE_CLIENT_ID,
      consumerKey: SNAPTRADE_CONSUMER_KEY,
      rateLimitPerMinute: opts.rateLimitPerMinute,
    },
    plaid: { clientId: PLAID_CLIENT_ID, secret: PLAID_SECRET },
    log: () => {},
  });
  const keyringSpec = Keyring.generateSpec("k1");
  const config = parseConfig({
    PROVIDERS: "sandbox",
    SANDBOX_URL: sandbox.url,
    NATS_URL: nats.url,
    DATABASE_URL: db.url,
    SNAPTRADE_CLIENT_ID,
    SNAPTRADE_CONSUMER_KEY,
    PLAID_CLIENT_ID,
    PLAID_SECRET,
    SECRETS_KEYRING: keyringSpec,
    LOG_LEVEL: "debug",
    ...env,
  });
  const log = createLogger("sync", "debug");
  const handle = await connectNats({ url: nats.url, name: "sync-test", log });
  await provisionAll(handle);
  const deps = createSyncDeps({
    sql: db.sql,
    nc: handle.nc,
    keyring: await Keyring.parse(keyringSpec),
    config,
    log,
  });
  const worker = new SyncWorker(deps);
  if (opts.worker !== false) await worker.start();
  return {
    deps,
    worker,
    sandboxUrl: sandbox.url,
    keyringSpec,
    logs,
    admin: (path, body) => sandboxAdmin(sandbox.url, path, body),
    async user(email) {
      const [u] = await db.sql<{ id: string }[]>`
        insert into users (email, password_hash)
        values (${email ?? `u${crypto.randomUUID().slice(0, 8)}@example.com`}, ${"x".repeat(40)})
        returning id`;
      return u.id;
    },
    async close() {
      await worker.stop();
      await handle.nc.drain().catch(() => {});
      await sandbox.close();
      await nats.close();
      await db.close();
      setLogSink(previousSink);
    },
  };
}

/** Every stored row of one connection, in a stable order, to compare before and after. */
export async function connectionRows(env: SyncEnv, connectionId: string) {
  const sql = env.deps.sql;
  return {
    accounts: await sql`select * from accounts where connection_id = ${connectionId} order by id`,
    positions: await sql`select * from positions where connection_id = ${connectionId} order by id`,
    balances: await sql`select b.* from balances b join accounts a on a.id = b.account_id
      where a.connection_id = ${connectionId} order by b.account_id, b.currency`,
    transactions:
      await sql`select * from transactions where connection_id = ${connectionId} order by id`,
  };
}

/** The connection's sync runs, oldest first. */
export async function runs(env: SyncEnv, connectionId: string) {
  return await env.deps.sql<
    { id: string; status: string; error: string | null; provider_calls: number; calls: unknown[] }[]
  >`
    select id, status, error, provider_calls, calls from sync_runs where connection_id = ${connectionId}
    order by started_at`;
}

/** Waits until the connection has at least `n` finished runs; them. */
export async function settled(env: SyncEnv, connectionId: string, n: number) {
  return await eventually(async () => {
    const r = (await runs(env, connectionId)).filter((x) => x.status !== "running");
    return r.length >= n ? r : null;
  }, { what: `${n} finished sync runs of ${connectionId}` });
}

/**
 * The environment a service started as a process (symbols, prices, valuation) gets to join
 * `env`: the sandbox's providers, the same NATS and PostgreSQL, the first demo market-data key.
 */
export function serviceProcessEnv(
  env: SyncEnv,
  extra: Record<string, string> = {},
): Record<string, string> {
  const c = env.deps.config;
  const [key] = DEMO_ALPACA_DATA_KEYS;
  return {
    PROVIDERS: "sandbox",
    SANDBOX_URL: env.sandboxUrl,
    NATS_URL: c.NATS_URL,
    DATABASE_URL: c.DATABASE_URL,
    ALPACA_DATA_KEYS: `${key.keyId}:${key.secret}`,
    LOG_LEVEL: "info",
    ...extra,
  };
}
