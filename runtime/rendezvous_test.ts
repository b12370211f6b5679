import assert from "node:assert/strict";
import { assign, type Assignment, rank, score, type Target } from "./rendezvous.ts";

const symbols = (n: number, from = 0) => Array.from({ length: n }, (_, i) => `SYM${from + i}`);
const uncapped = (...ids: string[]): Target[] => ids.map((id) => ({ id, capacity: null }));
const capped = (capacity: number, ...ids: string[]): Target[] =>
  ids.map((id) => ({ id, capacity }));

/** Each item on exactly one known target or in overflow, and no target over capacity. */
function assertValid(a: Assignment, items: string[], targets: Target[]) {
  const ids = new Set(targets.map((t) => t.id));
  const overflow = new Set(a.overflow);
  assert.deepEqual(a.overflow, [...a.overflow].sort());
  assert.deepEqual(overflow.size, a.overflow.length);
  for (const item of items) {
    assert.ok(a.assigned.has(item) !== overflow.has(item), `${item} placed exactly once`);
  }
  assert.deepEqual(a.assigned.size + overflow.size, new Set(items).size);
  const load = new Map<string, number>();
  for (const [item, id] of a.assigned) {
    assert.ok(ids.has(id), `${item} on unknown target ${id}`);
    load.set(id, (load.get(id) ?? 0) + 1);
  }
  for (const t of targets) {
    if (t.capacity !== null) {
      assert.ok((load.get(t.id) ?? 0) <= t.capacity, `${t.id} over capacity`);
    }
  }
}

function moved(before: Map<string, string>, after: Map<string, string>) {
  const out: { item: string; from?: string; to?: string }[] = [];
  for (const item of new Set([...before.keys(), ...after.keys()])) {
    if (before.get(item) !== after.get(item)) {
      out.push({ item, from: before.get(item), to: after.get(item) });
    }
  }
  return out;
}

const sortedEntries = (m: Map<string, string>) => [...m].sort(([a], [b]) => a < b ? -1 : 1);

Deno.test("score is deterministic, spread out and depends on both arguments", () => {
  assert.deepEqual(score("AAPL", "shard-1"), score("AAPL", "shard-1"));
  // Pinned: a change of hash would reshuffle every deployed assignment.
  assert.deepEqual(score("AAPL", "shard-1"), 437950744351869);
  assert.ok(score("AAPL", "shard-1") !== score("AAPL", "shard-2"));
  assert.ok(score("AAPL", "shard-1") !== score("AAP", "Lshard-1"));
  const seen = new Set(symbols(1000).map((s) => score(s, "t")));
  assert.deepEqual(seen.size, 1000);
  for (const s of seen) assert.ok(Number.isSafeInteger(s) && s >= 0);
});

Deno.test("rank orders targets by score, best first, independent of input order", () => {
  const ids = ["a", "b", "c", "d"];
  const r = rank("SYM1", ids);
  assert.deepEqual([...r].sort(), ids);
  for (let i = 1; i < r.length; i++) assert.ok(score("SYM1", r[i - 1]) >= score("SYM1", r[i]));
  assert.deepEqual(rank("SYM1", [...ids].reverse()), r);
  assert.deepEqual(rank("x", []), []);
});

Deno.test("assign is deterministic and independent of input order", () => {
  const items = symbols(300);
  const targets = [...capped(90, "s1", "s2"), { id: "s3", capacity: null }];
  const a = assign(items, targets);
  const b = assign([...items].reverse(), [...targets].reverse());
  assert.deepEqual(sortedEntries(a.assigned), sortedEntries(b.assigned));
  assert.deepEqual(a.overflow, b.overflow);
  const prev = new Map([...a.assigned].slice(0, 100).map(([k, v]) => [k, v === "s1" ? "s2" : v]));
  const c = assign(items, targets, prev);
  const d = assign([...items].reverse(), [...targets].reverse(), new Map([...prev].reverse()));
  assert.deepEqual(sortedEntries(c.assigned), sortedEntries(d.assigned));
  // Duplicates in the input count once.
  assert.deepEqual(
    sortedEntries(assign([...items, ...items], targets).assigned),
    sortedEntries(a.assigned),
  );
});

Deno.test("uncapped with no previous: each item on its best-ranked target", () => {
  const items = symbols(500);
  const ids = ["s1", "s2", "s3", "s4"];
  const a = assign(items, uncapped(...ids));
  assertValid(a, items, uncapped(...ids));
  assert.deepEqual(a.overflow, []);
  for (const item of items) assert.deepEqual(a.assigned.get(item), rank(item, ids)[0]);
});

Deno.test("capacity is never exceeded and the rest overflows", () => {
  const items = symbols(100);
  const targets = capped(30, "s1", "s2", "s3");
  const a = assign(items, targets);
  assertValid(a, items, targets);
  assert.deepEqual(a.assigned.size, 90);
  assert.deepEqual(a.overflow.length, 10);
  // Zero and negative capacities take nothing.
  const z = assign(items, [{ id: "z", capacity: 0 }, { id: "n", capacity: -3 }]);
  assert.deepEqual(z.assigned.size, 0);
  assert.deepEqual(z.overflow, [...items].sort());
  // No targets at all: everything overflows.
  assert.deepEqual(assign(items, []).overflow.length, 100);
});

