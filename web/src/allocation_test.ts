import assert from "node:assert/strict";
import { allocationPath, drawnAllocation, OTHER_COLOR, PALETTE } from "./allocation.ts";
import type { AllocationSlice } from "./history_schema.ts";

const slice = (key: string, value: string, weight: string): AllocationSlice => ({
  key,
  label: key.toUpperCase(),
  value,
  weight,
});

Deno.test("the allocation query names its grouping", () => {
  assert.equal(allocationPath("asset_class"), "/api/allocation?by=asset_class");
  assert.equal(allocationPath("instrument"), "/api/allocation?by=instrument");
});

Deno.test("slices are drawn largest first, each with its own colour", () => {
  const d = drawnAllocation([
    slice("bond", "100.10", "0.1"),
    slice("equity", "800.80", "0.8"),
    slice("cash", "100.10", "0.1"),
  ]);
  assert.deepEqual(d.drawn.map((s) => s.label), ["EQUITY", "BOND", "CASH"]);
  assert.equal(d.colors.get("equity"), PALETTE[0]);
  assert.equal(d.colors.get("bond"), PALETTE[1]);
  assert.deepEqual(d.undrawn, []);
});

Deno.test("beyond the largest, the rest are one exact Other", () => {
  const many = Array.from(
    { length: 10 },
    (_, i) => slice(`s${i}`, `${10 - i}.1`, `0.0${9 - i}1`),
  );
  const d = drawnAllocation(many, 4);
  assert.equal(d.drawn.length, 4);
  const other = d.drawn[3];
  assert.equal(other.label, "Other (7)");
  // 7.1 + 6.1 + … + 1.1 and 0.061 + … + 0.001, without float error.
  assert.equal(other.value, "28.7");
  assert.equal(other.weight, "0.217");
  assert.equal(other.color, OTHER_COLOR);
  assert.equal(d.colors.get("s9"), OTHER_COLOR);
  assert.equal(d.colors.get("s0"), PALETTE[0]);
});

Deno.test("negative and zero slices are listed, never drawn", () => {
  const d = drawnAllocation([
    slice("equity", "1000", "1.1"),
    slice("margin", "-100", "-0.1"),
    slice("crypto", "0", "0"),
  ]);
  assert.deepEqual(d.drawn.map((s) => s.label), ["EQUITY"]);
  assert.deepEqual(d.undrawn.map((s) => s.key), ["margin", "crypto"]);
  assert.equal(d.colors.has("margin"), false);
});
