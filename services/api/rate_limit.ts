/**
 * In-memory sliding-window limiter for login attempts: per account and per address. Pure
 * apart from the clock it is given, so it is tested without waiting.
 * @module
 */

/** One limit: at most `max` hits within `windowMs`. */
export interface Limit {
  max: number;
  windowMs: number;
}

/** A set of sliding windows keyed by string, bounded in the number of keys it keeps. */
export class SlidingLimiter {
  #hits = new Map<string, number[]>();

  constructor(
    readonly limit: Limit,
    private readonly now: () => number = Date.now,
    private readonly maxKeys = 100_000,
  ) {}

  #live(key: string): number[] {
    const cutoff = this.now() - this.limit.windowMs;
    const hits = (this.#hits.get(key) ?? []).filter((t) => t > cutoff);
    if (hits.length) this.#hits.set(key, hits);
    else this.#hits.delete(key);
    return hits;
  }

  /** Seconds until `key` may try again; 0 when it may now. */
  retryAfterS(key: string): number {
    const hits = this.#live(key);
    if (hits.length < this.limit.max) return 0;
    const oldestThatMatters = hits[hits.length - this.limit.max];
    return Math.max(1, Math.ceil((oldestThatMatters + this.limit.windowMs - this.now()) / 1000));
  }

  /** Records one hit for `key`. */
  hit(key: string): void {
    const hits = this.#live(key);
    hits.push(this.now());
    if (!this.#hits.has(key) && this.#hits.size >= this.maxKeys) {
      // Bounded memory: forget the oldest key rather than grow for ever.
      const first = this.#hits.keys().next().value;
      if (first !== undefined) this.#hits.delete(first);
    }
    this.#hits.set(key, hits);
  }

  /** Forgets `key` (after a successful login). */
  reset(key: string): void {
    this.#hits.delete(key);
  }
}

/** The login limits: failures per account, attempts per client address. */
export class LoginLimiter {
  readonly perAccount: SlidingLimiter;
  readonly perAddress: SlidingLimiter;

  constructor(
    opts: { account?: Limit; address?: Limit; now?: () => number } = {},
  ) {
    this.perAccount = new SlidingLimiter(
      opts.account ?? { max: 5, windowMs: 15 * 60_000 },
      opts.now,
    );
    this.perAddress = new SlidingLimiter(
      opts.address ?? { max: 30, windowMs: 15 * 60_000 },
      opts.now,
    );
  }

  /** Seconds to wait before this attempt may proceed; 0 when it may. */
  check(account: string, address: string | null): number {
    return Math.max(
      this.perAccount.retryAfterS(account),
      address ? this.perAddress.retryAfterS(address) : 0,
    );
  }

  /** Records an attempt; failures count against the account too. */
  record(account: string, address: string | null, ok: boolean): void {
    if (address) this.perAddress.hit(address);
    if (ok) this.perAccount.reset(account);
    else this.perAccount.hit(account);
  }
}
