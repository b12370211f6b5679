/**
 * Property tests of the holdings view over random portfolios (a seeded PRNG, so a failure
 * names its seed and reproduces): several accounts and providers holding the same
 * instruments, options, unresolved positions, cash, several currencies, random quotes.
 */
import assert from "node:assert/strict";
import type { Decimal } from "decimal.js";
import { aggregateHoldings, type HoldingsRows } from "./aggregate.ts";
import { Exact } from "./exact.ts";
import { convert } from "./fx_cross.ts";
import { applicableQuote, type Quotes } from "./pricing.ts";
import { repriceHoldings } from "./reprice.ts";
import { type AccountPositionView, HoldingsView } from "./views.ts";

import { NOW, position, prng, quotes, world } from "./testing/random_portfolio.ts";

const SEEDS = Array.from({ length: 300 }, (_, i) => 1_000 + i);
const sum = (xs: (string | null)[]): Decimal =>
  xs.reduce((s: Decimal, x) => (x === null ? s : s.plus(x)), new Exact(0));

/** The aggregation key of an account position, as the aggregated rows are keyed. */
const keyOf = (p: AccountPositionView) => p.instrument_id ?? `${p.symbol}\u0000${p.currency}`;

function check(seed: number, market: { quotes: Quotes; marketOpen: boolean | null }) {
  const w = world(seed);
  const v = HoldingsView.parse(
    aggregateHoldings("00000000-0000-4000-8000-000000000001", w.rows, NOW, w.base, market),
  );
  const members = new Map<string, AccountPositionView[]>();
  for (const a of v.accounts) {
    for (const p of a.positions) {
      if (p.security_type === "cash") continue;
      members.set(keyOf(p), [...(members.get(keyOf(p)) ?? []), p]);
    }
  }
  assert.equal(v.positions.length, members.size);
  for (const row of v.positions) {
    const ps = members.get(row.instrument_id ?? `${row.symbol}\u0000${row.currency}`)!;
    const msg = `seed ${seed}, ${row.symbol}`;
    assert.ok(ps, msg);
    // One price: every account of the row at the row's price, from the same source.
    for (const p of ps) {
      assert.deepEqual(
        [p.price, p.previous_close, p.price_source, p.price_time, p.stale],
        [row.price, row.previous_close, row.price_source, row.price_time, row.stale],
        msg,
      );
    }
    for (const s of row.accounts) assert.equal(s.price, row.price, msg);
    // The row is the sum of its account rows.
    assert.equal(row.quantity, sum(ps.map((p) => p.quantity)).toFixed(), msg);
    const values = ps.map((p) => p.value);
    assert.equal(row.value, values.every((x) => x === null) ? null : sum(values).toFixed(), msg);
    assert.ok(values.every((x) => x === null) || values.every((x) => x !== null), msg);
    const days = ps.map((p) => p.day_change);
    assert.equal(row.day_change, days.every((x) => x === null) ? null : sum(days).toFixed(), msg);
    const costs = ps.map((p) => p.cost_basis);
    assert.equal(row.cost_basis, costs.some((x) => x === null) ? null : sum(costs).toFixed(), msg);
    const pls = ps.map((p) => p.unrealized_pl);
    assert.equal(
      row.unrealized_pl,
      pls.some((x) => x === null) ? null : sum(pls).toFixed(),
      msg,
    );
    // A live quote, where it applies, is the price.
    const q = ps[0].instrument_symbol === null ? undefined : applicableQuote(
      { ...ps[0], instrument_currency: ps[0].instrument_currency },
      market.quotes,
    );
    if (q) {
      assert.equal(row.price, new Exact(q.price).toFixed(), msg);
      assert.equal(row.price_source, q.delayed ? "delayed" : "live", msg);
    } else {
      assert.ok(row.price_source === "provider" || row.price_source === null, msg);
    }
  }
  // Each currency's total is the sum of its rows; the base total the sum of the converted.
  for (const t of v.totals) {
    const rows = v.positions.filter((p) => p.currency === t.currency);
    assert.equal(t.positions_value, sum(rows.map((p) => p.value)).toFixed(), `seed ${seed}`);
    assert.equal(t.cost_basis, sum(rows.map((p) => p.cost_basis)).toFixed(), `seed ${seed}`);
    assert.equal(t.unrealized_pl, sum(rows.map((p) => p.unrealized_pl)).toFixed());
    assert.equal(t.unpriced_positions, rows.filter((p) => p.value === null).length);
    assert.equal(t.total, new Exact(t.positions_value).plus(t.cash).toFixed());
  }
  const rates = w.base.fx?.rates ?? new Map<string, string>();
  const conv = (t: { currency: string }, x: string) =>
    t.currency === v.base.currency ? x : convert(x, t.currency, v.base.currency, rates);
  const convertible = v.totals.filter((t) => !v.base.unconverted.includes(t.currency));
  assert.equal(
    v.base.positions_value,
    sum(convertible.map((t) => conv(t, t.positions_value))).toFixed(),
    `seed ${seed}`,
  );
  assert.equal(v.base.cash, sum(convertible.map((t) => conv(t, t.cash))).toFixed());
  return { w, v };
}

