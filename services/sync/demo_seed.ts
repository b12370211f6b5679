/**
 * Demo mode (PROVIDERS=sandbox only): the user demo@example.com / `meridian-demo` with two
 * SnapTrade connections (Questrade read-only, Robinhood trade-enabled), one Plaid and one
 * Alpaca connection, each connected through the real flows (portal and Hosted Link driven over
 * HTTP) and synced through the sync worker. Idempotent: connections that still work are kept
 * (and refreshed); ones the sandbox no longer knows (it forgot its state) are replaced, and
 * missing ones added.
 * @module
 */
import type { Provider } from "@meridian/proto";
import { publishSyncRequest } from "@meridian/portfolio";
import { hashPassword } from "@meridian/runtime";
import type { SyncDeps } from "./deps.ts";
import { SNAPTRADE_DEMO_CONNECTIONS } from "./providers/snaptrade/flows.ts";
import type { BrokerageProvider } from "./providers/types.ts";

export const DEMO_EMAIL = "demo@example.com";
export const DEMO_PASSWORD = "meridian-demo";

/** Creates (or finds) the demo user; owner when nobody owns the installation yet. */
export async function ensureDemoUser(deps: SyncDeps): Promise<string> {
  const [found] = await deps.sql<
    { id: string }[]
  >`select id from users where email = ${DEMO_EMAIL}`;
  if (found) return found.id;
  const hash = await hashPassword(DEMO_PASSWORD);
  const [owner] = await deps.sql`select 1 from users where role = 'owner'`;
  const role = owner ? "member" : "owner";
  try {
    const [row] = await deps.sql<{ id: string }[]>`
      insert into users (email, password_hash, role) values (${DEMO_EMAIL}, ${hash}, ${role})
      on conflict (email) do update set email = excluded.email returning id`;
    return row.id;
  } catch {
    // Someone became owner meanwhile (users_single_owner): join as a member.
    const [row] = await deps.sql<{ id: string }[]>`
      insert into users (email, password_hash, role) values (${DEMO_EMAIL}, ${hash}, 'member')
      on conflict (email) do update set email = excluded.email returning id`;
    return row.id;
  }
}

/**
 * The database's clock, which stamps sync runs: a run started after this moment answers the
 * request sent next (no allowance for skew between this process and the database needed, so a
 * run from a seeding a moment earlier is not taken for it).
 */
async function databaseNow(deps: SyncDeps): Promise<Date> {
  const [{ now }] = await deps.sql<{ now: Date }[]>`select now() as now`;
  return now;
}

/** Waits for a sync run of `connectionId` that started at or after `since` to finish. */
async function waitForSync(deps: SyncDeps, connectionId: string, since: Date, timeoutMs = 90_000) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const [r] = await deps.sql<{ status: string; error: string | null }[]>`
      select status, error from sync_runs where connection_id = ${connectionId}
        and started_at >= ${since} and status <> 'running' order by started_at desc limit 1`;
    if (r) return r;
    await new Promise((res) => setTimeout(res, 200));
  }
  return { status: "timeout", error: "no sync finished in time" };
}

/** One connection the demo user has. */
interface DemoConnection {
  /** Its name in {@link seedDemoOnce}'s answer: `snaptrade`, `snaptrade-trade`, `plaid`, `alpaca`. */
  key: string;
  /** The institution that tells it from the provider's other connections; null: the first. */
  institution: string | null;
  /** Connects it through the provider's real flow; the new connection's id. */
  connect(redirectUrl: string): Promise<string>;
}

/** The demo connections of `provider`: SnapTrade has two, the others one. */
function demoConnections(
  deps: SyncDeps,
  userId: string,
  provider: BrokerageProvider,
): DemoConnection[] {
  if (provider.key === "snaptrade") {
    return SNAPTRADE_DEMO_CONNECTIONS.map((demo) => ({
      key: demo.key,
      institution: demo.institution,
      connect: (redirect) => deps.providers.snaptrade.connectDemo(deps, userId, redirect, demo),
    }));
  }
  return [{
    key: provider.key,
    institution: null,
    connect: (redirect) => provider.connectDemo(deps, userId, redirect),
  }];
}

