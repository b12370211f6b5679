/**
 * Encodes the `portfolio.value` message of one valued portfolio. Pure: the clock, the FX rates
 * and the market's state come in as arguments. Built as text: the `quotes` members are cached
 * per quote version (one quote is in many portfolios), so a message costs one pass over the
 * holdings and no per-message serialisation of 50 quotes.
 * @module
 */
import type { PortfolioValue } from "@meridian/proto";
import {
  convert,
  decimalString,
  Exact,
  percentOf,
  percentOfIntegers,
  STALE_AFTER_MS,
} from "@meridian/portfolio";
import { AMOUNT_SCALE, scaledText } from "./scaled.ts";
import type { PortfolioState, Slot } from "./portfolio_state.ts";

/** What a value depends on besides the portfolio. */
export interface ValueContext {
  now: number;
  /** Units of each currency per 1 EUR, and their date; null when none are stored. */
  fx: { date: string; rates: ReadonlyMap<string, string> } | null;
  market: PortfolioValue["prices"]["market"];
}

/** Sums in one currency, in units of 10^-AMOUNT_SCALE. */
interface Sums {
  positions: bigint;
  cash: bigint;
  day: bigint;
  dayBase: bigint;
  pl: bigint;
  cost: bigint;
}

function sums(): Sums {
  return { positions: 0n, cash: 0n, day: 0n, dayBase: 0n, pl: 0n, cost: 0n };
}

const text = (n: bigint) => scaledText(n, AMOUNT_SCALE);

// A drain writes hundreds of values at one `now`: format it once.
let lastNow = NaN, lastIso = "";
function isoTime(now: number): string {
  if (now !== lastNow) [lastNow, lastIso] = [now, new Date(now).toISOString()];
  return lastIso;
}

