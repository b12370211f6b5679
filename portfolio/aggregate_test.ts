import assert from "node:assert/strict";
import { aggregateHoldings, baseTotals, type HoldingsRows } from "./aggregate.ts";
import { HoldingsView } from "./views.ts";

const U = "00000000-0000-4000-8000-000000000001";
const C1 = "10000000-0000-4000-8000-000000000001";
const C2 = "10000000-0000-4000-8000-000000000002";
const A1 = "20000000-0000-4000-8000-000000000001";
const A2 = "20000000-0000-4000-8000-000000000002";
const A3 = "20000000-0000-4000-8000-000000000003";
const t0 = new Date("2026-01-01T00:00:00Z");
const t1 = new Date("2026-01-02T00:00:00Z");
let n = 0;
const pid = () => `30000000-0000-4000-8000-${String(++n).padStart(12, "0")}`;

function rows(): HoldingsRows {
  return {
    connections: [
      {
        id: C1,
        provider: "snaptrade",
        institution: "Questrade",
        status: "active",
        status_reason: null,
        warning: null,
        last_synced_at: t0,
        pending_since: null,
      },
      {
        id: C2,
        provider: "plaid",
        institution: "Vanguard",
        status: "error",
        status_reason: "ITEM_LOGIN_REQUIRED",
        warning: null,
        last_synced_at: t1,
        pending_since: t1,
      },
    ],
    accounts: [
      acct(A1, C1, "snaptrade", "USD"),
      acct(A2, C2, "plaid", "USD"),
      acct(A3, C1, "snaptrade", "CAD"),
    ],
    positions: [
      pos(A1, "AAPL", "10", "0.1", "1.00", t0),
      pos(A2, "AAPL", "0.2", "0.2", "0.30", t1),
      pos(A1, "MSFT", "3", null, "900", t0),
      pos(A3, "SHOP", "5", "100.5", null, t0),
      { ...pos(A1, "CASH", "50", "1", null, t0), security_type: "cash" },
      {
        ...pos(A1, "AAPL 260116C00200000", "2", "1.5", "250", t0),
        security_type: "option",
        option_details: { multiplier: 100 },
      },
    ],
    balances: [
      { account_id: A1, currency: "USD", cash: "100.10", buying_power: null, synced_at: t0 },
      { account_id: A2, currency: "USD", cash: "0.20", buying_power: "1", synced_at: t1 },
      { account_id: A3, currency: "CAD", cash: "-5", buying_power: null, synced_at: t0 },
    ],
  };
}

function acct(
  id: string,
  connection_id: string,
  provider: "snaptrade" | "plaid",
  currency: string,
) {
  return {
    id,
    connection_id,
    provider,
    name: `acct ${id.slice(-1)}`,
    number_mask: null,
    type: "brokerage" as const,
    currency,
    status: "open" as const,
    can_trade: false,
    synced_at: t0,
  };
}

function pos(
  account_id: string,
  symbol: string,
  quantity: string,
  price: string | null,
  cost_basis: string | null,
  synced_at: Date,
  previous_close: string | null = null,
) {
  return {
    id: pid(),
    account_id,
    symbol,
    name: null,
    security_type: "equity" as "equity" | "option" | "cash" | "cash_equivalent",
    quantity,
    price,
    previous_close,
    cost_basis,
    currency: symbol === "SHOP" ? "CAD" : "USD",
    option_details: null,
    synced_at,
    instrument_id: null as string | null,
    instrument_symbol: null as string | null,
    instrument_name: null as string | null,
    instrument_currency: null as string | null,
    unresolved_reason: "not resolved in this test" as string | null,
  };
}