/** Seeds once; throws when the sandbox is not answering yet. */
export async function seedDemoOnce(
  deps: SyncDeps,
): Promise<{ userId: string; connections: Record<string, string> }> {
  const userId = await ensureDemoUser(deps);
  const connections: Record<string, string> = {};
  const redirect = `${deps.config.PUBLIC_URL.replace(/\/+$/, "")}/connections/done`;
  for (const provider of deps.providers.all()) {
    const p: Provider = provider.key;
    // A provider this server does not sync never finishes a sync to wait for.
    const skipWait = provider.syncDisabled(deps.config) !== null;
    const wanted = demoConnections(deps, userId, provider);
    const rows = await deps.sql<{ id: string; institution: string }[]>`
      select id, institution from connections where user_id = ${userId} and provider = ${p}
      order by created_at`;
    // Each demo connection is the oldest of the provider's connections to its institution.
    const found = new Map<DemoConnection, string>();
    for (const want of wanted) {
      const row = rows.find((r) =>
        ![...found.values()].includes(r.id) &&
        (want.institution === null || r.institution === want.institution)
      );
      if (row) found.set(want, row.id);
    }
    const missing = wanted.filter((w) => !found.has(w));
    if (found.size > 0) {
      const since = await databaseNow(deps);
      await publishSyncRequest(deps.js, {
        userId,
        provider: p,
        connectionIds: [...found.values()],
        reason: "stale",
      });
      const broken: string[] = [];
      for (const [want, id] of found) {
        const r = skipWait ? { status: "succeeded" } : await waitForSync(deps, id, since);
        if (r.status === "succeeded") connections[want.key] = id;
        else {
          broken.push(id);
          missing.push(want);
        }
      }
      if (broken.length > 0) {
        // It no longer works (the sandbox lost its state, or it broke): replace it.
        deps.log.info("demo connection no longer works; replacing it", {
          provider: p,
          connections: broken.length,
        });
        for (const id of broken) {
          await deps.sql`delete from connections where id = ${id} and user_id = ${userId}`;
        }
        // It forgot the user's registration too, where the provider keeps one (SnapTrade),
        // unless another of the provider's demo connections still works.
        if (broken.length === found.size) {
          await deps.sql`delete from provider_users where user_id = ${userId} and provider = ${p}`;
        }
      }
    }
    for (const want of wanted.filter((w) => missing.includes(w))) { // in their declared order
      const since = await databaseNow(deps);
      const id = await want.connect(redirect);
      connections[want.key] = id;
      if (!skipWait) {
        const r = await waitForSync(deps, id, since);
        if (r.status !== "succeeded") throw new Error(`demo ${want.key} sync ${r.status}`);
      }
    }
  }
  return { userId, connections };
}

/** Seeds demo mode, retrying until the sandbox answers or `signal` aborts. No-op in live mode. */
export async function seedDemo(deps: SyncDeps, signal?: AbortSignal): Promise<void> {
  // A sandbox in test mode belongs to the tests driving it.
  if (deps.config.PROVIDERS !== "sandbox" || deps.config.SANDBOX_MODE === "test") return;
  for (let delay = 500; !signal?.aborted; delay = Math.min(delay * 2, 10_000)) {
    try {
      const r = await seedDemoOnce(deps);
      deps.log.info("demo user ready", {
        email: DEMO_EMAIL,
        connections: Object.keys(r.connections),
      });
      return;
    } catch (e) {
      deps.log.warn("demo seeding failed; retrying", {
        error: e instanceof Error ? `${e.name}: ${e.message}` : String(e),
        retry_ms: delay,
      });
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}