/** The message for `state` at `seq`, as JSON text (see {@link PortfolioValue}). */
export function encodePortfolioValue(
  state: PortfolioState,
  seq: number,
  ctx: ValueContext,
): string {
  const base = state.baseCurrency;
  const rates = ctx.fx?.rates ?? new Map<string, string>();
  const slots = state.fixedSums();
  // What moves with the prices, per slot: Σ value, and Σ value of the holdings with a previous
  // close and with a cost basis (day change and P/L are those less the slot's fixed sums).
  const positions = new Array<bigint>(slots.length).fill(0n);
  const dayValue = new Array<bigint>(slots.length).fill(0n);
  const costedValue = new Array<bigint>(slots.length).fill(0n);

  let live = 0, delayed = 0, stale = 0, provider = 0, unpriced = 0;
  let dayCovered = 0, dayOf = 0, plCovered = 0, priced = 0;
  let asOf = -Infinity;
  for (const h of state.holdings) {
    // A cash equivalent without a previous close is left out of day-change coverage (its price
    // does not move); any other position without a day change counts as not covered.
    if (h.before !== null || !h.cashEquivalent) dayOf++;
    if (h.price === null) {
      unpriced++;
      continue;
    }
    const value = h.units! * h.price;
    const i = h.slot.index;
    priced++;
    positions[i] += value;
    if (h.before !== null) {
      dayCovered++;
      dayValue[i] += value;
    }
    if (h.cost !== null) {
      plCovered++;
      costedValue[i] += value;
    }
    if (h.source === "provider") provider++;
    else {
      if (h.source === "delayed") delayed++;
      else live++;
      if (h.priceTime !== null) {
        if (h.priceTime > asOf) asOf = h.priceTime;
        const trades = h.crypto || ctx.market === "open";
        if (trades && ctx.now - h.priceTime > STALE_AFTER_MS) stale++;
      }
    }
  }
  const sumsOf = (x: Slot): Sums => ({
    positions: positions[x.index],
    cash: x.cash,
    day: dayValue[x.index] - x.before,
    dayBase: x.absBefore,
    pl: costedValue[x.index] - x.cost,
    cost: x.cost,
  });

  // Base-currency amounts: sums of base-currency amounts stay integers; a converted amount (a
  // conversion is rounded to 20 significant digits, as in portfolio's baseTotals) is summed
  // exactly beside them.
  const unconverted = new Set<string>();
  let converted = false;
  const sum = () =>
    new BaseSum(base, (amount, currency) => {
      const out = convert(text(amount), currency, base, rates);
      if (out === null) unconverted.add(currency);
      else converted = true;
      return out;
    });

  const byCurrency = new Map<string, Sums>();
  const accounts: PortfolioValue["accounts"] = [];
  for (const account of state.accounts) {
    const value = sum(), day = sum();
    const native: PortfolioValue["accounts"][number]["native"] = [];
    for (const slot of account.slots) {
      const s = sumsOf(slot);
      const currency = slot.currency;
      let total = byCurrency.get(currency);
      if (!total) byCurrency.set(currency, total = sums());
      total.positions += s.positions;
      total.cash += s.cash;
      total.day += s.day;
      total.dayBase += s.dayBase;
      total.pl += s.pl;
      total.cost += s.cost;
      native.push({ currency, value: text(s.positions + s.cash) });
      if (value.add(s.positions + s.cash, currency)) day.add(s.day, currency);
    }
    accounts.push({
      account_id: account.account_id,
      value: value.text(),
      native,
      day_change: day.text(),
    });
  }

  const positionsSum = sum(), cash = sum(), day = sum(), dayBase = sum(), pl = sum(), cost = sum();
  const totals: PortfolioValue["totals"] = [];
  for (const [currency, s] of [...byCurrency].sort(([a], [b]) => a.localeCompare(b))) {
    const total = sum();
    const ok = total.add(s.positions, currency) && total.add(s.cash, currency);
    totals.push({
      currency,
      positions_value: text(s.positions),
      cash: text(s.cash),
      total: text(s.positions + s.cash),
      base_total: ok ? total.text() : null,
    });
    if (!ok) continue;
    positionsSum.add(s.positions, currency);
    cash.add(s.cash, currency);
    day.add(s.day, currency);
    dayBase.add(s.dayBase, currency);
    pl.add(s.pl, currency);
    cost.add(s.cost, currency);
  }
  const grand = sum();
  grand.merge(positionsSum);
  grand.merge(cash);

  const head: Omit<PortfolioValue, "quotes"> = {
    user_id: state.userId,
    time: isoTime(ctx.now),
    seq,
    currency: base,
    total: grand.text(),
    positions_value: positionsSum.text(),
    cash: cash.text(),
    totals,
    accounts,
    day_change: {
      amount: day.text(),
      percent: day.converted || dayBase.converted
        ? percentOf(day.exact(), dayBase.exact())
        : percentOfIntegers(day.native, dayBase.native),
      covered: dayCovered,
      positions: dayOf,
    },
    unrealized_pl: {
      amount: pl.text(),
      cost_basis: cost.text(),
      covered: plCovered,
      positions: priced,
    },
    prices: {
      as_of: asOf === -Infinity ? null : new Date(asOf).toISOString(),
      live,
      delayed,
      stale,
      provider,
      unpriced,
      market: ctx.market,
    },
    fx: {
      date: converted ? ctx.fx?.date ?? null : null,
      unconverted: [...unconverted].sort(),
    },
  };
  const members: string[] = [];
  for (const q of state.quotes) {
    const member = q.json();
    if (member !== null) members.push(member);
  }
  const json = JSON.stringify(head);
  return `${json.slice(0, -1)},"quotes":{${members.join(",")}}}`;
}

/**
 * A sum in the base currency: base-currency amounts added as integers, converted ones exactly
 * beside them (decimal.js only when something was converted).
 */
class BaseSum {
  #native = 0n;
  #converted: Exact | null = null;

  constructor(
    private readonly base: string,
    private readonly convert: (amount: bigint, currency: string) => string | null,
  ) {}

  /** Adds `amount` of `currency`; false (nothing added) when it has no rate. */
  add(amount: bigint, currency: string): boolean {
    if (currency === this.base) {
      this.#native += amount;
      return true;
    }
    const out = this.convert(amount, currency);
    if (out === null) return false;
    this.#converted = (this.#converted ?? new Exact(0)).plus(out);
    return true;
  }

  /** True when a converted amount is part of the sum (else it is all {@link native}). */
  get converted(): boolean {
    return this.#converted !== null;
  }

  /** The base-currency amounts, in units of 10^-AMOUNT_SCALE. */
  get native(): bigint {
    return this.#native;
  }

  merge(other: BaseSum): void {
    this.#native += other.#native;
    if (other.#converted !== null) {
      this.#converted = (this.#converted ?? new Exact(0)).plus(other.#converted);
    }
  }

  exact(): Exact {
    const native = new Exact(text(this.#native));
    return this.#converted === null ? native : native.plus(this.#converted);
  }

  text(): string {
    return this.#converted === null ? text(this.#native) : decimalString(this.exact());
  }
}
