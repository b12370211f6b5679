/**
 * Pure parts of a refresh: which connections need one, and cooldown arithmetic.
 * @module
 */
import type { Provider } from "@meridian/proto";

/** A connection as refresh planning sees it. */
export interface RefreshCandidate {
  id: string;
  provider: Provider;
  status: "active" | "error" | "disabled";
  last_synced_at: Date | null;
  pending: boolean;
}

/** True when the connection was never synced or its data is older than `ttlH` hours. */
export function isStale(lastSyncedAt: Date | null, ttlH: number, now: Date): boolean {
  return lastSyncedAt === null || now.getTime() - lastSyncedAt.getTime() > ttlH * 3_600_000;
}

/**
 * The connections to refresh: the named ones (all of them, whatever their state), or else
 * the active ones that are flagged or stale. Disabled and broken connections are not picked
 * automatically: a provider call cannot succeed until the person reconnects them.
 */
export function pickConnections(
  candidates: RefreshCandidate[],
  opts: { connectionIds?: string[]; ttlH: number; now: Date },
): RefreshCandidate[] {
  if (opts.connectionIds) {
    const wanted = new Set(opts.connectionIds);
    return candidates.filter((c) => wanted.has(c.id) && c.status !== "disabled");
  }
  return candidates.filter((c) =>
    c.status === "active" && (c.pending || isStale(c.last_synced_at, opts.ttlH, opts.now))
  );
}

/** Groups connections by provider, providers in a fixed order. */
export function byProvider<T extends { provider: Provider }>(items: T[]): Map<Provider, T[]> {
  const out = new Map<Provider, T[]>();
  for (const p of ["snaptrade", "plaid", "alpaca"] as const) {
    const mine = items.filter((i) => i.provider === p);
    if (mine.length) out.set(p, mine);
  }
  return out;
}

/**
 * Seconds until a refresh may be requested again (0 when it may be now). Rounded up, so a
 * client that waits `Retry-After` seconds is never refused again.
 */
export function retryAfterS(lastRequestedAt: Date | null, cooldownS: number, now: Date): number {
  if (lastRequestedAt === null || cooldownS <= 0) return 0;
  const remainingMs = lastRequestedAt.getTime() + cooldownS * 1000 - now.getTime();
  if (remainingMs <= 0) return 0;
  return Math.min(Math.ceil(remainingMs / 1000), cooldownS);
}
