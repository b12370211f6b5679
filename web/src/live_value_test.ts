import assert from "node:assert/strict";
import {
  aggregateHoldings,
  Exact,
  type HoldingsView,
  quotesFromTuples,
  repriceHoldings,
} from "@meridian/portfolio";
import { NOW, prng, quotes, world } from "@meridian/portfolio/testing";
// Valuation's own encoder: the summary computed from a view must be what valuation publishes.
import { PortfolioState } from "../../services/valuation/portfolio_state.ts";
import { QuoteBook } from "../../services/valuation/quotes.ts";
import { encodePortfolioValue } from "../../services/valuation/value_message.ts";
import {
  freshnessText,
  indicator,
  LIVE_WINDOW_MS,
  marketOpen,
  parseValue,
  type PortfolioValue,
  priceStatusOfView,
  summaryOfValue,
  summaryOfView,
  toBase,
  valueMoved,
  valueStep,
} from "./live_value.ts";

const USER = "00000000-0000-4000-8000-000000000001";

/** A random world's view at quotes `q`, and the value valuation publishes for it. */
function both(seed: number): { view: HoldingsView; value: PortfolioValue; server: HoldingsView } {
  const w = world(seed);
  const r = prng(seed * 7919);
  const q = quotes(r, w);
  const open = r.chance(0.5);
  const server = aggregateHoldings(USER, w.rows, NOW, w.base);
  const view = aggregateHoldings(USER, w.rows, NOW, w.base, { quotes: q, marketOpen: open });
  const book = new QuoteBook();
  for (const [symbol, quote] of Object.entries(q)) {
    book.applyLast({ symbol, ...quote, feed: "iex" });
  }
  const state = new PortfolioState({
    user_id: USER,
    base_currency: w.base.currency,
    account_ids: w.rows.accounts.map((a) => a.id),
    positions: w.rows.positions.map((p) => ({ ...p })),
    balances: w.rows.balances.map((b) => ({ ...b })),
  }, book);
  const text = encodePortfolioValue(state, seed, {
    now: NOW.getTime(),
    fx: w.base.fx,
    market: open ? "open" : "closed",
  });
  const value = parseValue(text);
  assert.ok(value, `seed ${seed}: valuation's message parses`);
  return { view, value, server };
}

Deno.test("a value event is checked where it enters", () => {
  const { value } = both(3);
  assert.deepEqual(parseValue(JSON.stringify(value)), value);
  assert.equal(parseValue("{not json"), null);
  assert.equal(parseValue(JSON.stringify({ ...value, total: 12.5 })), null, "amounts are strings");
  assert.equal(parseValue(JSON.stringify({ ...value, seq: -1 })), null);
  assert.equal(marketOpen({ prices: { ...value.prices, market: "open" } }), true);
  assert.equal(marketOpen({ prices: { ...value.prices, market: "closed" } }), false);
  assert.equal(marketOpen({ prices: { ...value.prices, market: "unknown" } }), null);
});

Deno.test("values apply in seq order, in the view's currency, re-pricing the server's view", () => {
  for (let seed = 1; seed <= 40; seed++) {
    const { view, value, server } = both(seed);
    const at = `seed ${seed}`;
    assert.deepEqual(valueStep(server, value.seq, value, NOW), { kind: "old" }, at);
    assert.deepEqual(valueStep(server, value.seq + 1, value, NOW), { kind: "old" }, at);
    assert.deepEqual(valueStep(null, -1, value, NOW), { kind: "no_view" }, at);
    const other = { ...value, currency: value.currency === "USD" ? "EUR" : "USD" };
    assert.deepEqual(valueStep(server, -1, other, NOW), { kind: "currency" }, at);
    // The server's view priced later than the value's quotes: the value would move it back.
    const later = Object.fromEntries(
      Object.entries(quotesFromTuples(value.quotes)).map((
        [s, q],
      ) => [s, { ...q, time: "2030-01-01T00:00:00.000Z" }]),
    );
    const newer = repriceHoldings(server, later, NOW, null);
    if (newer.positions.some((p) => p.price_source === "live" || p.price_source === "delayed")) {
      assert.deepEqual(valueStep(newer, -1, value, NOW), { kind: "older_than_view" }, at);
    }
    const step = valueStep(server, value.seq - 1, value, NOW);
    assert.equal(step.kind, "apply", at);
    if (step.kind !== "apply") continue;
    // The server's view (at provider prices) re-priced at the value's quotes is the view the
    // server builds at those quotes, row for row.
    assert.deepEqual(step.view.positions, view.positions, at);
    assert.deepEqual(step.view.base, view.base, at);
    // ...and it sums to the value's total.
    assert.equal(step.view.base.total, value.total, at);
  }
});

