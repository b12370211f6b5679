import assert from "node:assert/strict";
import { PriceBook } from "./prices.ts";

Deno.test("price walks are deterministic per symbol, positive, and keep at most 4 places", () => {
  const a = new PriceBook();
  const b = new PriceBook();
  // Interleaving other symbols must not change a symbol's own path.
  const pathA = Array.from({ length: 200 }, () => a.step("AAPL").price.toFixed());
  const pathB = Array.from({ length: 200 }, () => {
    b.step("MSFT");
    return b.step("AAPL").price.toFixed();
  });
  assert.deepEqual(pathA, pathB);
  // The previous close is stable, apart from the walk's start (228.5), and does not move.
  assert.equal(new PriceBook().lastDay("AAPL").toFixed(), "229.58");
  assert.equal(a.lastDay("AAPL").toFixed(), "229.58");
  for (const p of pathA) assert.match(p, /^\d+(\.\d{1,2})?$/);
  const penny = new PriceBook();
  penny.set("ZZZZ", "0.5");
  for (let i = 0; i < 100; i++) {
    const p = penny.step("ZZZZ").price;
    assert.ok(p.gt(0));
    assert.ok(p.decimalPlaces() <= 4);
  }
  // Unknown symbols still get a stable starting price.
  assert.equal(
    new PriceBook().price("QWERTY").toFixed(),
    new PriceBook().price("qwerty").toFixed(),
  );
});
