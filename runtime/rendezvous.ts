/**
 * Capacity-aware rendezvous (highest random weight) hashing: assigns items (market-data
 * symbols, users) to targets (price-stream shards, valuation partitions) so that a target
 * joining or leaving moves only what it must, and recomputing an assignment never churns.
 * Pure: no I/O, no clock, no randomness.
 * @module
 */

/**
 * A well-mixed 53-bit hash of (item, target), the same in every process. The pair is
 * length-prefixed so that no two different pairs hash the same input string.
 */
export function score(item: string, target: string): number {
  return hash53(`${item.length}:${item}${target}`);
}

/**
 * cyrb53: two 32-bit multiply-xor lanes with a murmur-style finaliser. Much cheaper than a
 * cryptographic hash (ranking thousands of users over many partitions stays fast) while
 * mixing well enough that every target wins an even share of items.
 */
function hash53(s: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (0x1fffff & h2) + (h1 >>> 0);
}

/** The targets in order of preference for `item`, best first; equal scores go by id. */
export function rank(item: string, targets: readonly string[]): string[] {
  return targets
    .map((id) => ({ id, s: score(item, id) }))
    .sort((a, b) => b.s - a.s || compare(a.id, b.id))
    .map((t) => t.id);
}

/** A target of an assignment and how many items it can take (null: no cap). */
export interface Target {
  id: string;
  capacity: number | null;
}

/** Where each item went; items no target had room for are in `overflow`, sorted. */
export interface Assignment {
  assigned: Map<string, string>;
  overflow: string[];
}

/**
 * Assigns `items` to `targets` within their capacities, starting from `previous`:
 *
 * a. keep the previous entries whose item and target still exist; a target over its
 *    capacity sheds its lowest-scoring items;
 * b. fill the targets that joined (those holding nothing after a): each assigned item (in
 *    sorted order) moves to the best joined target ranked above its current one that has
 *    room, until nothing moves. Room that opens on a target that already held items is left
 *    to step c, so no item moves between two targets that were both there before;
 * c. place each unassigned item (in sorted order) on its best target with room, or in
 *    overflow.
 *
 * The result depends only on the sets given (not their order), and feeding it back as
 * `previous` returns it unchanged.
 */
export function assign(
  items: Iterable<string>,
  targets: readonly Target[],
  previous?: ReadonlyMap<string, string>,
): Assignment {
  const sorted = [...new Set(items)].sort(compare);
  // A duplicated target id keeps its first capacity; a negative or fractional capacity
  // means what it can hold: floor(max(0, c)) items.
  const capacity = new Map<string, number>();
  for (const t of targets) {
    if (capacity.has(t.id)) continue;
    capacity.set(t.id, t.capacity === null ? Infinity : Math.max(0, Math.floor(t.capacity)));
  }
  const ids = [...capacity.keys()].sort(compare);
  const load = new Map<string, Set<string>>(ids.map((id) => [id, new Set()]));
  const assigned = new Map<string, string>();
  const ranks = new Map<string, string[]>();
  const ranked = (item: string) => {
    let r = ranks.get(item);
    if (!r) ranks.set(item, r = rank(item, ids));
    return r;
  };
  const hasRoom = (id: string) => load.get(id)!.size < capacity.get(id)!;
  const put = (item: string, id: string) => {
    const from = assigned.get(item);
    if (from !== undefined) load.get(from)!.delete(item);
    assigned.set(item, id);
    load.get(id)!.add(item);
  };

  // a. Sticky: keep what still makes sense, then shed the items each target wants least.
  if (previous) {
    for (const item of sorted) {
      const id = previous.get(item);
      if (id !== undefined && capacity.has(id)) put(item, id);
    }
    for (const id of ids) {
      const held = load.get(id)!;
      const excess = held.size - capacity.get(id)!;
      if (excess <= 0) continue;
      const weakest = [...held]
        .map((item) => ({ item, s: score(item, id) }))
        .sort((a, b) => a.s - b.s || compare(a.item, b.item))
        .slice(0, excess);
      for (const { item } of weakest) {
        held.delete(item);
        assigned.delete(item);
      }
    }
  }

  // b. Joined targets take the items that rank them higher; every move takes an item
  // strictly up its own ranking, so this ends.
  const joined = new Set(ids.filter((id) => load.get(id)!.size === 0));
  for (let changed = joined.size > 0; changed;) {
    changed = false;
    for (const item of sorted) {
      const current = assigned.get(item);
      if (current === undefined) continue;
      for (const id of ranked(item)) {
        if (id === current) break;
        if (joined.has(id) && hasRoom(id)) {
          put(item, id);
          changed = true;
          break;
        }
      }
    }
  }

  // c. Place the rest.
  const overflow: string[] = [];
  for (const item of sorted) {
    if (assigned.has(item)) continue;
    const id = ranked(item).find(hasRoom);
    if (id === undefined) overflow.push(item);
    else put(item, id);
  }
  return { assigned, overflow };
}

/** Plain code-unit order: the same everywhere, unlike localeCompare. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
