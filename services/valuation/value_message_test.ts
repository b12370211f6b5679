import assert from "node:assert/strict";
import { PortfolioValue } from "@meridian/proto";
import type { PositionInput, UserHoldings } from "./holdings.ts";
import { PortfolioState } from "./portfolio_state.ts";
import { QuoteBook } from "./quotes.ts";
import { STALE_AFTER_MS } from "@meridian/portfolio";
import { encodePortfolioValue, type ValueContext } from "./value_message.ts";

const build = (s: PortfolioState, seq: number, ctx: ValueContext) =>
  PortfolioValue.parse(JSON.parse(encodePortfolioValue(s, seq, ctx)));

const U = "00000000-0000-4000-8000-000000000001";
const A1 = "00000000-0000-4000-8000-0000000000a1";
const A2 = "00000000-0000-4000-8000-0000000000a2";
const NOW = Date.parse("2026-11-30T15:00:00Z");

let n = 0;
function pos(p: Partial<PositionInput>): PositionInput {
  n++;
  return {
    id: `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`,
    account_id: A1,
    symbol: "X",
    security_type: "equity",
    quantity: "1",
    price: null,
    previous_close: null,
    cost_basis: null,
    currency: "USD",
    option_details: null,
    synced_at: new Date(NOW - 3_600_000),
    instrument_id: null,
    instrument_symbol: null,
    instrument_currency: null,
    ...p,
  };
}

function state(positions: PositionInput[], extra: Partial<UserHoldings> = {}) {
  const quotes = new QuoteBook();
  const s = new PortfolioState({
    user_id: U,
    base_currency: "USD",
    account_ids: [A1, A2],
    positions,
    balances: [],
    ...extra,
  }, quotes);
  return { s, quotes };
}

const FX = { date: "2026-11-30", rates: new Map([["USD", "1.05"], ["CAD", "1.47"], ["EUR", "1"]]) };

Deno.test("amounts are converted to the base currency; a currency without a rate is named and left out", () => {
  const { s } = state([
    pos({ symbol: "SHOP", currency: "CAD", price: "147", quantity: "10", account_id: A2 }),
    pos({ symbol: "AAPL", price: "105", quantity: "2" }),
    pos({ symbol: "XYZ", currency: "CHF", price: "10", quantity: "1" }),
  ], { balances: [{ account_id: A1, currency: "USD", cash: "5" }] });
  const v = build(s, 1, { now: NOW, fx: FX, market: "open" });
  // 1470 CAD = 1470 / 1.47 × 1.05 = 1050 USD
  assert.equal(v.total, "1265");
  assert.equal(v.positions_value, "1260");
  assert.equal(v.cash, "5");
  assert.deepEqual(v.fx, { date: "2026-11-30", unconverted: ["CHF"] });
  assert.deepEqual(v.totals.map((t) => [t.currency, t.total, t.base_total]), [
    ["CAD", "1470", "1050"],
    ["CHF", "10", null],
    ["USD", "215", "215"],
  ]);
  assert.deepEqual(v.accounts.find((a) => a.account_id === A2), {
    account_id: A2,
    value: "1050",
    native: [{ currency: "CAD", value: "1470" }],
    day_change: "0",
  });
});

Deno.test("day change and P/L carry their coverage; freshness counts each price's source", () => {
  const { s, quotes } = state([
    pos({
      symbol: "AAPL",
      instrument_id: "10000000-0000-4000-8000-000000000001",
      instrument_symbol: "AAPL",
      instrument_currency: "USD",
      price: "100",
      quantity: "2",
      cost_basis: "150",
    }),
    pos({ symbol: "OLD", price: "10", previous_close: "8", quantity: "1" }),
    pos({ symbol: "NOPRICE", quantity: "1" }),
    pos({ symbol: "MMF", security_type: "cash_equivalent", price: "1", quantity: "50" }),
    pos({
      symbol: "BTC",
      security_type: "crypto",
      instrument_id: "10000000-0000-4000-8000-000000000002",
      instrument_symbol: "BTC/USD",
      instrument_currency: "USD",
      quantity: "0.5",
    }),
  ]);
  quotes.get("AAPL")!.applyLast({
    symbol: "AAPL",
    price: "110",
    previous_close: "105",
    time: new Date(NOW - 60_000).toISOString(),
    feed: "iex",
    delayed: false,
  });
  quotes.get("BTC/USD")!.applyTick({
    price: "90000",
    time: new Date(NOW - STALE_AFTER_MS - 1).toISOString(),
    delayed: true,
  });
  s.revalue();
  const v = PortfolioValue.parse(
    build(s, 7, { now: NOW, fx: null, market: "closed" }),
  );
  // 2 × 110 + 10 + 50 + 45000
  assert.equal(v.positions_value, "45280");
  // AAPL 2 × 5, OLD 1 × 2; BTC has no previous close, NOPRICE no price, MMF left out.
  assert.deepEqual(v.day_change, { amount: "12", percent: "5.50", covered: 2, positions: 4 });
  assert.deepEqual(v.unrealized_pl, { amount: "70", cost_basis: "150", covered: 1, positions: 4 });
  assert.deepEqual(v.prices, {
    as_of: new Date(NOW - 60_000).toISOString(),
    live: 1,
    delayed: 1,
    stale: 1, // crypto trades while the stock market is closed
    provider: 2,
    unpriced: 1,
    market: "closed",
  });
  assert.deepEqual(Object.keys(v.quotes).sort(), ["AAPL", "BTC/USD"]);
  assert.equal(v.fx.date, null);
});

Deno.test("without a live quote every account of a security takes the freshest synced price", () => {
  const { s } = state([
    pos({ symbol: "VTI", price: "200", quantity: "1", synced_at: new Date(NOW - 10_000) }),
    pos({ symbol: "VTI", price: "201", quantity: "1", account_id: A2, synced_at: new Date(NOW) }),
  ]);
  const v = build(s, 1, { now: NOW, fx: null, market: "unknown" });
  assert.equal(v.total, "402");
  assert.deepEqual(v.accounts.map((a) => a.value), ["201", "201"]);
});
