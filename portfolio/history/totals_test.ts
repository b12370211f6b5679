import assert from "node:assert/strict";
import { portfolioTotals } from "./totals.ts";

Deno.test("portfolioTotals: exact sums, only days every account has", () => {
  const a = new Map([["2026-11-27", "0.1"], ["2026-11-30", "100.25"], ["2026-12-01", "7"]]);
  const b = new Map([["2026-11-27", "0.2"], ["2026-12-01", "3"]]);
  assert.deepEqual(portfolioTotals(new Map([["a", a], ["b", b]])), [
    { day: "2026-11-27", value: "0.3" },
    { day: "2026-12-01", value: "10" },
  ]);
  assert.deepEqual(portfolioTotals(new Map()), []);
});