Deno.test("a previous assignment over capacity sheds the items the target wants least", () => {
  const items = symbols(50);
  const previous = new Map(items.map((i) => [i, "s1"]));
  const targets = capped(20, "s1");
  const a = assign(items, targets, previous);
  assertValid(a, items, targets);
  const kept = items.filter((i) => a.assigned.get(i) === "s1");
  assert.deepEqual(kept.length, 20);
  const keptMin = Math.min(...kept.map((i) => score(i, "s1")));
  for (const item of items) {
    if (!kept.includes(item)) {
      assert.ok(score(item, "s1") < keptMin, `${item} should have been shed`);
    }
  }
});

Deno.test("assign is idempotent", () => {
  const items = symbols(400);
  const cases: [Target[], Map<string, string> | undefined][] = [
    [uncapped("s1", "s2", "s3"), undefined],
    [capped(100, "s1", "s2", "s3"), undefined],
    [[...capped(50, "s1", "s2"), ...uncapped("s3")], new Map(items.map((i) => [i, "s1"]))],
    [capped(150, "s1", "s2", "s3"), new Map(items.map((i, n) => [i, `s${n % 4}`]))],
  ];
  for (const [targets, previous] of cases) {
    const first = assign(items, targets, previous);
    assertValid(first, items, targets);
    const again = assign(items, targets, first.assigned);
    assert.deepEqual(sortedEntries(again.assigned), sortedEntries(first.assigned));
    assert.deepEqual(again.overflow, first.overflow);
  }
});

Deno.test("a target joining takes items onto itself only", () => {
  const items = symbols(600);
  for (
    const [before, after] of [
      [uncapped("s1", "s2", "s3"), uncapped("s1", "s2", "s3", "s4")],
      // Spare room everywhere: still nothing moves between old targets.
      [capped(300, "s1", "s2", "s3"), capped(300, "s1", "s2", "s3", "s4")],
    ]
  ) {
    const a = assign(items, before);
    const b = assign(items, after, a.assigned);
    assertValid(b, items, after);
    const m = moved(a.assigned, b.assigned);
    assert.ok(m.length > 0);
    for (const { item, to } of m) assert.deepEqual(to, "s4", `${item} moved elsewhere`);
    // Exactly the items that now rank the new target first moved.
    for (const { item } of m) assert.deepEqual(rank(item, ["s1", "s2", "s3", "s4"])[0], "s4");
  }
});

Deno.test("a target joining gives overflow items its free room", () => {
  const items = symbols(100);
  const before = capped(30, "s1", "s2", "s3");
  const a = assign(items, before);
  assert.deepEqual(a.overflow.length, 10);
  const after = [...before, ...capped(30, "s4")];
  const b = assign(items, after, a.assigned);
  assertValid(b, items, after);
  assert.deepEqual(b.overflow, []);
  for (const item of a.overflow) assert.ok(b.assigned.has(item));
  // Items that rank the new target above their old one move onto it, and the room they
  // free goes to the former overflow; nothing moves between the targets that were there.
  assert.ok([...b.assigned.values()].filter((t) => t === "s4").length > 10);
  for (const { item, from, to } of moved(a.assigned, b.assigned)) {
    assert.ok(to === "s4" || from === undefined, `${item} moved ${from} -> ${to}`);
  }
});

Deno.test("room freed by a removed item goes to overflow, not to an item on another target", () => {
  const items = symbols(70);
  const targets = capped(30, "s1", "s2");
  const a = assign(items, targets);
  const gone = [...a.assigned].find(([, id]) => id === "s1")![0];
  const rest = items.filter((i) => i !== gone);
  const b = assign(rest, targets, a.assigned);
  assertValid(b, rest, targets);
  for (const { item, from } of moved(a.assigned, b.assigned)) {
    assert.ok(item === gone || from === undefined, `${item} moved from ${from}`);
  }
  assert.deepEqual(b.overflow.length, 9);
});

Deno.test("a target leaving moves only its own items", () => {
  const items = symbols(600);
  for (
    const [before, after] of [
      [uncapped("s1", "s2", "s3", "s4"), uncapped("s1", "s2", "s4")],
      [capped(200, "s1", "s2", "s3", "s4"), capped(200, "s1", "s2", "s4")],
      // Full targets with overflow: leaving items and overflow take the room left.
      [capped(120, "s1", "s2", "s3", "s4"), capped(120, "s1", "s2", "s4")],
    ]
  ) {
    const a = assign(items, before);
    const b = assign(items, after, a.assigned);
    assertValid(b, items, after);
    for (const { item, from } of moved(a.assigned, b.assigned)) {
      assert.ok(from === "s3" || from === undefined, `${item} moved from ${from}`);
    }
    for (const [item, id] of a.assigned) {
      if (id !== "s3") assert.deepEqual(b.assigned.get(item), id);
    }
  }
});

Deno.test("load is balanced when uncapped, and capped targets fill", () => {
  const items = symbols(1000);
  const a = assign(items, uncapped("s1", "s2", "s3"));
  const load = new Map<string, number>();
  for (const id of a.assigned.values()) load.set(id, (load.get(id) ?? 0) + 1);
  for (const id of ["s1", "s2", "s3"]) {
    const n = load.get(id) ?? 0;
    assert.ok(n >= 250 && n <= 420, `${id} got ${n} of 1000`);
  }
  const c = assign(items, capped(30, "s1", "s2", "s3"));
  assertValid(c, items, capped(30, "s1", "s2", "s3"));
  assert.deepEqual(c.assigned.size, 90);
  assert.deepEqual(c.overflow.length, 910);
});
