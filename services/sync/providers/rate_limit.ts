/**
 * Client-side rate limiting. {@link RateLimiter} is a sliding-window limiter, first come first
 * served, that keeps us under a provider's published limit so that we never see a 429
 * (SnapTrade's SDK would otherwise sleep 5/10/20 s on one). Background syncs wait for a slot;
 * a person waiting on an answer asks with `maxWaitMs` and is told to come back instead.
 * {@link KeyedLimiter} never waits: it counts grants per key (a user) and refuses the excess,
 * so one person cannot use up a budget everybody shares.
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

/**
 * A call that was not made because it would have had to wait: try again after
 * `retryAfterMs`. `scope` says whose limit it was: the caller's own (`user`) or a provider
 * budget everybody shares (`provider`).
 */
export class RateLimitedError extends Error {
  override name = "RateLimitedError";
  constructor(readonly scope: "user" | "provider", readonly retryAfterMs: number) {
    super(`${scope} rate limit: retry in ${Math.ceil(retryAfterMs)} ms`);
  }

  /** The wait in whole seconds, rounded up (a Retry-After value; at least 1). */
  get retryAfterS(): number {
    return Math.max(1, Math.ceil(this.retryAfterMs / 1000));
  }
}

/** Options of {@link RateLimiter.acquire}. */
export interface AcquireOptions {
  /**
   * The longest the caller will wait for its slot. When the slot is further away, or moves
   * further away while waiting (a provider's Retry-After), the call fails at once with
   * {@link RateLimitedError} and takes no slot. Absent: wait as long as it takes.
   */
  maxWaitMs?: number;
}

interface Waiter {
  /** The latest time it may be granted (Infinity: no bound). */
  deadline: number;
  resolve(): void;
  reject(e: Error): void;
}

/** A sliding-window log limiter. */
export class RateLimiter {
  #grants: number[] = [];
  #queue: Waiter[] = [];
  #blockedUntil = 0;
  #pumping = false;

  constructor(
    readonly limit: number,
    readonly windowMs: number,
    private readonly clock: Clock = realClock,
  ) {
    if (limit < 1 || windowMs <= 0) throw new Error("rate limit must be positive");
  }

  /** Waits for a slot and takes it. Calls are granted in the order they asked. */
  acquire(opts: AcquireOptions = {}): Promise<void> {
    const now = this.clock.now();
    const deadline = opts.maxWaitMs === undefined ? Infinity : now + opts.maxWaitMs;
    if (deadline !== Infinity) {
      // Grants are first come first served and each slot's time is known, so the wait of a
      // newcomer behind everyone queued is known exactly now.
      const times = this.#planned(now);
      const at = this.#nextSlot(times, now);
      if (at > deadline) return Promise.reject(new RateLimitedError("provider", at - now));
    }
    const granted = new Promise<void>((resolve, reject) => {
      this.#queue.push({ deadline, resolve, reject });
    });
    void this.#pump();
    return granted;
  }

  /** Blocks every grant until `ms` from now (a provider's Retry-After). */
  pause(ms: number): void {
    const now = this.clock.now();
    this.#blockedUntil = Math.max(this.#blockedUntil, now + ms);
    // Waiters the pause pushes past their bound are told now rather than when their turn
    // comes; those behind them move up.
    this.#prune(now);
    const times = [...this.#grants];
    this.#queue = this.#queue.filter((w) => {
      const at = this.#nextSlot(times, now);
      if (at > w.deadline) {
        w.reject(new RateLimitedError("provider", at - now));
        return false;
      }
      times.push(at);
      return true;
    });
  }

  /** Grants in the current window (for metrics and tests). */
  inWindow(): number {
    this.#prune(this.clock.now());
    return this.#grants.length;
  }

  #prune(now: number) {
    while (this.#grants.length && this.#grants[0] <= now - this.windowMs) this.#grants.shift();
  }

  /** The earliest grant after `times` (grants so far, in order), no earlier than `now`. */
  #nextSlot(times: number[], now: number): number {
    const start = Math.max(now, this.#blockedUntil);
    if (times.length < this.limit) return start;
    // The slot of the grant `limit` places back frees when it leaves the window.
    return Math.max(start, times[times.length - this.limit] + this.windowMs);
  }

  /** The grants in the window followed by the planned grant of every queued waiter. */
  #planned(now: number): number[] {
    this.#prune(now);
    const times = [...this.#grants];
    for (let i = 0; i < this.#queue.length; i++) times.push(this.#nextSlot(times, now));
    return times;
  }

  /** Grants queued waiters in order, sleeping until the next slot frees. One runs at a time. */
  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (this.#queue.length) {
        const now = this.clock.now();
        this.#prune(now);
        const at = this.#nextSlot(this.#grants, now);
        if (at <= now) {
          this.#grants.push(now);
          this.#queue.shift()!.resolve();
          continue;
        }
        await this.clock.sleep(at - now);
      }
    } finally {
      this.#pumping = false;
    }
  }
}

/** Keys a {@link KeyedLimiter} holds before it first looks for idle ones to forget. */
const SWEEP_MIN = 1024;

/**
 * At most `limit` grants per key in any `windowMs`, never waiting: a key over its limit is
 * refused with {@link RateLimitedError} (`user`) saying when its oldest grant leaves the
 * window. Refused attempts are not counted, so a key is free again one window after its last
 * grant however hard it keeps trying.
 */
export class KeyedLimiter {
  #grants = new Map<string, number[]>();
  #sweepAt = SWEEP_MIN;

  constructor(
    readonly limit: number,
    readonly windowMs: number,
    private readonly clock: Pick<Clock, "now"> = realClock,
  ) {
    if (limit < 1 || windowMs <= 0) throw new Error("rate limit must be positive");
  }

  /** Takes a grant for `key`, or throws {@link RateLimitedError} when it has none left. */
  take(key: string): void {
    const now = this.clock.now();
    let log = this.#grants.get(key);
    if (!log) {
      this.#sweep(now);
      log = [];
      this.#grants.set(key, log);
    }
    while (log.length && log[0] <= now - this.windowMs) log.shift();
    if (log.length >= this.limit) {
      throw new RateLimitedError("user", log[0] + this.windowMs - now);
    }
    log.push(now);
  }

  /** Keys held (for metrics and tests). */
  get size(): number {
    return this.#grants.size;
  }

  /** Forgets keys whose grants have all left the window, so idle keys cost no memory. */
  #sweep(now: number) {
    if (this.#grants.size < this.#sweepAt) return;
    for (const [key, log] of this.#grants) {
      if (!log.length || log[log.length - 1] <= now - this.windowMs) this.#grants.delete(key);
    }
    this.#sweepAt = Math.max(SWEEP_MIN, 2 * this.#grants.size);
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
