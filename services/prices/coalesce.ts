/**
 * Coalescing of writes: the latest value per key, written at most once per interval per key.
 * @module
 */

/** Holds the latest value per key until its key may be written again. */
export class Coalescer<T> {
  #pending = new Map<string, T>();
  #lastWrite = new Map<string, number>();

  constructor(readonly intervalMs = 1_000) {}

  /** Records `value` as the newest for `key`. */
  offer(key: string, value: T): void {
    this.#pending.set(key, value);
  }

  /** Puts back a value that could not be written, unless a newer one is already pending. */
  restore(key: string, value: T): void {
    if (!this.#pending.has(key)) this.#pending.set(key, value);
  }

  /** The values whose key was last written `intervalMs` or more before `now`; marks them written. */
  due(now: number): [string, T][] {
    const out: [string, T][] = [];
    for (const [key, value] of this.#pending) {
      const last = this.#lastWrite.get(key);
      if (last !== undefined && now - last < this.intervalMs) continue;
      out.push([key, value]);
      this.#pending.delete(key);
      this.#lastWrite.set(key, now);
    }
    return out;
  }

  /** Everything still pending, regardless of time (a final flush). */
  drain(): [string, T][] {
    const out = [...this.#pending];
    this.#pending.clear();
    return out;
  }

  /** Forgets a key (no longer followed). */
  forget(key: string): void {
    this.#pending.delete(key);
    this.#lastWrite.delete(key);
  }
}
