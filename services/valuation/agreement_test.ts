/**
 * The stream and a page load agree: for random portfolios and quotes, the value valuation
 * publishes has the totals of the holdings view `GET /api/holdings` builds from the same rows,
 * prices and FX rates (one set of pricing rules, two implementations of the arithmetic).
 */
import assert from "node:assert/strict";
import { PortfolioValue } from "@meridian/proto";
import { aggregateHoldings } from "@meridian/portfolio";
import { NOW, prng, quotes, world } from "@meridian/portfolio/testing";
import type { UserHoldings } from "./holdings.ts";
import { PortfolioState } from "./portfolio_state.ts";
import { QuoteBook } from "./quotes.ts";
import { encodePortfolioValue } from "./value_message.ts";

const USER = "00000000-0000-4000-8000-000000000001";

Deno.test("valuation's message and the api's holdings view agree on random portfolios", () => {
  for (let seed = 1; seed <= 300; seed++) {
    const w = world(seed);
    const r = prng(seed * 7919);
    const q = quotes(r, w);
    const marketOpen = r.chance(0.5);
    const view = aggregateHoldings(USER, w.rows, NOW, w.base, { quotes: q, marketOpen });

    const book = new QuoteBook();
    for (const [symbol, quote] of Object.entries(q)) {
      book.applyLast({ symbol, ...quote, feed: "iex" });
    }
    const holdings: UserHoldings = {
      user_id: USER,
      base_currency: w.base.currency,
      account_ids: w.rows.accounts.map((a) => a.id),
      positions: w.rows.positions,
      balances: w.rows.balances.map((b) => ({
        account_id: b.account_id,
        currency: b.currency,
        cash: b.cash,
      })),
    };
    const state = new PortfolioState(holdings, book);
    const v = PortfolioValue.parse(JSON.parse(encodePortfolioValue(state, 1, {
      now: NOW.getTime(),
      fx: w.base.fx,
      market: marketOpen ? "open" : "closed",
    })));

    const at = `seed ${seed}`;
    assert.equal(v.currency, view.base.currency, at);
    assert.equal(v.total, view.base.total, at);
    assert.equal(v.positions_value, view.base.positions_value, at);
    assert.equal(v.cash, view.base.cash, at);
    assert.deepEqual(v.fx.unconverted, view.base.unconverted, at);
    assert.equal(v.fx.date, view.base.fx_date, at);
    const viewTotals = new Map(view.totals.map((t) => [t.currency, t]));
    for (const t of v.totals) {
      const vt = viewTotals.get(t.currency);
      if (!vt) {
        // A currency only in cash positions or empty balances: nothing to value there.
        assert.equal(t.total, "0", `${at} ${t.currency}`);
        continue;
      }
      assert.equal(t.positions_value, vt.positions_value, `${at} ${t.currency}`);
      assert.equal(t.cash, vt.cash, `${at} ${t.currency}`);
      assert.equal(t.total, vt.total, `${at} ${t.currency}`);
    }
    // Every position the view values at a live quote shows the same price in the message.
    for (const a of view.accounts) {
      for (const p of a.positions) {
        if (p.price_source !== "live" && p.price_source !== "delayed") continue;
        assert.equal(v.quotes[p.instrument_symbol!][0], p.price, `${at} ${p.symbol}`);
      }
    }
  }
});
