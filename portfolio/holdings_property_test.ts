/**
 * Property tests of the holdings view over random portfolios (a seeded PRNG, so a failure
 * names its seed and reproduces): several accounts and providers holding the same
 * instruments, options, unresolved positions, cash, several currencies, random quotes.
 */
import assert from "node:assert/strict";
import type { Decimal } from "decimal.js";
import {
  aggregateHoldings,
  type BaseCurrency,
  type HoldingsRows,
  type PositionRow,
} from "./aggregate.ts";
import { Exact } from "./exact.ts";
import { convert } from "./fx_cross.ts";
import { applicableQuote, type Quotes } from "./pricing.ts";
import { repriceHoldings } from "./reprice.ts";
import { type AccountPositionView, HoldingsView } from "./views.ts";

/** mulberry32: a small seeded PRNG. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[int(0, xs.length - 1)];
  const chance = (p: number) => next() < p;
  const hex = (n: number) => Array.from({ length: n }, () => int(0, 15).toString(16)).join("");
  const uuid = () => `${hex(8)}-${hex(4)}-4${hex(3)}-8${hex(3)}-${hex(12)}`;
  /** A positive decimal with up to `places` places (sometimes long ones). */
  const decimal = (maxInt: number, places: number) => {
    const whole = int(0, maxInt);
    const frac = Array.from({ length: int(0, places) }, () => int(0, 9)).join("");
    const s = frac ? `${whole}.${frac}` : String(whole);
    return s === "0" ? "0.5" : s;
  };
  return { next, int, pick, chance, uuid, decimal };
}
type Rng = ReturnType<typeof prng>;

interface Instrument {
  id: string;
  symbol: string;
  currency: string;
  security_type: PositionRow["security_type"];
  option?: boolean;
}

const NOW = new Date("2026-11-30T15:00:00.000Z");
const TIMES = [0, 1, 5, 14, 16, 60, 600].map((m) => new Date(NOW.getTime() - m * 60_000));

function instruments(r: Rng): Instrument[] {
  return [
    { id: r.uuid(), symbol: "AAPL", currency: "USD", security_type: "equity" },
    { id: r.uuid(), symbol: "BRK.B", currency: "USD", security_type: "equity" },
    { id: r.uuid(), symbol: "VTI", currency: "USD", security_type: "etf" },
    // A CAD listing: a quote for SHOP is in USD and never applies.
    { id: r.uuid(), symbol: "SHOP", currency: "CAD", security_type: "equity" },
    { id: r.uuid(), symbol: "BTC/USD", currency: "USD", security_type: "crypto" },
    { id: r.uuid(), symbol: "ETH/EUR", currency: "EUR", security_type: "crypto" },
    {
      id: r.uuid(),
      symbol: "AAPL270115C00250000",
      currency: "USD",
      security_type: "option",
      option: true,
    },
  ];
}

interface World {
  rows: HoldingsRows;
  base: BaseCurrency;
  instruments: Instrument[];
}

function position(r: Rng, w: World, accountId: string, syncedAt?: Date): PositionRow {
  const kind = r.int(0, 9);
  const price = r.chance(0.85) ? r.decimal(r.pick([2, 500, 70_000]), r.pick([2, 4, 9])) : null;
  const base = {
    id: r.uuid(),
    account_id: accountId,
    name: r.chance(0.5) ? "Some name" : null,
    quantity: (r.chance(0.1) ? "-" : "") + r.decimal(r.pick([3, 100, 5_000]), r.pick([0, 3, 9])),
    price,
    previous_close: r.chance(0.7) ? r.decimal(500, 4) : null,
    cost_basis: r.chance(0.7) ? r.decimal(100_000, 2) : null,
    option_details: null as Record<string, unknown> | null,
    synced_at: syncedAt ?? r.pick(TIMES),
  };
  if (kind <= 5) {
    const i = r.pick(w.instruments);
    return {
      ...base,
      symbol: i.option ? "AAPL 270115C00250000" : i.symbol.replace("/", "-"),
      security_type: i.security_type,
      currency: i.currency,
      option_details: i.option ? r.pick([null, { multiplier: 100 }, { multiplier: "10" }]) : null,
      instrument_id: i.id,
      instrument_symbol: i.symbol,
      instrument_name: r.chance(0.5) ? `${i.symbol} Inc.` : null,
      instrument_currency: i.currency,
      unresolved_reason: null,
    };
  }
  const cash = kind === 9;
  return {
    ...base,
    symbol: cash ? "CUR:USD" : r.pick(["037833100", "XYZ FUND", "MYSTERY"]),
    security_type: cash ? "cash" : r.pick(["equity", "mutual_fund", "cash_equivalent", "other"]),
    currency: r.pick(["USD", "USD", "CAD", "GBP"]),
    instrument_id: null,
    instrument_symbol: null,
    instrument_name: null,
    instrument_currency: null,
    unresolved_reason: "no ticker",
  };
}

function world(seed: number): World {
  const r = prng(seed);
  const w: World = {
    rows: { connections: [], accounts: [], positions: [], balances: [] },
    base: {
      currency: r.pick(["USD", "EUR", "CAD"]),
      fx: r.chance(0.8)
        ? { date: "2026-11-27", rates: new Map([["USD", "1.0812"], ["CAD", "1.5123"]]) }
        : null,
    },
    instruments: instruments(r),
  };
  const providers = ["snaptrade", "plaid", "alpaca"] as const;
  for (let c = 0; c < r.int(1, 4); c++) {
    const provider = r.pick(providers);
    const id = r.uuid();
    w.rows.connections.push({
      id,
      provider,
      institution: r.pick(["Questrade", "Vanguard", "Alpaca"]),
      status: "active",
      status_reason: null,
      warning: null,
      last_synced_at: r.chance(0.9) ? r.pick(TIMES) : null,
      pending_since: r.chance(0.3) ? r.pick(TIMES) : null,
    });
    for (let a = 0; a < r.int(1, 3); a++) {
      const accountId = r.uuid();
      const syncedAt = r.pick(TIMES);
      w.rows.accounts.push({
        id: accountId,
        connection_id: id,
        provider,
        name: r.pick(["Individual", "IRA", "Crypto"]),
        number_mask: null,
        type: "brokerage",
        currency: "USD",
        status: "open",
        can_trade: false,
        synced_at: syncedAt,
      });
      for (let p = 0; p < r.int(0, 8); p++) {
        w.rows.positions.push(position(r, w, accountId, r.chance(0.5) ? syncedAt : undefined));
      }
      for (const currency of ["USD", "CAD", "EUR", "GBP"]) {
        if (r.chance(0.4)) {
          w.rows.balances.push({
            account_id: accountId,
            currency,
            cash: (r.chance(0.1) ? "-" : "") + r.decimal(10_000, 2),
            buying_power: null,
            synced_at: syncedAt,
          });
        }
      }
    }
  }
  return w;
}

function quotes(r: Rng, w: World): Quotes {
  const out: Record<string, Quotes[string]> = {};
  for (const i of w.instruments) {
    if (!r.chance(0.6)) continue;
    out[i.symbol] = {
      price: r.decimal(70_000, r.pick([2, 6])),
      previous_close: r.chance(0.8) ? r.decimal(70_000, 2) : null,
      time: r.pick(TIMES).toISOString(),
      delayed: r.chance(0.3),
    };
  }
  if (r.chance(0.5)) {
    out.NOTHELD = { price: "1", previous_close: null, time: NOW.toISOString(), delayed: false };
  }
  return out;
}

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
