/**
 * Answers computed from slowly changing rows, kept per key while the rows' fingerprint stands:
 * - fresh for `freshMs`; one computation at a time per key (requests arriving meanwhile share it);
 * - after that, served once more while a new one is computed in the background, up to
 *   `staleMs` after it went stale (so no request waits for a recomputation of an answer it
 *   just had); older, or under another fingerprint, the request waits for a new one.
 * Bounded in keys, least recently used out. A failed computation is not kept.
 * @module
 */
import { LruMap } from "./lru.ts";

interface Kept<T> {
  fingerprint: string;
  /** When the answer was computed (ms). */
  at: number;
  answer: Promise<T>;
  refreshing: boolean;
}

/** The cache. */
export class AnswerCache<T> {
  readonly #kept: LruMap<string, Kept<T>>;

  constructor(
    private readonly o: { freshMs: number; staleMs: number; maxKeys: number; now?: () => number },
  ) {
    this.#kept = new LruMap(o.maxKeys);
  }

  /** The answer for `key` under `fingerprint`, computing it with `compute` when due. */
  get(key: string, fingerprint: string, compute: () => Promise<T>): Promise<T> {
    const now = (this.o.now ?? Date.now)();
    const kept = this.#kept.get(key);
    if (kept && kept.fingerprint === fingerprint) {
      const age = now - kept.at;
      if (age < this.o.freshMs) return kept.answer;
      if (age < this.o.freshMs + this.o.staleMs) {
        if (!kept.refreshing) {
          kept.refreshing = true;
          const next = compute();
          next.then(
            () =>
              this.#kept.set(key, {
                ...this.#start(fingerprint, next),
                at: (this.o.now ?? Date.now)(),
              }),
            () => kept.refreshing = false,
          );
        }
        return kept.answer;
      }
    }
    const fresh = this.#start(fingerprint, compute());
    this.#kept.set(key, fresh);
    fresh.answer.catch(() => {
      if (this.#kept.get(key) === fresh) this.#kept.delete(key);
    });
    return fresh.answer;
  }

  #start(fingerprint: string, answer: Promise<T>): Kept<T> {
    return { fingerprint, at: (this.o.now ?? Date.now)(), answer, refreshing: false };
  }
}
