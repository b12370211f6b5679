import assert from "node:assert/strict";
import { Decimal } from "decimal.js";
import { aggregateHoldings, type HoldingsRows, type PositionRow } from "./aggregate.ts";
import { Exact, percentOf, percentOfIntegers } from "./exact.ts";
import {
  isPriceStale,
  nextStaleChange,
  type PricedPosition,
  pricePositions,
  quoteCurrency,
  STALE_AFTER_MS,
} from "./pricing.ts";

const now = new Date("2026-11-30T15:00:00.000Z");
const minutesAgo = (m: number) => new Date(now.getTime() - m * 60_000);
const AAPL = "40000000-0000-4000-8000-0000000000aa";
const SHOP = "40000000-0000-4000-8000-0000000000bb";
const BTC = "40000000-0000-4000-8000-0000000000cc";

function position(id: string, over: Partial<PricedPosition> = {}): PricedPosition {
  return {
    id,
    symbol: "AAPL",
    security_type: "equity",
    currency: "USD",
    price: "100",
    previous_close: "99",
    synced_at: minutesAgo(60),
    instrument_id: AAPL,
    instrument_symbol: "AAPL",
    instrument_currency: "USD",
    ...over,
  };
}

const quote = (price: string, over: Record<string, unknown> = {}) => ({
  price,
  previous_close: "150",
  time: minutesAgo(1).toISOString(),
  delayed: false,
  ...over,
});

Deno.test("quote currency: the second half of a crypto pair, USD for everything else", () => {
  assert.equal(quoteCurrency("AAPL"), "USD");
  assert.equal(quoteCurrency("BRK.B"), "USD");
  assert.equal(quoteCurrency("AAPL270115C00250000"), "USD");
  assert.equal(quoteCurrency("BTC/USD"), "USD");
  assert.equal(quoteCurrency("ETH/EUR"), "EUR");
});

Deno.test("P1: a live quote values every position of the instrument, with its close", () => {
  const ps = [
    position("p1", { price: "90", previous_close: "89", synced_at: minutesAgo(5) }),
    position("p2", { price: "95", previous_close: null, synced_at: minutesAgo(30) }),
  ];
  const live = pricePositions(ps, { quotes: { AAPL: quote("151.5") }, marketOpen: true }, now);
  for (const id of ["p1", "p2"]) {
    assert.deepEqual(live.get(id), {
      price: "151.5",
      previous_close: "150",
      source: "live",
      time: minutesAgo(1).toISOString(),
      stale: false,
    });
  }
  // Delayed, without a previous close: no day change for anyone (never the providers' closes).
  const delayed = pricePositions(ps, {
    quotes: { AAPL: quote("151.50", { previous_close: null, delayed: true }) },
    marketOpen: false,
  }, now);
  assert.deepEqual(delayed.get("p1"), {
    ...live.get("p1"),
    previous_close: null,
    source: "delayed",
  });
});

Deno.test("P1 applies only in the quote's currency; otherwise P2", () => {
  // A CAD listing of SHOP: the USD quote for SHOP does not value it.
  const ps = [
    position("p1", {
      symbol: "SHOP",
      currency: "CAD",
      instrument_id: SHOP,
      instrument_symbol: "SHOP",
      instrument_currency: "CAD",
      price: "80",
    }),
  ];
  const p = pricePositions(ps, { quotes: { SHOP: quote("60") }, marketOpen: null }, now);
  assert.equal(p.get("p1")!.price, "80");
  assert.equal(p.get("p1")!.source, "provider");
  // A crypto pair's quote is in its second half's currency.
  const coin = position("c1", {
    symbol: "BTC",
    security_type: "crypto",
    instrument_id: BTC,
    instrument_symbol: "BTC/USD",
  });
  const q = pricePositions(
    [coin],
    { quotes: { "BTC/USD": quote("64000") }, marketOpen: null },
    now,
  );
  assert.equal(q.get("c1")!.price, "64000");
});

