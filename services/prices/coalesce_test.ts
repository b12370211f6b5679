import assert from "node:assert/strict";
import { Coalescer } from "./coalesce.ts";

Deno.test("the first value is due at once, later ones at most once a second with the newest", () => {
  const c = new Coalescer<number>(1_000);
  c.offer("AAPL", 1);
  assert.deepEqual(c.due(0), [["AAPL", 1]]);
  c.offer("AAPL", 2);
  c.offer("AAPL", 3);
  assert.deepEqual(c.due(500), []);
  assert.deepEqual(c.due(1_000), [["AAPL", 3]]);
  assert.deepEqual(c.due(5_000), []);
});

Deno.test("keys are independent; drain returns what is pending", () => {
  const c = new Coalescer<number>(1_000);
  c.offer("A", 1);
  c.due(0);
  c.offer("A", 2);
  c.offer("B", 1);
  assert.deepEqual(c.due(10), [["B", 1]]);
  assert.deepEqual(c.drain(), [["A", 2]]);
});

Deno.test("a failed write is restored unless a newer value arrived", () => {
  const c = new Coalescer<number>(1_000);
  c.offer("A", 1);
  const [[, v]] = c.due(0);
  c.offer("A", 2);
  c.restore("A", v);
  assert.deepEqual(c.drain(), [["A", 2]]);
  c.restore("B", 7);
  assert.deepEqual(c.drain(), [["B", 7]]);
});
