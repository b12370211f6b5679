import assert from "node:assert/strict";
import { Exact as Decimal } from "@meridian/portfolio/exact";
import { ORDER_STATES, type OrderState } from "@meridian/proto";
import { advance, isTerminal, type OrderProgress, type OrderReport } from "./order_state.ts";

const submitted = (quantity: string | null = "10"): OrderProgress => ({
  state: "submitted",
  quantity,
  filled_quantity: "0",
  average_price: null,
});

/** Applies reports in order, as the order store does; the transitions taken. */
function run(start: OrderProgress, reports: [OrderReport, boolean][]) {
  let order = start;
  const kinds: string[] = [];
  for (const [report, fromBroker] of reports) {
    const t = advance(order, report, fromBroker);
    kinds.push(t.kind);
    if (t.kind === "apply") order = t.next;
  }
  return { order, kinds };
}

Deno.test("a fill before the acknowledgement counts; the late acknowledgement is ignored", () => {
  const { order, kinds } = run(submitted(), [
    [{ state: "partially_filled", filled_quantity: "4", average_price: "100" }, true],
    [{ state: "accepted", filled_quantity: "0" }, true],
    [{ state: "filled", filled_quantity: "10", average_price: "101" }, true],
  ]);
  assert.deepEqual(kinds, ["apply", "ignore", "apply"]);
  assert.equal(order.state, "filled");
  assert.equal(order.filled_quantity, "10");
});

Deno.test("a repeated fill changes nothing; an overfill is refused", () => {
  const partial = { state: "partially_filled", filled_quantity: "4" } as const;
  const { order, kinds } = run(submitted(), [
    [partial, true],
    [partial, true],
    [{ state: "partially_filled", filled_quantity: "11" }, true],
  ]);
  assert.deepEqual(kinds, ["apply", "ignore", "refuse"]);
  assert.equal(order.filled_quantity, "4");
});

Deno.test("cancel while partly filled keeps the fill; nothing moves a final order", () => {
  const { order, kinds } = run(submitted(), [
    [{ state: "partially_filled", filled_quantity: "3" }, true],
    [{ state: "canceled", filled_quantity: "3" }, true],
    [{ state: "filled", filled_quantity: "10" }, true],
    [{ state: "canceled", filled_quantity: "3" }, true],
    [{ state: "failed" }, false],
  ]);
  assert.deepEqual(kinds, ["apply", "apply", "refuse", "ignore", "refuse"]);
  assert.equal(order.state, "canceled");
  assert.equal(order.filled_quantity, "3");
});

Deno.test("unknown is Meridian's: set before the broker speaks, settled by the broker", () => {
  const { order, kinds } = run(submitted(), [
    [{ state: "unknown" }, false],
    [{ state: "unknown" }, true],
    [{ state: "accepted" }, true],
    [{ state: "unknown" }, false],
  ]);
  assert.deepEqual(kinds, ["apply", "refuse", "apply", "refuse"]);
  assert.equal(order.state, "accepted");
  // Asking the broker may settle an unknown order as never placed.
  assert.equal(
    run(submitted(), [[{ state: "unknown" }, false], [{ state: "failed" }, false]])
      .order.state,
    "failed",
  );
});

/** A small deterministic generator (mulberry32). */
function prng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

Deno.test("property: random report streams keep final states final and fills within bounds", () => {
  const states = [...ORDER_STATES] as OrderState[];
  for (let seed = 1; seed <= 2000; seed++) {
    const rand = prng(seed);
    const quantity = String(1 + Math.floor(rand() * 20));
    let order = submitted(rand() < 0.1 ? null : quantity);
    let finalState: OrderState | null = null;
    let finalFilled = "";
    let lastFilled = new Decimal(0);
    for (let i = 0; i < 12; i++) {
      const state = states[Math.floor(rand() * states.length)];
      const report: OrderReport = {
        state,
        filled_quantity: rand() < 0.2 ? null : String(Math.floor(rand() * 25)),
        average_price: "100",
      };
      const t = advance(order, report, rand() < 0.8);
      if (t.kind !== "apply") continue;
      order = t.next;
      const filled = new Decimal(order.filled_quantity);
      assert.ok(filled.gte(lastFilled), `seed ${seed}: the filled quantity fell`);
      if (order.quantity !== null) {
        assert.ok(filled.lte(order.quantity), `seed ${seed}: filled beyond the quantity`);
      }
      if (order.state === "filled" && order.quantity !== null) {
        assert.ok(filled.eq(order.quantity), `seed ${seed}: filled short of the quantity`);
      }
      if (finalState !== null) {
        assert.fail(`seed ${seed}: ${finalState} changed to ${order.state}`);
      }
      if (isTerminal(order.state)) {
        finalState = order.state;
        finalFilled = order.filled_quantity;
      }
      lastFilled = filled;
    }
    if (finalState !== null) {
      assert.equal(order.state, finalState);
      assert.equal(order.filled_quantity, finalFilled);
    }
  }
});
