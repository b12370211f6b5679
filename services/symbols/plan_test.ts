import assert from "node:assert/strict";
import type { HeldInstrument } from "./classify.ts";
import { planAssignments, POLLER } from "./plan.ts";

const stock = (symbol: string): HeldInstrument => ({ symbol, kind: "equity", currency: "USD" });
const seventy = Array.from({ length: 70 }, (_, i) => stock(`S${String(i).padStart(2, "0")}`));
const shards = [{ id: "a", stockCapacity: 30 }, { id: "b", stockCapacity: 30 }];

function where(plan: Map<string, { stocks: string[] }>): Map<string, string> {
  const out = new Map<string, string>();
  for (const [t, s] of plan) for (const sym of s.stocks) out.set(sym, t);
  return out;
}

Deno.test("70 stocks on two 30-symbol shards: 60 streamed, 10 polled, none twice", () => {
  const plan = planAssignments(seventy, shards);
  assert.equal(plan.get("a")!.stocks.length, 30);
  assert.equal(plan.get("b")!.stocks.length, 30);
  assert.equal(plan.get(POLLER)!.stocks.length, 10);
  assert.equal(where(plan).size, 70);
});

Deno.test("crypto is uncapped, funds are polled, foreign listings are not fetched", () => {
  const plan = planAssignments([
    { symbol: "BTC/USD", kind: "crypto", currency: "USD" },
    { symbol: "VFIAX", kind: "fund", currency: "USD" },
    { symbol: "SHOP", kind: "equity", currency: "CAD" },
  ], [{ id: "a", stockCapacity: 30 }]);
  assert.deepEqual(plan.get("a"), { stocks: [], crypto: ["BTC/USD"] });
  assert.deepEqual(plan.get(POLLER), { stocks: ["VFIAX"], crypto: [] });
});

Deno.test("no shard: everything is polled", () => {
  const plan = planAssignments(seventy.slice(0, 3), []);
  assert.deepEqual([...plan.keys()], [POLLER]);
  assert.equal(plan.get(POLLER)!.stocks.length, 3);
});

Deno.test("replanning from the previous plan changes nothing; a new shard takes only overflow room", () => {
  const first = planAssignments(seventy, shards);
  assert.deepEqual(planAssignments(seventy, shards, first), first);
  const grown = planAssignments(seventy, [...shards, { id: "c", stockCapacity: 30 }], first);
  const before = where(first);
  for (const [sym, target] of where(grown)) {
    const was = before.get(sym)!;
    if (was !== target) assert.ok(target === "c" || was === POLLER, `${sym}: ${was} -> ${target}`);
  }
  assert.equal(grown.get(POLLER)!.stocks.length, 0);
});

Deno.test("a sold symbol leaves its shard and a polled one takes its place", () => {
  const first = planAssignments(seventy, shards);
  const gone = first.get("a")!.stocks[0];
  const next = planAssignments(seventy.filter((s) => s.symbol !== gone), shards, first);
  assert.equal(next.get("a")!.stocks.length, 30);
  assert.equal(next.get(POLLER)!.stocks.length, 9);
  assert.ok(!where(next).has(gone));
});
