/**
 * The live side of the dashboard, pure: checking a `value` event, deciding whether it applies
 * to the loaded holdings view, the base-currency summary (from the value, or from the view
 * before one arrives), base conversion of row amounts, and what the "Live" indicator may
 * claim. No signals, no DOM: state.ts and the components call these.
 * @module
 */
import { PortfolioValue } from "./value_schema.ts";
import {
  convert,
  decimalString,
  Exact,
  type HoldingsView,
  percentOf,
  quotesFromTuples,
  repriceHoldings,
} from "@meridian/portfolio/reprice";

export { PortfolioValue };

/**
 * A value event's data checked where it enters: the JSON as valuation published it (the api
 * forwards the text unchecked but for its head). Null when it is not one.
 */
export function parseValue(data: unknown): PortfolioValue | null {
  let json = data;
  if (typeof data === "string") {
    try {
      json = JSON.parse(data);
    } catch {
      return null;
    }
  }
  const r = PortfolioValue.safeParse(json);
  return r.success ? r.data : null;
}

/** The US market's state as `repriceHoldings` takes it: open, closed, or unknown (null). */
export function marketOpen(v: Pick<PortfolioValue, "prices">): boolean | null {
  const m = v.prices.market;
  return m === "open" ? true : m === "closed" ? false : null;
}

/** What to do with a value event. */
export type ValueStep =
  /** Its `seq` is not greater than the last applied one: older or a repeat. */
  | { kind: "old" }
  /** No holdings view yet: keep it until one loads. */
  | { kind: "no_view" }
  /** In another currency than the view's base: the view is out of date, read it again. */
  | { kind: "currency" }
  /** Its quotes are older than the live prices the view already shows: it would move back. */
  | { kind: "older_than_view" }
  /** Re-price the server's view at the value's quotes. */
  | { kind: "apply"; view: HoldingsView };

/**
 * Decides what `value` does to `server` (the last `GET /api/holdings` answer, never a
 * re-priced view: re-pricing a re-priced view would compound nothing, but the server's own
 * provider prices are the ones re-pricing must start from). `lastSeq` is the `seq` of the last
 * value applied (-1: none).
 */
export function valueStep(
  server: HoldingsView | null,
  lastSeq: number,
  value: PortfolioValue,
  now: Date,
): ValueStep {
  if (value.seq <= lastSeq) return { kind: "old" };
  if (server === null) return { kind: "no_view" };
  if (value.currency !== server.base.currency) return { kind: "currency" };
  if (!quotesNotOlder(server, value)) return { kind: "older_than_view" };
  const quotes = quotesFromTuples(value.quotes);
  return { kind: "apply", view: repriceHoldings(server, quotes, now, marketOpen(value)) };
}

/**
 * Whether `value` knows every live price `view` shows at least as recently: a page load reads
 * the same quotes valuation does, so a value that came before it (the snapshot's, one
 * delivered late) may be older than the view and must not move its prices back.
 */
export function quotesNotOlder(view: HoldingsView, value: PortfolioValue): boolean {
  for (const p of view.positions) {
    if (p.price_source !== "live" && p.price_source !== "delayed") continue;
    if (!Object.hasOwn(value.quotes, p.symbol) || p.price_time === null) return false;
    const [, , time] = value.quotes[p.symbol];
    if (Date.parse(time) < Date.parse(p.price_time)) return false;
  }
  return true;
}

/**
 * Whether `next` moved anything against `prev`: a new total or a quote with a new price or
 * time. Valuation republishes an unchanged portfolio every 30 s; that is not "live".
 */
export function valueMoved(prev: PortfolioValue | null, next: PortfolioValue): boolean {
  if (prev === null) return true;
  if (prev.total !== next.total || prev.currency !== next.currency) return true;
  const a = Object.keys(prev.quotes), b = Object.keys(next.quotes);
  if (a.length !== b.length) return true;
  for (const s of b) {
    if (!Object.hasOwn(prev.quotes, s)) return true;
    const [price, , time] = next.quotes[s];
    const [priceBefore, , timeBefore] = prev.quotes[s];
    if (price !== priceBefore || time !== timeBefore) return true;
  }
  return false;
}

