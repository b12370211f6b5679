import assert from "node:assert/strict";
import { PortfolioValue as Proto } from "@meridian/proto/value";
import { PortfolioValue as Web } from "./value_schema.ts";

const VALUE = {
  user_id: "00000000-0000-4000-8000-000000000001",
  time: "2026-11-30T15:00:00.000Z",
  seq: 7,
  currency: "USD",
  total: "1250.5",
  positions_value: "1000",
  cash: "250.5",
  totals: [
    { currency: "CAD", positions_value: "10", cash: "0", total: "10", base_total: "7.1" },
    { currency: "MXN", positions_value: "5", cash: "0", total: "5", base_total: null },
  ],
  accounts: [{
    account_id: "00000000-0000-4000-8000-000000000002",
    value: "1250.5",
    native: [{ currency: "USD", value: "1243.4" }],
    day_change: "-3.25",
  }],
  day_change: { amount: "-3.25", percent: "-0.32", covered: 2, positions: 3 },
  unrealized_pl: { amount: "12", cost_basis: "988", covered: 1, positions: 3 },
  prices: {
    as_of: "2026-11-30T14:59:59.123Z",
    live: 1,
    delayed: 1,
    stale: 0,
    provider: 1,
    unpriced: 0,
    market: "open",
  },
  fx: { date: "2026-11-27", unconverted: ["MXN"] },
  quotes: {
    AAPL: ["228.52", "230", "2026-11-30T14:59:59.123Z", false],
    "BTC/USD": ["64250.12", null, "2026-11-30T14:59:58Z", true],
  },
};

Deno.test("the dashboard's value schema accepts and refuses what proto's does", () => {
  const cases: [string, unknown][] = [
    ["as published", VALUE],
    ["a number amount", { ...VALUE, total: 1250.5 }],
    ["a negative seq", { ...VALUE, seq: -1 }],
    ["a fractional seq", { ...VALUE, seq: 1.5 }],
    ["a lower-case currency", { ...VALUE, currency: "usd" }],
    ["an unknown market", { ...VALUE, prices: { ...VALUE.prices, market: "maybe" } }],
    ["no quotes", { ...VALUE, quotes: undefined }],
    ["a bad symbol", { ...VALUE, quotes: { "aapl": VALUE.quotes.AAPL } }],
    ["a quote as an object", { ...VALUE, quotes: { AAPL: { price: "1" } } }],
    ["a quote without delayed", { ...VALUE, quotes: { AAPL: ["1", null, VALUE.time] } }],
    ["a time without offset", { ...VALUE, time: "2026-11-30T15:00:00" }],
    ["an fx date that is a time", { ...VALUE, fx: { ...VALUE.fx, date: VALUE.time } }],
    ["a null total", { ...VALUE, total: null }],
    ["a null base_total", { ...VALUE, totals: [{ ...VALUE.totals[0], base_total: null }] }],
    ["not an object", "value"],
  ];
  for (const [what, v] of cases) {
    assert.equal(Web.safeParse(v).success, Proto.safeParse(v).success, what);
  }
  assert.equal(Web.safeParse(VALUE).success, true);
  assert.deepEqual(Web.parse(VALUE), Proto.parse(VALUE));
});
