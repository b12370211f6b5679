/**
 * The market-data integration environment: a throwaway NATS and PostgreSQL, the sandbox over
 * real HTTP and WebSocket, and the `symbols`, `prices` and `valuation` services started as
 * processes.
 * @module
 */
import { Kvm } from "@nats-io/kv";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import {
  buckets,
  decode,
  kvKeys,
  LastPrice,
  PriceTick,
  subjects,
  SymbolAssignment,
} from "@meridian/proto";
import { provisionAll, type Sql } from "@meridian/runtime";
import {
  type ServiceProcess,
  startNats,
  startServiceProcess,
  type TestDatabase,
  testDatabase,
  type TestNats,
} from "@meridian/runtime/testing";
import { startSandbox } from "../../sandbox/mod.ts";
import { sandboxAdmin } from "../../sandbox/test_support.ts";

const PRICES_MAIN = new URL("../main.ts", import.meta.url);
const SYMBOLS_MAIN = new URL("../../symbols/main.ts", import.meta.url);
const VALUATION_MAIN = new URL("../../valuation/main.ts", import.meta.url);

/** The test environment. */
export interface MarketEnv {
  nats: TestNats;
  nc: NatsConnection;
  db: TestDatabase;
  sandboxUrl: string;
  processes: ServiceProcess[];
  /** Starts a `prices` instance; `env` overrides the defaults (iex, every demo data key). */
  prices(env?: Record<string, string>): ServiceProcess;
  symbols(env?: Record<string, string>): ServiceProcess;
  valuation(env?: Record<string, string>): ServiceProcess;
  /** Every KV assignment, by key. */
  assignments(): Promise<Map<string, SymbolAssignment>>;
  /** The last price of each symbol in KV. */
  lastPrices(): Promise<Map<string, LastPrice>>;
  /** Records every tick published; `ticks()` returns them so far. */
  recordTicks(): { ticks(): PriceTick[]; stop(): void };
  /** Gives a new user positions in these stocks (US equities), through the tables sync writes. */
  hold(symbols: readonly string[], kind?: string): Promise<string>;
  admin(path: string, body?: unknown): Promise<unknown>;
  close(): Promise<void>;
}

/** Starts NATS, PostgreSQL and the sandbox (Alpaca trades every `tradeIntervalMs`). */
export async function startMarketEnv(opts: { tradeIntervalMs?: number } = {}): Promise<MarketEnv> {
  const db = await testDatabase();
  const nats = await startNats();
  const sandbox = await startSandbox({
    port: 0,
    mode: "test",
    snaptrade: { clientId: "MERIDIAN-TEST", consumerKey: "test-consumer-key-0123456789" },
    plaid: { clientId: "meridian-test", secret: "test-plaid-secret-0123456789" },
    alpaca: { tradeIntervalMs: opts.tradeIntervalMs ?? 500 },
    log: () => {},
  });
  const nc = await connect({
    servers: nats.url.replace("nats://", ""),
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
  });
  await provisionAll({ nc });
  const kvm = new Kvm(nc);
  const processes: ServiceProcess[] = [];
  const base = {
    PROVIDERS: "sandbox",
    SANDBOX_URL: sandbox.url,
    NATS_URL: nats.url,
    DATABASE_URL: db.url,
    ALPACA_FEED: "iex",
    LOG_LEVEL: "info",
  };
  const env: MarketEnv = {
    nats,
    nc,
    db,
    sandboxUrl: sandbox.url,
    processes,
    prices(extra = {}) {
      const p = startServiceProcess(PRICES_MAIN, { ...base, ...extra });
      processes.push(p);
      return p;
    },
    symbols(extra = {}) {
      const p = startServiceProcess(SYMBOLS_MAIN, { ...base, ...extra });
      processes.push(p);
      return p;
    },
    valuation(extra = {}) {
      const p = startServiceProcess(VALUATION_MAIN, { ...base, ...extra });
      processes.push(p);
      return p;
    },
    async assignments() {
      const kv = await kvm.open(buckets.symbolAssignments.name);
      const out = new Map<string, SymbolAssignment>();
      for await (const key of await kv.keys()) {
        const e = await kv.get(key);
        if (e?.operation === "PUT") out.set(key, decode(SymbolAssignment, e.value));
      }
      return out;
    },
    async lastPrices() {
      const kv = await kvm.open(buckets.lastPrices.name);
      const out = new Map<string, LastPrice>();
      for await (const key of await kv.keys()) {
        const e = await kv.get(key);
        if (e?.operation === "PUT") {
          const p = decode(LastPrice, e.value);
          out.set(p.symbol, p);
        }
      }
      return out;
    },
    recordTicks() {
      const seen: PriceTick[] = [];
      const sub = nc.subscribe(subjects.priceAll, {
        callback: (_e, m) => void seen.push(decode(PriceTick, m.data)),
      });
      return { ticks: () => seen, stop: () => sub.unsubscribe() };
    },
    hold: (symbols, kind) => holdStocks(db.sql, symbols, kind),
    admin: (path, body) => sandboxAdmin(sandbox.url, path, body),
    async close() {
      await Promise.all(processes.map((p) => p.kill("SIGKILL")));
      await nc.close().catch(() => {});
      await sandbox.close();
      await nats.close();
      await db.close();
    },
  };
  return env;
}

/**
 * Gives a new user positions in these stocks (10 each, US equities by default) through the
 * tables sync writes; the user's id.
 */
export async function holdStocks(
  sql: Sql,
  symbols: readonly string[],
  kind = "equity",
): Promise<string> {
  return await sql.begin(async (tx) => {
    const [u] = await tx<{ id: string }[]>`
      insert into users (email, password_hash)
      values (${`u${crypto.randomUUID().slice(0, 8)}@example.com`}, ${"x".repeat(40)})
      returning id`;
    const [c] = await tx<{ id: string }[]>`
      insert into connections (user_id, provider, external_id, institution)
      values (${u.id}, 'snaptrade', ${crypto.randomUUID()}, 'Test Brokerage') returning id`;
    const [a] = await tx<{ id: string }[]>`
      insert into accounts (user_id, connection_id, provider, external_id, name, type, currency, synced_at)
      values (${u.id}, ${c.id}, 'snaptrade', 'acct-1', 'Brokerage', 'brokerage', 'USD', now())
      returning id`;
    for (const symbol of symbols) {
      const [i] = await tx<{ id: string }[]>`
        insert into instruments (kind, symbol, currency) values (${kind}, ${symbol}, 'USD')
        on conflict (symbol, currency) do update set kind = excluded.kind returning id`;
      await tx`
        insert into positions (user_id, account_id, connection_id, provider, symbol,
          security_type, quantity, currency, synced_at, instrument_id, unresolved_reason)
        values (${u.id}, ${a.id}, ${c.id}, 'snaptrade', ${symbol},
          ${kind === "fund" ? "mutual_fund" : kind}, 10, 'USD', now(), ${i.id}, null)`;
    }
    return u.id;
  });
}

/** The KV key of a shard's assignment. */
export const shardKey = kvKeys.shardAssignment;
