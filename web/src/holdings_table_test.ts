import assert from "node:assert/strict";
import { direction } from "./flash.ts";
import type { AccountPosition } from "./api.ts";
import { acctRow, marksOf, type Row, sortRows, tradable } from "./holdings_table.tsx";

function row(symbol: string, value: string | null, currency: string): Row {
  return {
    key: symbol,
    symbol,
    name: null,
    quantity: "1",
    price: value,
    value,
    cost_basis: null,
    unrealized_pl: null,
    day_change: null,
    day_change_percent: null,
    day_unknown: 0,
    day_of: 1,
    currency,
    price_source: "live",
    stale: false,
    providers: [],
    shares: [],
  };
}

Deno.test("holdings sort by their value in the base currency", () => {
  const base = { currency: "USD", rates: { USD: "1", CAD: "0.7", EUR: "1.08" } };
  const rows = [
    row("SHOP", "120", "CAD"), // 84 USD
    row("AAPL", "100", "USD"),
    row("ASML", "90", "EUR"), // 97.2 USD
    row("MXN1", "1000", "MXN"), // no rate: lowest
    row("NONE", null, "USD"),
  ];
  const desc = sortRows(rows, "value", -1, base).map((r) => r.symbol);
  assert.deepEqual(desc, ["AAPL", "ASML", "SHOP", "MXN1", "NONE"]);
  const asc = sortRows(rows, "value", 1, base).map((r) => r.symbol);
  assert.deepEqual(asc, ["MXN1", "NONE", "SHOP", "ASML", "AAPL"]);
  // In CAD the order of converted amounts is the same: a rate scales every amount alike.
  const cad = { currency: "CAD", rates: { USD: "1.4286", CAD: "1", EUR: "1.5429" } };
  assert.deepEqual(sortRows(rows, "value", -1, cad).map((r) => r.symbol).slice(0, 3), [
    "AAPL",
    "ASML",
    "SHOP",
  ]);
  // Exact: amounts beyond a float's precision still order.
  const close = [row("A", "90071992547409930.01", "USD"), row("B", "90071992547409930.02", "USD")];
  assert.deepEqual(sortRows(close, "value", -1, base).map((r) => r.symbol), ["B", "A"]);
});

Deno.test("price markers: delayed, brokerage, stale", () => {
  assert.deepEqual(marksOf({ price_source: "live", stale: false }), []);
  assert.deepEqual(marksOf({ price_source: "delayed", stale: false }), ["delayed"]);
  assert.deepEqual(marksOf({ price_source: "provider", stale: true }), ["provider", "stale"]);
  assert.deepEqual(marksOf({ price_source: "live", stale: true }), ["stale"]);
  assert.deepEqual(marksOf({ price_source: null, stale: false }), []);
});

Deno.test("a flash goes the way the figure moved, exactly", () => {
  assert.equal(direction(null, "1"), null);
  assert.equal(direction("1", null), null);
  assert.equal(direction("1.10", "1.1"), null);
  assert.equal(direction("1.1", "1.10"), null);
  assert.equal(direction("100", "100.01"), "up");
  assert.equal(direction("-5", "-6"), "down");
  assert.equal(direction("90071992547409930.01", "90071992547409930.02"), "up");
});

Deno.test("rows offer a trade for what is traded as shares, in their own account's table", () => {
  assert.equal(tradable("equity"), true);
  assert.equal(tradable("etf"), true);
  assert.equal(tradable("crypto"), true);
  for (const t of ["option", "cash", "cash_equivalent", "bond", "mutual_fund"] as const) {
    assert.equal(tradable(t), false, t);
  }
  const position = {
    id: "00000000-0000-4000-8000-000000000003",
    symbol: "BRK B",
    instrument_symbol: "BRK.B",
    security_type: "equity",
  } as AccountPosition;
  const acct = "00000000-0000-4000-8000-000000000001";
  assert.deepEqual(acctRow("snaptrade", acct)(position).trade, {
    symbol: "BRK.B",
    accountId: acct,
  });
  assert.equal(
    acctRow("snaptrade", acct)({ ...position, security_type: "option" }).trade,
    undefined,
  );
});