Deno.test("aggregates positions across accounts with exact decimals", () => {
  const v = aggregateHoldings(U, rows(), t1);
  HoldingsView.parse(v);
  const aapl = v.positions.find((p) => p.symbol === "AAPL")!;
  assert.equal(aapl.quantity, "10.2");
  assert.equal(aapl.price, "0.2"); // most recently synced price
  assert.equal(aapl.price_source, "provider");
  assert.equal(aapl.price_time, t1.toISOString());
  assert.equal(aapl.value, "2.04");
  assert.equal(aapl.cost_basis, "1.3");
  assert.equal(aapl.unrealized_pl, "0.74");
  assert.deepEqual(aapl.providers, ["snaptrade", "plaid"]);
  assert.equal(aapl.accounts.length, 2);
  // One price per instrument: every account at the most recently synced price, and the row
  // the sum of the accounts.
  assert.deepEqual(aapl.accounts.map((a) => [a.price, a.value]), [["0.2", "2"], ["0.2", "0.04"]]);
  const a1aapl = v.accounts.find((a) => a.id === A1)!.positions.find((p) => p.symbol === "AAPL")!;
  assert.equal(a1aapl.price, "0.2");
  assert.equal(a1aapl.provider_price, "0.1"); // what its own provider said
  // Cash positions stay in the account, out of the aggregate.
  assert.equal(v.positions.find((p) => p.symbol === "CASH"), undefined);
  assert.ok(v.accounts.find((a) => a.id === A1)!.positions.some((p) => p.symbol === "CASH"));
  // Options use the contract multiplier.
  const opt = v.positions.find((p) => p.security_type === "option")!;
  assert.equal(opt.value, "300");
  assert.equal(opt.unrealized_pl, "50");
});

Deno.test("totals per currency, unpriced positions counted apart", () => {
  const v = aggregateHoldings(U, rows(), t1);
  const usd = v.totals.find((t) => t.currency === "USD")!;
  assert.equal(usd.positions_value, "302.04");
  assert.equal(usd.cash, "100.3");
  assert.equal(usd.total, "402.34");
  assert.equal(usd.unpriced_positions, 1);
  assert.equal(usd.cost_basis, "1151.3");
  assert.equal(usd.unrealized_pl, "50.74");
  const cad = v.totals.find((t) => t.currency === "CAD")!;
  assert.deepEqual(cad, {
    currency: "CAD",
    positions_value: "502.5",
    cash: "-5",
    total: "497.5",
    cost_basis: "0",
    unrealized_pl: "0",
    unpriced_positions: 0,
    day_change: null,
    day_change_percent: null,
    day_change_coverage: { known: 0, of: 1 },
  });
  assert.deepEqual(v.cash.map((c) => [c.currency, c.amount]), [["CAD", "-5"], ["USD", "100.3"]]);
  const shop = v.positions.find((p) => p.symbol === "SHOP")!;
  assert.equal(shop.cost_basis, null);
  assert.equal(shop.unrealized_pl, null);
  const msft = v.positions.find((p) => p.symbol === "MSFT")!;
  assert.equal(msft.value, null);
  assert.equal(msft.cost_basis, "900");
});

Deno.test("provider summaries: oldest sync, pending flags, connection health", () => {
  const v = aggregateHoldings(U, rows(), t1);
  assert.deepEqual(v.providers.map((p) => [p.provider, p.last_synced, p.has_pending_updates]), [
    ["snaptrade", t0.toISOString(), false],
    ["plaid", t1.toISOString(), true],
  ]);
  assert.equal(v.providers[1].connections[0].status_reason, "ITEM_LOGIN_REQUIRED");
  const r = rows();
  r.connections[0].last_synced_at = null;
  assert.equal(aggregateHoldings(U, r, t1).providers[0].last_synced, null);
});

Deno.test("an empty user has an empty view", () => {
  const v = aggregateHoldings(
    U,
    { connections: [], accounts: [], positions: [], balances: [] },
    t0,
  );
  assert.deepEqual(
    { ...v, generated_at: undefined },
    {
      user_id: U,
      generated_at: undefined,
      accounts: [],
      positions: [],
      cash: [],
      totals: [],
      base: {
        currency: "USD",
        positions_value: "0",
        cash: "0",
        total: "0",
        fx_date: null,
        unconverted: [],
        rates: { USD: "1" },
        eur_rates: {},
      },
      providers: [],
    },
  );
});

/**
 * rows() with previous closes: AAPL's (the pair of its most recent sync, A2's, applies to both
 * accounts), the option's; MSFT has a close but no price.
 */
function rowsWithCloses(): HoldingsRows {
  const r = rows();
  const close: Record<string, string | null> = {
    AAPL: "0.09",
    MSFT: "300",
    SHOP: "101",
    CASH: null,
    "AAPL 260116C00200000": "1.25",
  };
  r.positions = r.positions.map((p) => ({
    ...p,
    previous_close: p.account_id === A2 ? "0.19" : close[p.symbol],
  }));
  r.positions.push({
    ...pos(A1, "VMFXX", "300", "1", "300", t0),
    security_type: "cash_equivalent",
  });
  return r;
}

