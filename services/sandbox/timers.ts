/**
 * Work a provider imitation does later on its own (an order filling after a delay), on real
 * timers that `close()` cancels, so a closed sandbox leaves nothing running.
 * @module
 */

/** Delayed callbacks, all cancelled by {@link Timers.close}. */
export class Timers {
  #pending = new Set<ReturnType<typeof setTimeout>>();
  #closed = false;

  /** Runs `fn` after `ms` unless closed first; a throwing `fn` is reported to `onError`. */
  later(ms: number, fn: () => void, onError?: (e: unknown) => void): void {
    if (this.#closed) return;
    const t = setTimeout(() => {
      this.#pending.delete(t);
      if (this.#closed) return;
      try {
        fn();
      } catch (e) {
        onError?.(e);
      }
    }, Math.max(0, ms));
    this.#pending.add(t);
  }

  /** How many callbacks are waiting. */
  get size(): number {
    return this.#pending.size;
  }

  /** Cancels everything waiting; later calls do nothing. */
  close(): void {
    this.#closed = true;
    for (const t of this.#pending) clearTimeout(t);
    this.#pending.clear();
  }
}
