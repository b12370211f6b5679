import assert from "node:assert/strict";
import { routeOf } from "./classify.ts";

Deno.test("US stocks and ETFs stream on stocks, crypto pairs on crypto", () => {
  assert.deepEqual(routeOf({ symbol: "AAPL", kind: "equity", currency: "USD" }), {
    stream: "stocks",
    streamable: true,
  });
  assert.deepEqual(routeOf({ symbol: "VOO", kind: "etf", currency: "USD" }).streamable, true);
  assert.deepEqual(routeOf({ symbol: "BTC/USD", kind: "crypto", currency: "USD" }), {
    stream: "crypto",
    streamable: true,
  });
});

Deno.test("funds, bonds, options, cash equivalents and foreign listings are polled", () => {
  for (
    const i of [
      { symbol: "VFIAX", kind: "fund" as const, currency: "USD" },
      { symbol: "T10Y", kind: "bond" as const, currency: "USD" },
      { symbol: "AAPL260116C00200000", kind: "option" as const, currency: "USD" },
      { symbol: "SPAXX", kind: "cash_equivalent" as const, currency: "USD" },
      { symbol: "SHOP", kind: "equity" as const, currency: "CAD" },
    ]
  ) {
    assert.deepEqual(routeOf(i), { stream: "stocks", streamable: false }, i.symbol);
  }
});