Deno.test("day change per position: quantity × (price − previous close), × multiplier", () => {
  const v = HoldingsView.parse(aggregateHoldings(U, rowsWithCloses(), t1));
  const a1 = v.accounts.find((a) => a.id === A1)!;
  const aapl = a1.positions.find((p) => p.symbol === "AAPL")!;
  // A2's pair (0.2, 0.19), the most recently synced, values A1's AAPL too.
  assert.equal(aapl.previous_close, "0.19");
  assert.equal(aapl.provider_previous_close, "0.09");
  assert.equal(aapl.day_change, "0.1"); // 10 × 0.01 exactly, not 0.09999…
  assert.equal(aapl.day_change_percent, "5.26"); // of 10 × 0.19
  const opt = a1.positions.find((p) => p.security_type === "option")!;
  assert.equal(opt.day_change, "50"); // 2 × 0.25 × 100
  assert.equal(opt.day_change_percent, "20.00");
  // No price: no day change, even with a previous close (which goes with no price).
  const msft = a1.positions.find((p) => p.symbol === "MSFT")!;
  assert.equal(msft.previous_close, null);
  assert.equal(msft.provider_previous_close, "300");
  assert.equal(msft.day_change, null);
  assert.equal(msft.day_change_percent, null);
  assert.equal(msft.price_source, null);
  // No previous close: null, never "0".
  const vmfxx = a1.positions.find((p) => p.symbol === "VMFXX")!;
  assert.equal(vmfxx.day_change, null);
  const shop = v.accounts.find((a) => a.id === A3)!.positions[0];
  assert.equal(shop.day_change, "-2.5");
  assert.equal(shop.day_change_percent, "-0.50"); // −0.4950… rounds half-up away from zero
});

Deno.test("day change by symbol: the accounts that know it, and how many do not", () => {
  const v = aggregateHoldings(U, rowsWithCloses(), t1);
  const aapl = v.positions.find((p) => p.symbol === "AAPL")!;
  assert.equal(aapl.day_change, "0.102");
  assert.equal(aapl.day_change_percent, "5.26"); // 0.102 ÷ 1.938
  assert.equal(aapl.day_change_unknown_accounts, 0);
  assert.deepEqual(aapl.accounts.map((a) => [a.previous_close, a.day_change]), [
    ["0.19", "0.1"],
    ["0.19", "0.002"],
  ]);
  const opt = v.positions.find((p) => p.security_type === "option")!;
  assert.equal(opt.day_change, "50");
  assert.equal(opt.day_change_unknown_accounts, 0);
  const msft = v.positions.find((p) => p.symbol === "MSFT")!;
  assert.equal(msft.day_change, null);
  assert.equal(msft.day_change_unknown_accounts, 1);
});

Deno.test("day change totals per currency: sum of the known, with coverage", () => {
  const v = aggregateHoldings(U, rowsWithCloses(), t1);
  const usd = v.totals.find((t) => t.currency === "USD")!;
  assert.equal(usd.day_change, "50.102");
  // 50.102 ÷ (1.9 + 0.038 + 250) × 100 = 19.886…
  assert.equal(usd.day_change_percent, "19.89");
  // Known: AAPL in A1 and A2, and the option; unknown: MSFT (no price). VMFXX (a cash
  // equivalent without a close) and CASH are not counted.
  assert.deepEqual(usd.day_change_coverage, { known: 3, of: 4 });
  const cad = v.totals.find((t) => t.currency === "CAD")!;
  assert.equal(cad.day_change, "-2.5");
  assert.equal(cad.day_change_percent, "-0.50");
  assert.deepEqual(cad.day_change_coverage, { known: 1, of: 1 });
  // Nothing known: null, not a zero change.
  const none = aggregateHoldings(U, rows(), t1).totals.find((t) => t.currency === "USD")!;
  assert.equal(none.day_change, null);
  assert.equal(none.day_change_percent, null);
  assert.deepEqual(none.day_change_coverage, { known: 0, of: 4 });
});

Deno.test("day change of a short option and of many small positions stays exact", () => {
  const r: HoldingsRows = { ...rows(), positions: [], balances: [] };
  r.positions.push({
    ...pos(A1, "SPY 260320P00500000", "-1", "1.25", null, t0, "1.3"),
    security_type: "option",
    option_details: { multiplier: "100" },
  });
  for (let i = 0; i < 10; i++) r.positions.push(pos(A1, `S${i}`, "1", "0.3", null, t0, "0.2"));
  const v = aggregateHoldings(U, r, t1);
  const put = v.positions.find((p) => p.symbol.startsWith("SPY"))!;
  assert.equal(put.day_change, "5"); // short: the price fell, the position gained
  assert.equal(put.day_change_percent, "3.85"); // of |−1 × 1.3 × 100|
  const usd = v.totals.find((t) => t.currency === "USD")!;
  assert.equal(usd.day_change, "6"); // 5 + 10 × 0.1, where floats give 6.000000000000001
  assert.deepEqual(usd.day_change_coverage, { known: 11, of: 11 });
});