/** Base units per 1 unit of each currency, from the view (`base.rates`). */
export type Rates = Readonly<Record<string, string>>;

/**
 * `amount` of `currency` in the base currency (exact product with the view's rate, which has 20
 * significant digits); null without an amount or a rate.
 */
export function toBase(amount: string | null, currency: string, rates: Rates): string | null {
  if (amount === null) return null;
  const rate = Object.hasOwn(rates, currency) ? rates[currency] : undefined;
  if (rate === undefined) return null;
  return decimalString(new Exact(amount).times(rate));
}

/** The summary's figures, all in the base currency but `others[].total`. */
export interface BaseSummary {
  currency: string;
  total: string;
  positions_value: string;
  cash: string;
  /** `amount` null when no position has a day change. */
  day_change: { amount: string | null; percent: string | null; covered: number; positions: number };
  unrealized_pl: { amount: string | null; covered: number; positions: number };
  /** Native totals of the currencies other than the base, with their base value (null: no rate). */
  others: { currency: string; total: string; base_total: string | null }[];
  /** The reference rates' date when anything was converted. */
  fx_date: string | null;
  unconverted: string[];
}

/** The summary as valuation published it. */
export function summaryOfValue(v: PortfolioValue): BaseSummary {
  return {
    currency: v.currency,
    total: v.total,
    positions_value: v.positions_value,
    cash: v.cash,
    day_change: {
      amount: v.day_change.covered === 0 ? null : v.day_change.amount,
      percent: v.day_change.percent,
      covered: v.day_change.covered,
      positions: v.day_change.positions,
    },
    unrealized_pl: {
      amount: v.unrealized_pl.covered === 0 ? null : v.unrealized_pl.amount,
      covered: v.unrealized_pl.covered,
      positions: v.unrealized_pl.positions,
    },
    others: v.totals.filter((t) => t.currency !== v.currency && nonZero(t.total)).map((t) => ({
      currency: t.currency,
      total: t.total,
      base_total: t.base_total,
    })),
    fx_date: v.fx.date,
    unconverted: v.fx.unconverted,
  };
}

/**
 * The same summary from a holdings view, with valuation's rules (`value_message.ts`): each
 * currency's sums converted through EUR at the view's reference rates, a currency without a
 * rate left out and named. Shown until a value arrives, and whenever the view is newer.
 */
export function summaryOfView(view: HoldingsView): BaseSummary {
  const base = view.base;
  const eur = new Map(Object.entries(base.eur_rates));
  const inBase = (amount: string, currency: string): string | null =>
    currency === base.currency ? amount : convert(amount, currency, base.currency, eur);
  // Per currency: the previous-close value the day change is measured against, and how many
  // priced positions have a P/L (value and cost known).
  const dayBase = new Map<string, Exact>();
  // The positions' own P/L (cash excluded, as valuation counts it), per currency.
  const plOf = new Map<string, Exact>();
  let priced = 0, plCovered = 0;
  for (const a of view.accounts) {
    for (const p of a.positions) {
      if (p.security_type === "cash" || p.value === null) continue;
      priced++;
      if (p.unrealized_pl !== null) {
        plCovered++;
        plOf.set(p.currency, (plOf.get(p.currency) ?? new Exact(0)).plus(p.unrealized_pl));
      }
      if (p.day_change !== null) {
        // value − day change = quantity × previous close (× multiplier).
        const prev = new Exact(p.value).minus(p.day_change).abs();
        dayBase.set(p.currency, (dayBase.get(p.currency) ?? new Exact(0)).plus(prev));
      }
    }
  }
  let day = new Exact(0), dayPrev = new Exact(0), pl = new Exact(0);
  let covered = 0, of = 0;
  for (const t of view.totals) {
    covered += t.day_change_coverage.known;
    of += t.day_change_coverage.of;
    // A currency without a rate is in no base amount (base.unconverted names it).
    if (base.unconverted.includes(t.currency)) continue;
    const tpl = inBase(decimalString(plOf.get(t.currency) ?? new Exact(0)), t.currency);
    if (tpl !== null) pl = pl.plus(tpl);
    if (t.day_change === null) continue;
    const d = inBase(t.day_change, t.currency);
    const b = inBase(decimalString(dayBase.get(t.currency) ?? new Exact(0)), t.currency);
    if (d === null || b === null) continue;
    day = day.plus(d);
    dayPrev = dayPrev.plus(b);
  }
  return {
    currency: base.currency,
    total: base.total,
    positions_value: base.positions_value,
    cash: base.cash,
    day_change: {
      amount: covered ? decimalString(day) : null,
      percent: covered ? percentOf(day, dayPrev) : null,
      covered,
      positions: of,
    },
    unrealized_pl: {
      amount: plCovered ? decimalString(pl) : null,
      covered: plCovered,
      positions: priced,
    },
    others: view.totals.filter((t) => t.currency !== base.currency && nonZero(t.total)).map((
      t,
    ) => ({
      currency: t.currency,
      total: t.total,
      // Positions and cash converted apart and summed, as valuation does.
      base_total: sumOrNull(inBase(t.positions_value, t.currency), inBase(t.cash, t.currency)),
    })),
    fx_date: base.fx_date,
    unconverted: base.unconverted,
  };
}

