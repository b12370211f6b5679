import assert from "node:assert/strict";
import { symbolDiff } from "./diff.ts";

Deno.test("a diff adds what is new and removes what is gone", () => {
  assert.deepEqual(symbolDiff(["AAPL", "MSFT"], ["MSFT", "NVDA", "BRK.B"]), {
    added: ["BRK.B", "NVDA"],
    removed: ["AAPL"],
  });
});

Deno.test("the same set, or duplicates, change nothing", () => {
  assert.deepEqual(symbolDiff(["A", "B"], ["B", "A", "A"]), { added: [], removed: [] });
  assert.deepEqual(symbolDiff([], []), { added: [], removed: [] });
});
