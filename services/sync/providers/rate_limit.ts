/**
 * A client-side sliding-window rate limiter: at most `limit` grants in any `windowMs`,
 * first come first served. It keeps us under a provider's published limit so that we never
 * see a 429 (SnapTrade's SDK would otherwise sleep 5/10/20 s on one).
 * @module
 */

/** Time, injectable for tests. */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

/** The real clock. */
export const realClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
};

/** A sliding-window log limiter. */
export class RateLimiter {
  #grants: number[] = [];
  #tail: Promise<void> = Promise.resolve();
  #blockedUntil = 0;

  constructor(
    readonly limit: number,
    readonly windowMs: number,
    private readonly clock: Clock = realClock,
  ) {
    if (limit < 1 || windowMs <= 0) throw new Error("rate limit must be positive");
  }

  /** Waits for a slot and takes it. Calls are granted in the order they asked. */
  acquire(): Promise<void> {
    const next = this.#tail.then(() => this.#take());
    this.#tail = next.catch(() => {});
    return next;
  }

  /** Blocks every grant until `ms` from now (a provider's Retry-After). */
  pause(ms: number): void {
    this.#blockedUntil = Math.max(this.#blockedUntil, this.clock.now() + ms);
  }

  /** Grants in the current window (for metrics and tests). */
  inWindow(): number {
    this.#prune(this.clock.now());
    return this.#grants.length;
  }

  #prune(now: number) {
    while (this.#grants.length && this.#grants[0] <= now - this.windowMs) this.#grants.shift();
  }

  async #take(): Promise<void> {
    for (;;) {
      const now = this.clock.now();
      if (now < this.#blockedUntil) {
        await this.clock.sleep(this.#blockedUntil - now);
        continue;
      }
      this.#prune(now);
      if (this.#grants.length < this.limit) {
        this.#grants.push(now);
        return;
      }
      await this.clock.sleep(this.#grants[0] + this.windowMs - now + 1);
    }
  }
}

const limiters = new Map<string, RateLimiter>();

/**
 * The process-wide limiter for `key` (e.g. `snaptrade:<clientId>`), created on first use.
 * Every sync in the process shares it, which is what the provider counts.
 */
export function sharedLimiter(key: string, limit: number, windowMs: number): RateLimiter {
  let l = limiters.get(key);
  if (!l || l.limit !== limit || l.windowMs !== windowMs) {
    l = new RateLimiter(limit, windowMs);
    limiters.set(key, l);
  }
  return l;
}