Deno.test("P2: the pair of the most recently synced priced position; ties by the smaller id", () => {
  const ps = [
    position("b", { price: "101", previous_close: "100", synced_at: minutesAgo(10) }),
    position("a", { price: "102", previous_close: null, synced_at: minutesAgo(10) }),
    position("c", { price: "103", previous_close: "90", synced_at: minutesAgo(20) }),
    position("d", { price: null, previous_close: "1", synced_at: minutesAgo(1) }),
  ];
  const p = pricePositions(ps, { quotes: {}, marketOpen: null }, now);
  for (const id of ["a", "b", "c", "d"]) {
    assert.deepEqual(p.get(id), {
      price: "102",
      previous_close: null, // the pair, never a close from another position
      source: "provider",
      time: minutesAgo(10).toISOString(),
      stale: false,
    });
  }
  // Unresolved positions share by symbol and currency; a key with no price is unpriced.
  const un = (id: string, symbol: string, currency: string, price: string | null) =>
    position(id, {
      symbol,
      currency,
      price,
      instrument_id: null,
      instrument_symbol: null,
      instrument_currency: null,
    });
  const q = pricePositions(
    [
      un("x1", "XYZ", "USD", "5"),
      un("x2", "XYZ", "CAD", "7"),
      un("y1", "YYY", "USD", null),
    ],
    { quotes: { XYZ: quote("9") }, marketOpen: true },
    now,
  );
  assert.equal(q.get("x1")!.price, "5"); // no instrument: never a live quote
  assert.equal(q.get("x2")!.price, "7");
  assert.deepEqual(q.get("y1"), {
    price: null,
    previous_close: null,
    source: null,
    time: null,
    stale: false,
  });
});

Deno.test("cash positions keep their own price and are never stale", () => {
  const cash = position("k", {
    symbol: "USD",
    security_type: "cash",
    price: "1",
    instrument_id: null,
    instrument_symbol: null,
    instrument_currency: null,
    synced_at: minutesAgo(600),
  });
  const p = pricePositions([cash], { quotes: {}, marketOpen: true }, now);
  assert.equal(p.get("k")!.price, "1");
  assert.equal(p.get("k")!.stale, false);
});

Deno.test("stale: older than 15 minutes while its market trades", () => {
  const t = minutesAgo(15);
  assert.equal(isPriceStale(t, false, now, true), false); // exactly 15 minutes: not yet
  assert.equal(isPriceStale(new Date(t.getTime() - 1), false, now, true), true);
  assert.equal(isPriceStale(minutesAgo(600), false, now, false), false); // market closed
  assert.equal(isPriceStale(minutesAgo(600), false, now, null), false); // unknown: crypto only
  assert.equal(isPriceStale(minutesAgo(16), true, now, false), true); // crypto trades always
  assert.equal(isPriceStale(minutesAgo(16), true, now, null), true);
  // A provider price is stale as well, and a crypto key is known by its pair.
  const ps = [
    position("p", { synced_at: minutesAgo(20) }),
    position("c", {
      security_type: "crypto",
      instrument_id: BTC,
      instrument_symbol: "BTC/USD",
      synced_at: minutesAgo(20),
    }),
  ];
  const closed = pricePositions(ps, { quotes: {}, marketOpen: false }, now);
  assert.equal(closed.get("p")!.stale, false);
  assert.equal(closed.get("c")!.stale, true);
  assert.equal(pricePositions(ps, { quotes: {}, marketOpen: true }, now).get("p")!.stale, true);
  // When the next flag flips: the freshest quote 15 minutes and a millisecond after its time.
  const next = nextStaleChange(
    [
      { time: minutesAgo(1).toISOString(), stale: false, crypto: false },
      { time: minutesAgo(5).toISOString(), stale: false, crypto: true },
      { time: minutesAgo(30).toISOString(), stale: true, crypto: true },
    ],
    now,
    null,
  );
  assert.equal(next!.getTime(), minutesAgo(5).getTime() + STALE_AFTER_MS + 1);
  assert.equal(
    nextStaleChange(
      [{ time: minutesAgo(1).toISOString(), stale: false, crypto: false }],
      now,
      false,
    ),
    null,
  );
});

