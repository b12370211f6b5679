/**
 * The difference between two symbol sets: what to subscribe (and seed) and what to drop.
 * @module
 */

/** Symbols to add and to remove to get from `current` to `wanted`, each sorted. */
export interface SymbolDiff {
  added: string[];
  removed: string[];
}

/** What changes from `current` to `wanted`. */
export function symbolDiff(current: Iterable<string>, wanted: Iterable<string>): SymbolDiff {
  const from = new Set(current);
  const to = new Set(wanted);
  return {
    added: [...to].filter((s) => !from.has(s)).sort(),
    removed: [...from].filter((s) => !to.has(s)).sort(),
  };
}
