import assert from "node:assert/strict";
import { routeOf } from "./classify.ts";

Deno.test("US stocks and ETFs stream on stocks, crypto pairs on crypto", () => {
  assert.deepEqual(routeOf({ symbol: "AAPL", kind: "equity", currency: "USD" }), {
    stream: "stocks",
    streamable: true,
  });
  assert.deepEqual(routeOf({ symbol: "VOO", kind: "etf", currency: "USD" })?.streamable, true);
  assert.deepEqual(routeOf({ symbol: "BTC/USD", kind: "crypto", currency: "USD" }), {
    stream: "crypto",
    streamable: true,
  });
});

Deno.test("a foreign listing gets no market data: Alpaca's price for its ticker is another security's", () => {
  assert.equal(routeOf({ symbol: "SHOP", kind: "equity", currency: "CAD" }), null);
  assert.equal(routeOf({ symbol: "BTC/USD", kind: "crypto", currency: "EUR" }), null);
  assert.deepEqual(routeOf({ symbol: "BTC/EUR", kind: "crypto", currency: "EUR" }), {
    stream: "crypto",
    streamable: true,
  });
});

Deno.test("funds, bonds, options and cash equivalents are polled", () => {
  for (
    const i of [
      { symbol: "VFIAX", kind: "fund" as const, currency: "USD" },
      { symbol: "T10Y", kind: "bond" as const, currency: "USD" },
      { symbol: "AAPL260116C00200000", kind: "option" as const, currency: "USD" },
      { symbol: "SPAXX", kind: "cash_equivalent" as const, currency: "USD" },
    ]
  ) {
    assert.deepEqual(routeOf(i), { stream: "stocks", streamable: false }, i.symbol);
  }
});