const BTC = "40000000-0000-4000-8000-000000000001";
const btc = {
  instrument_id: BTC,
  instrument_symbol: "BTC/USD",
  instrument_name: "Bitcoin",
  instrument_currency: "USD",
};

Deno.test("one row per instrument, whatever each provider calls it", () => {
  const r: HoldingsRows = { ...rows(), positions: [], balances: [] };
  r.positions.push(
    { ...pos(A1, "BTC", "0.0523", "64250.12", "3000", t0), security_type: "crypto", ...btc },
    { ...pos(A2, "BTCUSD", "0.25", "64300", "13000", t1), security_type: "crypto", ...btc },
    { ...pos(A1, "XYZ1", "2", "3", null, t0), unresolved_reason: "no ticker" },
  );
  for (const p of r.positions) if (p.instrument_id) p.unresolved_reason = null;
  const v = HoldingsView.parse(aggregateHoldings(U, r, t1));
  assert.deepEqual(v.positions.map((p) => p.symbol), ["BTC/USD", "XYZ1"]);
  const [coin, other] = v.positions;
  assert.equal(coin.instrument_id, BTC);
  assert.equal(coin.unresolved_reason, null);
  assert.equal(coin.name, "Bitcoin");
  assert.equal(coin.quantity, "0.3023");
  assert.equal(coin.price, "64300"); // the most recently synced
  assert.equal(coin.value, "19437.89");
  assert.deepEqual(coin.providers, ["snaptrade", "plaid"]);
  assert.deepEqual(coin.accounts.map((a) => a.quantity), ["0.0523", "0.25"]);
  // An unresolved position keeps its provider's price and says why.
  assert.equal(other.instrument_id, null);
  assert.equal(other.unresolved_reason, "no ticker");
  assert.equal(other.price, "3");
  assert.equal(other.value, "6");
  const own = v.accounts.find((a) => a.id === A1)!.positions;
  assert.deepEqual(own.map((p) => [p.symbol, p.instrument_id]), [["BTC", BTC], ["XYZ1", null]]);
});

Deno.test("base totals: each currency converted through EUR and summed; no rate, left out", () => {
  const total = (currency: string, positions_value: string, cash: string) => ({
    currency,
    positions_value,
    cash,
    total: "0",
    cost_basis: "0",
    unrealized_pl: "0",
    unpriced_positions: 0,
    day_change: null,
    day_change_percent: null,
    day_change_coverage: { known: 0, of: 0 },
  });
  const fx = { date: "2026-11-27", rates: new Map([["USD", "1.25"], ["CAD", "1.5"]]) };
  const totals = [total("CAD", "300", "30"), total("EUR", "100", "0"), total("USD", "50", "5")];
  // CAD 330 = EUR 220 = USD 275; EUR 100 = USD 125; plus USD 55.
  assert.deepEqual(baseTotals(totals, { currency: "USD", fx }), {
    currency: "USD",
    positions_value: "425",
    cash: "30",
    total: "455",
    fx_date: "2026-11-27",
    unconverted: [],
    // USD per unit of each currency held (20 significant digits), and the ECB rates used.
    rates: { USD: "1", CAD: "0.83333333333333333333", EUR: "1.25" },
    eur_rates: { USD: "1.25", CAD: "1.5" },
  });
  // GBP has no rate: left out and named, never guessed.
  const withGbp = baseTotals([...totals, total("GBP", "10", "0")], { currency: "EUR", fx });
  assert.deepEqual(withGbp.unconverted, ["GBP"]);
  assert.equal(withGbp.total, "364"); // CAD 330 = EUR 220, EUR 100, USD 55 = EUR 44
  // Nothing to convert: no FX date; no rates at all: everything foreign is unconverted.
  assert.equal(baseTotals([total("USD", "1", "0")], { currency: "USD", fx }).fx_date, null);
  assert.deepEqual(
    baseTotals(totals, { currency: "USD", fx: null }).unconverted,
    ["CAD", "EUR"],
  );
});