/** A currency whose total is zero (say, only unpriced positions) is not worth a mention. */
function nonZero(amount: string): boolean {
  return /[1-9]/.test(amount);
}

function sumOrNull(a: string | null, b: string | null): string | null {
  return a === null || b === null ? null : decimalString(new Exact(a).plus(b));
}

/** How fresh the prices are: the value's `prices`, or counted from a view's positions. */
export type PriceStatus = PortfolioValue["prices"];

/** The price counts of a view (market unknown: a view does not say). */
export function priceStatusOfView(view: HoldingsView): PriceStatus {
  const s: PriceStatus = {
    as_of: null,
    live: 0,
    delayed: 0,
    stale: 0,
    provider: 0,
    unpriced: 0,
    market: "unknown",
  };
  let asOf = -Infinity;
  for (const a of view.accounts) {
    for (const p of a.positions) {
      if (p.security_type === "cash") continue;
      if (p.price_source === null || p.value === null) {
        s.unpriced++;
        continue;
      }
      s[p.price_source]++;
      if (p.stale) s.stale++;
      if (p.price_source !== "provider" && p.price_time !== null) {
        asOf = Math.max(asOf, Date.parse(p.price_time));
      }
    }
  }
  if (asOf !== -Infinity) s.as_of = new Date(asOf).toISOString();
  return s;
}

/** "3 delayed, 1 stale": the counts worth a word, or "" when prices are all current. */
export function freshnessText(s: Pick<PriceStatus, "delayed" | "stale">): string {
  const parts: string[] = [];
  if (s.delayed) parts.push(`${s.delayed} delayed`);
  if (s.stale) parts.push(`${s.stale} stale`);
  return parts.join(", ");
}

/** A value that stopped moving this long ago no longer counts as live. */
export const LIVE_WINDOW_MS = 5_000;

/** What the header's stream indicator shows. */
export interface Indicator {
  state: "connecting" | "offline" | "live" | "idle" | "closed" | "connected";
  label: string;
  /** When the indicator changes by itself (the live window ends); null: it does not. */
  until: number | null;
}

/**
 * The indicator, honest: "Live" only while the stream is open and a value that moved arrived
 * within {@link LIVE_WINDOW_MS} (twice the default publish interval plus slack). Open but
 * quiet: the market is closed, or prices are idle; open with no value yet: "Connected".
 */
export function indicator(
  stream: "connecting" | "open" | "reconnecting",
  lastMoveAt: number | null,
  market: PortfolioValue["prices"]["market"] | null,
  now: number,
): Indicator {
  if (stream === "connecting") return { state: "connecting", label: "Connecting…", until: null };
  if (stream === "reconnecting") {
    return { state: "offline", label: "Offline — reconnecting…", until: null };
  }
  if (lastMoveAt !== null && now - lastMoveAt <= LIVE_WINDOW_MS) {
    return { state: "live", label: "Live", until: lastMoveAt + LIVE_WINDOW_MS + 1 };
  }
  if (market === "closed") {
    return { state: "closed", label: "Connected · market closed", until: null };
  }
  if (market === null) return { state: "connected", label: "Connected", until: null };
  return { state: "idle", label: "Connected · prices idle", until: null };
}
