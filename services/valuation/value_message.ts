/**
 * Builds the `portfolio.value` message of one valued portfolio. Pure: the clock, the FX rates
 * and the market's state come in as arguments.
 * @module
 */
import type { PortfolioValue, ValueQuote } from "@meridian/proto";
import { convert } from "@meridian/portfolio";
import { add, type Exact, parseExact, percentText, sub, toText, ZERO } from "./scaled.ts";
import type { PortfolioState } from "./portfolio_state.ts";

/** A price older than this counts as stale while its market trades. */
export const STALE_AFTER_MS = 15 * 60_000;

/** What a value depends on besides the portfolio. */
export interface ValueContext {
  now: number;
  /** Units of each currency per 1 EUR, and their date; null when none are stored. */
  fx: { date: string; rates: ReadonlyMap<string, string> } | null;
  market: PortfolioValue["prices"]["market"];
}

interface Sums {
  positions: Exact;
  cash: Exact;
  day: Exact;
  dayBase: Exact;
  pl: Exact;
  cost: Exact;
}

function sums(): Sums {
  return { positions: ZERO, cash: ZERO, day: ZERO, dayBase: ZERO, pl: ZERO, cost: ZERO };
}

function addSums(into: Sums, s: Sums): void {
  into.positions = add(into.positions, s.positions);
  into.cash = add(into.cash, s.cash);
  into.day = add(into.day, s.day);
  into.dayBase = add(into.dayBase, s.dayBase);
  into.pl = add(into.pl, s.pl);
  into.cost = add(into.cost, s.cost);
}

/** The message for `state` at `seq`. */
export function buildPortfolioValue(
  state: PortfolioState,
  seq: number,
  ctx: ValueContext,
): PortfolioValue {
  const base = state.baseCurrency;
  const rates = ctx.fx?.rates ?? new Map<string, string>();
  // account → currency → sums
  const byAccount = new Map<string, Map<string, Sums>>();
  for (const id of state.accountIds) byAccount.set(id, new Map());
  const bucket = (account: string, currency: string): Sums => {
    let m = byAccount.get(account);
    if (!m) byAccount.set(account, m = new Map());
    let s = m.get(currency);
    if (!s) m.set(currency, s = sums());
    return s;
  };

  const counts = { live: 0, delayed: 0, stale: 0, provider: 0, unpriced: 0 };
  let dayCovered = 0, dayOf = 0, plCovered = 0, priced = 0;
  let asOf = -Infinity;
  const quotes: Record<string, ValueQuote> = {};
  for (const h of state.holdings) {
    const p = h.position;
    const s = bucket(p.account_id, p.currency);
    if (h.quote) {
      const wire = h.quote.wire();
      if (wire) quotes[h.quote.symbol] = wire;
    }
    // A cash equivalent without a previous close is left out of day-change coverage (its price
    // does not move); any other position without a day change counts as not covered.
    if (h.day !== null || p.security_type !== "cash_equivalent") dayOf++;
    if (h.value === null) {
      counts.unpriced++;
      continue;
    }
    priced++;
    s.positions = add(s.positions, h.value);
    if (h.day !== null && h.dayBase !== null) {
      dayCovered++;
      s.day = add(s.day, h.day);
      s.dayBase = add(s.dayBase, h.dayBase);
    }
    if (h.cost !== null) {
      plCovered++;
      s.pl = add(s.pl, sub(h.value, h.cost));
      s.cost = add(s.cost, h.cost);
    }
    if (h.source === "provider") counts.provider++;
    else {
      counts[h.source === "delayed" ? "delayed" : "live"]++;
      if (h.priceTime !== null) {
        asOf = Math.max(asOf, h.priceTime);
        const trades = h.crypto || ctx.market === "open";
        if (trades && ctx.now - h.priceTime > STALE_AFTER_MS) counts.stale++;
      }
    }
  }
  for (const c of state.cash) {
    const s = bucket(c.account_id, c.currency);
    s.cash = add(s.cash, c.amount);
  }

  // Converts one amount; records a currency without a rate.
  const unconverted = new Set<string>();
  let converted = false;
  const toBase = (amount: Exact, currency: string): Exact | null => {
    if (currency === base) return amount;
    const text = convert(toText(amount), currency, base, rates);
    if (text === null) {
      unconverted.add(currency);
      return null;
    }
    converted = true;
    return parseExact(text);
  };

  const byCurrency = new Map<string, Sums>();
  const accounts: PortfolioValue["accounts"] = [];
  for (const [accountId, currencies] of byAccount) {
    let value = ZERO, day = ZERO;
    const native: PortfolioValue["accounts"][number]["native"] = [];
    for (const [currency, s] of [...currencies].sort(([a], [b]) => a.localeCompare(b))) {
      let total = byCurrency.get(currency);
      if (!total) byCurrency.set(currency, total = sums());
      addSums(total, s);
      const nativeValue = add(s.positions, s.cash);
      native.push({ currency, value: toText(nativeValue) });
      const v = toBase(nativeValue, currency);
      const d = toBase(s.day, currency);
      if (v !== null) value = add(value, v);
      if (d !== null) day = add(day, d);
    }
    accounts.push({ account_id: accountId, value: toText(value), native, day_change: toText(day) });
  }

  let positions = ZERO, cash = ZERO, day = ZERO, dayBase = ZERO, pl = ZERO, cost = ZERO;
  const totals: PortfolioValue["totals"] = [];
  for (const [currency, s] of [...byCurrency].sort(([a], [b]) => a.localeCompare(b))) {
    const pv = toBase(s.positions, currency);
    const c = toBase(s.cash, currency);
    totals.push({
      currency,
      positions_value: toText(s.positions),
      cash: toText(s.cash),
      total: toText(add(s.positions, s.cash)),
      base_total: pv === null || c === null ? null : toText(add(pv, c)),
    });
    if (pv === null || c === null) continue;
    positions = add(positions, pv);
    cash = add(cash, c);
    day = add(day, toBase(s.day, currency)!);
    dayBase = add(dayBase, toBase(s.dayBase, currency)!);
    pl = add(pl, toBase(s.pl, currency)!);
    cost = add(cost, toBase(s.cost, currency)!);
  }

  return {
    user_id: state.userId,
    time: new Date(ctx.now).toISOString(),
    seq,
    currency: base,
    total: toText(add(positions, cash)),
    positions_value: toText(positions),
    cash: toText(cash),
    totals,
    accounts,
    day_change: {
      amount: toText(day),
      percent: percentText(day, dayBase),
      covered: dayCovered,
      positions: dayOf,
    },
    unrealized_pl: {
      amount: toText(pl),
      cost_basis: toText(cost),
      covered: plCovered,
      positions: priced,
    },
    prices: {
      as_of: asOf === -Infinity ? null : new Date(asOf).toISOString(),
      ...counts,
      market: ctx.market,
    },
    fx: {
      date: converted ? ctx.fx?.date ?? null : null,
      unconverted: [...unconverted].sort(),
    },
    quotes,
  };
}
