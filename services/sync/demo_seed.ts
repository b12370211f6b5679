/**
 * Demo mode (PROVIDERS=sandbox only): the user demo@example.com / `meridian-demo` with one
 * SnapTrade, one Plaid and one Alpaca connection, each connected through the real flows
 * (portal and Hosted Link driven over HTTP) and synced through the sync worker. Idempotent:
 * connections that still work are kept (and refreshed); ones the sandbox no longer knows
 * (it keeps its state in memory) are replaced.
 * @module
 */
import type { Provider } from "@meridian/proto";
import { publishSyncRequest } from "@meridian/portfolio";
import { hashPassword } from "@meridian/runtime";
import type { SyncDeps } from "./deps.ts";

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

/** Seeds once; throws when the sandbox is not answering yet. */
export async function seedDemoOnce(
  deps: SyncDeps,
): Promise<{ userId: string; connections: Record<Provider, string> }> {
  const userId = await ensureDemoUser(deps);
  const connections = {} as Record<Provider, string>;
  const redirect = `${deps.config.PUBLIC_URL.replace(/\/+$/, "")}/connections/done`;
  for (const provider of deps.providers.all()) {
    const p = provider.key;
    // A provider this server does not sync never finishes a sync to wait for.
    const skipWait = provider.syncDisabled(deps.config) !== null;
    const [existing] = await deps.sql<{ id: string }[]>`
      select id from connections where user_id = ${userId} and provider = ${p}
      order by created_at limit 1`;
    if (existing) {
      const since = new Date(Date.now() - 1000);
      await publishSyncRequest(deps.js, {
        userId,
        provider: p,
        connectionIds: [existing.id],
        reason: "stale",
      });
      const r = skipWait ? { status: "succeeded" } : await waitForSync(deps, existing.id, since);
      if (r.status === "succeeded") {
        connections[p] = existing.id;
        continue;
      }
      // The sandbox forgot it (restarted): replace the connection.
      deps.log.info("demo connection no longer works; replacing it", { provider: p });
      await deps.sql`delete from connections where id = ${existing.id} and user_id = ${userId}`;
      // It forgot the user's registration too, where the provider keeps one (SnapTrade).
      await deps.sql`delete from provider_users where user_id = ${userId} and provider = ${p}`;
    }
    const since = new Date(Date.now() - 1000);
    const id = await provider.connectDemo(deps, userId, redirect);
    connections[p] = id;
    if (!skipWait) {
      const r = await waitForSync(deps, id, since);
      if (r.status !== "succeeded") throw new Error(`demo ${p} sync ${r.status}`);
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
