import assert from "node:assert/strict";
import { plTotal } from "./performance_figures.ts";

Deno.test("P/L is realised plus unrealised, exactly, and unknown when either is", () => {
  assert.equal(plTotal("0.1", "0.2"), "0.3");
  assert.equal(plTotal("-120.50", "100.25"), "-20.25");
  assert.equal(plTotal("10", null), null);
});
