/**
 * Random portfolios for property tests (a seeded PRNG, so a failure names its seed and
 * reproduces): several accounts and providers holding the same instruments, options,
 * unresolved positions, cash, several currencies, and random quotes.
 * @module
 */
import type { BaseCurrency, HoldingsRows, PositionRow } from "../aggregate.ts";
import type { Quotes } from "../pricing.ts";

/** mulberry32: a small seeded PRNG. */
export function prng(seed: number) {
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
/** The PRNG and its helpers. */
export type Rng = ReturnType<typeof prng>;

/** An instrument of the random world. */
export interface Instrument {
  id: string;
  symbol: string;
  currency: string;
  security_type: PositionRow["security_type"];
  option?: boolean;
}

/** The clock of every random world. */
export const NOW = new Date("2026-11-30T15:00:00.000Z");
/** Sync and quote times of the random worlds. */
export const TIMES = [0, 1, 5, 14, 16, 60, 600].map((m) => new Date(NOW.getTime() - m * 60_000));

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

/** A random user's rows, base currency and the instruments they may hold. */
export interface World {
  rows: HoldingsRows;
  base: BaseCurrency;
  instruments: Instrument[];
}

/** A random position in one account of the world. */
export function position(r: Rng, w: World, accountId: string, syncedAt?: Date): PositionRow {
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

/** The random world of `seed`. */
export function world(seed: number): World {
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

/** Random quotes for some of the world's instruments (and one nobody holds). */
export function quotes(r: Rng, w: World): Quotes {
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
