/**
 * A request limit over a rolling window (a minute unless told otherwise), counted per key:
 * SnapTrade counts requests per client id and trades per account (one a second), Plaid per item
 * and route.
 * @module
 */

const MINUTE_MS = 60_000;

/** What {@link RollingLimit.take} decided. */
export interface LimitDecision {
  /** Whether the request was counted (false: the limit is reached). */
  allowed: boolean;
  /** Requests left in the window after this one (0 when refused). */
  remaining: number;
  /** Whole seconds (at least 1) until the oldest counted request leaves the window. */
  resetSeconds: number;
}

/** At most `limit` requests per key in any `windowMs` (default 60 s). */
export class RollingLimit {
  #hits = new Map<string, number[]>();

  constructor(readonly limit: number, readonly windowMs: number = MINUTE_MS) {}

  /** Counts a request under `key` at `now` (ms) unless the limit is already reached. */
  take(key: string, now: number): LimitDecision {
    const window = (this.#hits.get(key) ?? []).filter((t) => t > now - this.windowMs);
    this.#hits.set(key, window);
    const allowed = window.length < this.limit;
    if (allowed) window.push(now);
    return {
      allowed,
      remaining: allowed ? this.limit - window.length : 0,
      resetSeconds: Math.max(1, Math.ceil((window[0] + this.windowMs - now) / 1000)),
    };
  }
}
