import assert from "node:assert/strict";
import { OffHeapPressure } from "./off_heap_pressure.ts";

Deno.test("off-heap pressure starts a full collection after each threshold's worth of bytes", () => {
  const pressure = new OffHeapPressure(1000);
  pressure.add(600);
  assert.equal(pressure.collections, 0);
  pressure.add(600);
  assert.equal(pressure.collections, 1, "V8's collector is reachable under Deno");
  pressure.add(999);
  assert.equal(pressure.collections, 1);
  pressure.add(1);
  assert.equal(pressure.collections, 2);
});