Deno.test("property: rows are the sums of their accounts, totals the sums of rows", () => {
  for (const seed of SEEDS) {
    const r = prng(seed * 7);
    const w = world(seed);
    check(seed, { quotes: quotes(r, w), marketOpen: r.pick([true, false, null]) });
    check(seed, { quotes: {}, marketOpen: null });
  }
});

Deno.test("property: an unrelated account's sync leaves a quoted instrument's row alone", () => {
  for (const seed of SEEDS) {
    const r = prng(seed * 13);
    const w = world(seed);
    const market = { quotes: quotes(r, w), marketOpen: r.pick([true, false, null]) };
    const before = aggregateHoldings("u", w.rows, NOW, w.base, market);
    for (const row of before.positions) {
      if (row.price_source !== "live" && row.price_source !== "delayed") continue;
      const mine = new Set(
        w.rows.positions.filter((p) => p.instrument_id === row.instrument_id).map((p) => p.id),
      );
      const holders = new Set(
        w.rows.positions.filter((p) => mine.has(p.id)).map((p) => p.account_id),
      );
      // Another account (one without this instrument, or a new one) syncs: its positions are
      // replaced with new quantities, prices, closes and times; other instruments' rows
      // elsewhere change too.
      const others = w.rows.accounts.filter((a) => !holders.has(a.id)).map((a) => a.id);
      const newAccount = r.uuid();
      const rows: HoldingsRows = {
        ...w.rows,
        accounts: [...w.rows.accounts, { ...w.rows.accounts[0], id: newAccount }],
        positions: [
          ...w.rows.positions.filter((p) => mine.has(p.id) || !others.includes(p.account_id)),
          ...[...others, newAccount].flatMap((a) =>
            Array.from({ length: r.int(0, 5) }, () => position(r, w, a, NOW))
          ).filter((p) => p.instrument_id !== row.instrument_id),
        ],
      };
      const after = aggregateHoldings("u", rows, NOW, w.base, market);
      const again = after.positions.find((p) => p.instrument_id === row.instrument_id)!;
      assert.deepEqual(again, row, `seed ${seed}, ${row.symbol}`);
    }
  }
});

Deno.test("property: re-pricing a view at new quotes equals aggregating the rows at them", () => {
  for (const seed of SEEDS) {
    const r = prng(seed * 31);
    const w = world(seed);
    const a = { quotes: quotes(r, w), marketOpen: r.pick([true, false, null]) };
    const b = { quotes: quotes(r, w), marketOpen: r.pick([true, false, null]) };
    const later = new Date(NOW.getTime() + r.int(0, 30) * 60_000);
    const u = "00000000-0000-4000-8000-000000000001";
    const viewA = aggregateHoldings(u, w.rows, NOW, w.base, a);
    // Through JSON, as the browser gets it.
    const fromJson = HoldingsView.parse(JSON.parse(JSON.stringify(viewA)));
    const repriced = repriceHoldings(fromJson, b.quotes, later, b.marketOpen);
    const direct = aggregateHoldings(u, w.rows, later, w.base, b);
    assert.deepEqual(
      { ...repriced, generated_at: "" },
      { ...direct, generated_at: "" },
      `seed ${seed}`,
    );
    assert.equal(repriced.generated_at, viewA.generated_at);
    // And back: no quotes at all is the database view.
    assert.deepEqual(
      { ...repriceHoldings(repriced, {}, NOW, null), generated_at: "" },
      { ...aggregateHoldings(u, w.rows, NOW, w.base), generated_at: "" },
      `seed ${seed}`,
    );
  }
});