Deno.test("the summary of a view is the one valuation publishes for it", () => {
  for (let seed = 1; seed <= 200; seed++) {
    const { view, value } = both(seed);
    assert.deepEqual(summaryOfView(view), summaryOfValue(value), `seed ${seed}`);
  }
});

Deno.test("a republished, unchanged value is not movement", () => {
  const { value } = both(5);
  assert.equal(valueMoved(null, value), true);
  assert.equal(valueMoved(value, { ...value, seq: value.seq + 1 }), false);
  assert.equal(
    valueMoved(value, { ...value, total: new Exact(value.total).plus(1).toFixed() }),
    true,
  );
  const quotes = {
    ...value.quotes,
    ZZZ: ["1", null, NOW.toISOString(), false] as [string, null, string, boolean],
  };
  assert.equal(valueMoved(value, { ...value, quotes }), true);
  const [first] = Object.keys(value.quotes);
  if (first) {
    const moved = {
      ...value.quotes,
      [first]: [
        value.quotes[first][0],
        value.quotes[first][1],
        "2030-01-01T00:00:00Z",
        false,
      ] as [string, string | null, string, boolean],
    };
    assert.equal(valueMoved(value, { ...value, quotes: moved }), true);
  }
});

Deno.test("row amounts in the base currency: exact product with the view's rate", () => {
  const rates = { USD: "1", CAD: "0.71428571428571428571" };
  assert.equal(toBase("100", "USD", rates), "100");
  assert.equal(toBase("1.5", "CAD", rates), "1.071428571428571428565");
  assert.equal(toBase("-2", "CAD", rates), "-1.42857142857142857142");
  assert.equal(toBase(null, "CAD", rates), null);
  assert.equal(toBase("1", "MXN", rates), null, "no rate: not converted");
  assert.equal(toBase("1", "toString", rates), null, "no prototype keys");
});

Deno.test("the indicator claims Live only while moving values arrive", () => {
  const t = 1_000_000;
  assert.equal(indicator("connecting", null, null, t).label, "Connecting…");
  assert.equal(indicator("reconnecting", t, "open", t).state, "offline");
  assert.equal(indicator("open", null, null, t).label, "Connected");
  const live = indicator("open", t, "open", t + 1000);
  assert.equal(live.label, "Live");
  assert.equal(live.until, t + LIVE_WINDOW_MS + 1);
  assert.equal(indicator("open", t, "open", t + LIVE_WINDOW_MS).state, "live");
  assert.equal(
    indicator("open", t, "open", t + LIVE_WINDOW_MS + 1).label,
    "Connected · prices idle",
  );
  assert.equal(indicator("open", t, "unknown", t + 60_000).state, "idle");
  assert.equal(indicator("open", t, "closed", t + 60_000).label, "Connected · market closed");
  // Crypto moves while the stock market is closed: still live.
  assert.equal(indicator("open", t, "closed", t + 10).state, "live");
});

Deno.test("price counts from a view, and the words for them", () => {
  for (let seed = 1; seed <= 60; seed++) {
    const { view, value } = both(seed);
    const s = priceStatusOfView(view);
    const at = `seed ${seed}`;
    assert.equal(s.live, value.prices.live, at);
    assert.equal(s.delayed, value.prices.delayed, at);
    assert.equal(s.provider, value.prices.provider, at);
    assert.equal(s.unpriced, value.prices.unpriced, at);
    assert.equal(s.as_of, value.prices.as_of, at);
  }
  assert.equal(freshnessText({ delayed: 0, stale: 0 }), "");
  assert.equal(freshnessText({ delayed: 3, stale: 1 }), "3 delayed, 1 stale");
  assert.equal(freshnessText({ delayed: 0, stale: 2 }), "2 stale");
});