Deno.test("exact: products keep every digit (decimal.js's default would round to 20)", () => {
  // The default constructor loses the last digits of this product.
  assert.equal(
    new Decimal("0.123456789").times("97123.45678901").toFixed(),
    "11990.550111751425089",
  );
  assert.equal(
    new Exact("0.123456789").times("97123.45678901").toFixed(),
    "11990.55011175142508889",
  );
  const row: PositionRow = {
    id: "50000000-0000-4000-8000-000000000001",
    account_id: "20000000-0000-4000-8000-000000000001",
    symbol: "BTC",
    name: null,
    security_type: "crypto",
    quantity: "0.123456789",
    price: "97123.45678901",
    previous_close: "97000",
    cost_basis: "12345678901234567890.5",
    currency: "USD",
    option_details: null,
    synced_at: now,
    instrument_id: null,
    instrument_symbol: null,
    instrument_name: null,
    instrument_currency: null,
    unresolved_reason: "test",
  };
  const rows: HoldingsRows = {
    connections: [],
    accounts: [{
      id: row.account_id,
      connection_id: "10000000-0000-4000-8000-000000000001",
      provider: "alpaca",
      name: "a",
      number_mask: null,
      type: "crypto",
      currency: "USD",
      status: "open",
      can_trade: false,
      synced_at: now,
    }],
    positions: [row, { ...row, id: "50000000-0000-4000-8000-000000000002" }],
    balances: [],
  };
  const v = aggregateHoldings("00000000-0000-4000-8000-000000000001", rows, now);
  assert.equal(v.accounts[0].positions[0].value, "11990.55011175142508889");
  assert.equal(v.positions[0].value, "23981.10022350285017778");
  assert.equal(v.positions[0].unrealized_pl, "-24691357802469111799.89977649714982222");
  assert.equal(v.positions[0].day_change, "30.48315750285017778"); // 2 × 0.123456789 × 123.45678901
  assert.equal(v.totals[0].positions_value, "23981.10022350285017778");
});

Deno.test("percentOf rounds half away from zero from the exact quotient", () => {
  assert.equal(percentOf(new Exact("1"), new Exact("8")), "12.50");
  assert.equal(percentOf(new Exact("-0.00125"), new Exact("1")), "-0.13");
  assert.equal(percentOf(new Exact("0.0000049"), new Exact("1")), "0.00");
  assert.equal(percentOf(new Exact("-0.0000049"), new Exact("1")), "0.00");
  assert.equal(percentOf(new Exact("1"), new Exact("-3")), "-33.33");
  assert.equal(percentOf(new Exact("2"), new Exact("3")), "66.67");
  assert.equal(percentOf(new Exact("1"), new Exact("0")), null);
  assert.equal(percentOf(new Exact("123.4"), new Exact("0.005")), "2468000.00");
  assert.equal(percentOf(new Exact("0.00005"), new Exact("1")), "0.01");
  assert.equal(percentOf(new Exact("-0"), new Exact("7")), "0.00");
});

Deno.test("percentOfIntegers agrees with percentOf at any common scale", () => {
  assert.equal(percentOfIntegers(125n, 1000n), "12.50");
  assert.equal(percentOfIntegers(-1250n, 1_000_000n), "-0.13");
  assert.equal(percentOfIntegers(1n, -3n), "-33.33");
  assert.equal(percentOfIntegers(0n, 5n), "0.00");
  assert.equal(percentOfIntegers(5n, 0n), null);
  assert.equal(percentOfIntegers(10n ** 40n, 10n ** 30n), "1000000000000.00");
});

Deno.test("a quote applies only when the instrument and the position are in its currency", async () => {
  const { applicableQuote } = await import("./pricing.ts");
  const quotes = {
    AAPL: { price: "200", previous_close: null, time: now.toISOString(), delayed: false },
  };
  const base = { security_type: "equity" as const, instrument_symbol: "AAPL" };
  assert.ok(applicableQuote({ ...base, instrument_currency: "USD", currency: "USD" }, quotes));
  // Attached to the USD instrument by the provider's id, but held in CAD: a USD price is not CAD.
  assert.equal(
    applicableQuote({ ...base, instrument_currency: "USD", currency: "CAD" }, quotes),
    undefined,
  );
  assert.equal(
    applicableQuote({ ...base, instrument_currency: "CAD", currency: "CAD" }, quotes),
    undefined,
  );
});
