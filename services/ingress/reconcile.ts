/**
 * Reconciliation: a missed webhook must not leave data stale for ever. Periodically requests a
 * sync (reason "stale") for active connections older than the holdings TTL.
 * @module
 */
import type { JetStreamClient } from "@nats-io/jetstream";
import type { Provider } from "@meridian/proto";
import type { Logger, Sql } from "@meridian/runtime";
import { publishSyncRequest } from "@meridian/portfolio";

/** One pass; returns the requests published. */
export async function reconcileOnce(
  deps: { sql: Sql; js: JetStreamClient },
  opts: { ttlH: number; intervalS: number; now?: Date },
): Promise<{ userId: string; provider: Provider; connectionIds: string[] }[]> {
  const now = opts.now ?? new Date();
  const staleBefore = new Date(now.getTime() - opts.ttlH * 3_600_000);
  const recent = new Date(now.getTime() - opts.intervalS * 1000);
  // A connection with a sync started within the last interval is already being looked after.
  const rows = await deps.sql<{ id: string; user_id: string; provider: Provider }[]>`
    select c.id, c.user_id, c.provider from connections c
     where c.status = 'active'
       and (c.last_synced_at is null or c.last_synced_at < ${staleBefore})
       and not exists (select 1 from sync_runs r
                        where r.connection_id = c.id and r.started_at > ${recent})
     order by c.user_id, c.provider, c.id`;
  const groups = new Map<string, { userId: string; provider: Provider; connectionIds: string[] }>();
  for (const r of rows) {
    const key = `${r.user_id}/${r.provider}`;
    const g = groups.get(key) ?? { userId: r.user_id, provider: r.provider, connectionIds: [] };
    g.connectionIds.push(r.id);
    groups.set(key, g);
  }
  for (const g of groups.values()) {
    await publishSyncRequest(deps.js, { ...g, reason: "stale", now });
  }
  return [...groups.values()];
}

/** Runs {@link reconcileOnce} every `intervalS` until `signal` aborts. */
export function startReconciler(
  deps: { sql: Sql; js: JetStreamClient; log: Logger },
  opts: { ttlH: number; intervalS: number },
  signal: AbortSignal,
): void {
  const tick = async () => {
    try {
      const done = await reconcileOnce(deps, opts);
      if (done.length) {
        deps.log.info("stale connections: sync requested", {
          requests: done.length,
          connections: done.reduce((n, g) => n + g.connectionIds.length, 0),
        });
      }
    } catch (e) {
      deps.log.warn("reconciliation failed", { error: e });
    }
  };
  const timer = setInterval(tick, opts.intervalS * 1000);
  signal.addEventListener("abort", () => clearInterval(timer), { once: true });
}
