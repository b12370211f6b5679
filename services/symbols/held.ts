/**
 * The reference-counted set of instruments anyone holds: each user contributes a set of
 * symbols, and a symbol is held while at least one user's set has it.
 * @module
 */
import type { HeldInstrument } from "./classify.ts";

/** What one update changed in the held set. */
export interface HeldChange {
  added: string[];
  removed: string[];
}

/** Held instruments, counted by the users who hold them. */
export class HeldSet {
  #byUser = new Map<string, Map<string, HeldInstrument>>();
  #counts = new Map<string, { count: number; instrument: HeldInstrument }>();

  /** Replaces one user's instruments (an empty list: the user holds nothing). */
  setUser(userId: string, instruments: readonly HeldInstrument[]): HeldChange {
    const next = new Map(instruments.map((i) => [i.symbol, i]));
    const before = this.#byUser.get(userId) ?? new Map<string, HeldInstrument>();
    const change: HeldChange = { added: [], removed: [] };
    for (const [symbol, i] of next) {
      if (before.has(symbol)) continue;
      const c = this.#counts.get(symbol);
      if (c) c.count++;
      else {
        this.#counts.set(symbol, { count: 1, instrument: i });
        change.added.push(symbol);
      }
    }
    for (const symbol of before.keys()) {
      if (next.has(symbol)) continue;
      const c = this.#counts.get(symbol)!;
      if (--c.count === 0) {
        this.#counts.delete(symbol);
        change.removed.push(symbol);
      }
    }
    if (next.size === 0) this.#byUser.delete(userId);
    else this.#byUser.set(userId, next);
    return change;
  }

  /** Replaces everything (a fresh load from the database). */
  reset(byUser: ReadonlyMap<string, readonly HeldInstrument[]>): void {
    this.#byUser.clear();
    this.#counts.clear();
    for (const [userId, list] of byUser) this.setUser(userId, list);
  }

  /** How many users hold `symbol`. */
  holders(symbol: string): number {
    return this.#counts.get(symbol)?.count ?? 0;
  }

  /** Every held instrument. */
  instruments(): HeldInstrument[] {
    return [...this.#counts.values()].map((c) => c.instrument);
  }

  get size(): number {
    return this.#counts.size;
  }
}
