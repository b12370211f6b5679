/**
 * A request limit over a rolling minute, counted per key: SnapTrade counts per client id, Plaid
 * per item and route.
 * @module
 */

const WINDOW_MS = 60_000;

/** What {@link RollingLimit.take} decided. */
export interface LimitDecision {
  /** Whether the request was counted (false: the limit is reached). */
  allowed: boolean;
  /** Requests left in the window after this one (0 when refused). */
  remaining: number;
  /** Whole seconds (at least 1) until the oldest counted request leaves the window. */
  resetSeconds: number;
}

/** At most `limit` requests per key in any 60 s. */
export class RollingLimit {
  #hits = new Map<string, number[]>();

  constructor(readonly limit: number) {}

  /** Counts a request under `key` at `now` (ms) unless the limit is already reached. */
  take(key: string, now: number): LimitDecision {
    const window = (this.#hits.get(key) ?? []).filter((t) => t > now - WINDOW_MS);
    this.#hits.set(key, window);
    const allowed = window.length < this.limit;
    if (allowed) window.push(now);
    return {
      allowed,
      remaining: allowed ? this.limit - window.length : 0,
      resetSeconds: Math.max(1, Math.ceil((window[0] + WINDOW_MS - now) / 1000)),
    };
  }
}
