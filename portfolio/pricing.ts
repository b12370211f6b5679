/**
 * One price per instrument: which price values each position, where it came from and whether
 * it is stale. The single statement of these rules; the holdings view (`aggregate.ts`) and
 * re-pricing (`reprice.ts`) apply them through this module, and the valuation service mirrors
 * them exactly.
 *
 * - **P1, live quote.** A position whose instrument (market-data symbol S, currency C) has a
 *   quote for S, and whose C is the quote's currency ({@link quoteCurrency}: the part after the
 *   `/` of a crypto pair `X/Y`, USD for every other symbol), is valued at the quote's price; its
 *   previous close is the quote's (null when the quote has none: then no day change). Source
 *   `delayed` when the quote is delayed, else `live`; price time = the quote's time.
 * - **P2, no applicable quote.** Every position sharing an aggregation key ({@link priceKey}:
 *   the instrument, or symbol and currency when unresolved) takes the (price, previous close)
 *   pair of the key's most recently synced position that has a price, ties broken by the
 *   smaller position id (plain string order). Source `provider`; price time = that position's
 *   sync time. No position of the key has a price: unpriced (all null).
 * - Cash positions (`security_type` `cash`, counted as balances) are in no key: each keeps its
 *   own synced price, source `provider` (null without a price), and is never stale.
 * - **Stale**: the price time is more than 15 minutes before `now`, and the instrument is
 *   crypto or the US market is open (market unknown: crypto only). Crypto means: the
 *   instrument's symbol is a pair (contains `/`); for an unresolved key, the security type of
 *   the position whose price was taken is `crypto`.
 *
 * Pure and browser-safe: imports nothing but decimal.js (through `exact.ts`) and types.
 * @module
 */
import type { SECURITY_TYPES } from "@meridian/proto";
import { quoteCurrency } from "@meridian/proto/quote_currency";
import { canonical } from "./exact.ts";

/** A live quote as valuation applies it (the fields of `ValueQuote`; a `LastPrice` has them). */
export interface Quote {
  price: string;
  previous_close: string | null;
  /** ISO-8601 trade time. */
  time: string;
  delayed: boolean;
}

/** Live quotes by market-data symbol (KV `last_prices`, or `PortfolioValue.quotes` read). */
export type Quotes = Readonly<Record<string, Quote>>;

/** `PortfolioValue.quotes` as sent: `[price, previous_close, time, delayed]` by symbol. */
export type QuoteTuples = Readonly<
  Record<string, readonly [string, string | null, string, boolean]>
>;

/** A value message's quotes as {@link Quotes}. */
export function quotesFromTuples(tuples: QuoteTuples): Quotes {
  const out: Record<string, Quote> = {};
  for (const [symbol, [price, previous_close, time, delayed]] of Object.entries(tuples)) {
    out[symbol] = { price, previous_close, time, delayed };
  }
  return out;
}

/** What valuing at market needs: the quotes and the US market's state (null: unknown). */
export interface MarketPrices {
  quotes: Quotes;
  marketOpen: boolean | null;
}

/** No quotes, market unknown: every position at its provider's price. */
export const NO_MARKET: MarketPrices = Object.freeze({
  quotes: Object.freeze({}),
  marketOpen: null,
});

/** A price is stale once it is older than this while its market trades. */
export const STALE_AFTER_MS = 15 * 60_000;

/** What pricing reads of a position (columns of `positions` and its instrument). */
export interface PricedPosition {
  id: string;
  symbol: string;
  security_type: typeof SECURITY_TYPES[number];
  currency: string;
  /** The provider's price and previous close at the last sync. */
  price: string | null;
  previous_close: string | null;
  synced_at: Date;
  instrument_id: string | null;
  instrument_symbol: string | null;
  instrument_currency: string | null;
}

/** The price a position is valued at. */
export interface AppliedPrice {
  /** Canonical decimal strings, or null. */
  price: string | null;
  previous_close: string | null;
  source: "live" | "delayed" | "provider" | null;
  /** ISO-8601 (milliseconds, UTC), or null without a price. */
  time: string | null;
  stale: boolean;
}

const UNPRICED: AppliedPrice = Object.freeze({
  price: null,
  previous_close: null,
  source: null,
  time: null,
  stale: false,
});

export { quoteCurrency };

/**
 * The aggregation key: the instrument, else symbol and currency (never mixing currencies);
 * null for cash, which is counted as a balance and priced on its own.
 */
export function priceKey(
  p: Pick<PricedPosition, "security_type" | "instrument_id" | "symbol" | "currency">,
): string | null {
  if (p.security_type === "cash") return null;
  return p.instrument_id ?? `${p.symbol}\u0000${p.currency}`;
}

/** Whether a position's price follows the crypto market (trades around the clock). */
export function isCrypto(
  p: Pick<PricedPosition, "instrument_symbol" | "security_type">,
): boolean {
  return p.instrument_symbol !== null
    ? p.instrument_symbol.includes("/")
    : p.security_type === "crypto";
}

/**
 * Whether a price made at `time` is stale at `now`: more than {@link STALE_AFTER_MS} old while
 * its market trades (crypto always; anything else while the US market is open).
 */
export function isPriceStale(
  time: Date | string,
  crypto: boolean,
  now: Date,
  marketOpen: boolean | null,
): boolean {
  if (!crypto && marketOpen !== true) return false;
  return now.getTime() - new Date(time).getTime() > STALE_AFTER_MS;
}

/**
 * Whether a live quote for a position's instrument may value it (P1): a resolved, non-cash
 * position whose instrument and own currency are both the quote's currency (a sync may attach
 * a position held in another currency to an instrument by the provider's id; a USD price must
 * not count as CAD).
 */
export function quoteApplies(
  p: Pick<
    PricedPosition,
    "security_type" | "instrument_symbol" | "instrument_currency" | "currency"
  >,
): boolean {
  const s = p.instrument_symbol;
  if (p.security_type === "cash" || s === null) return false;
  const c = quoteCurrency(s);
  return p.instrument_currency === c && p.currency === c;
}

/** The quote that applies to a position (P1), if any. */
export function applicableQuote(
  p: Pick<
    PricedPosition,
    "security_type" | "instrument_symbol" | "instrument_currency" | "currency"
  >,
  quotes: Quotes,
): Quote | undefined {
  const s = p.instrument_symbol;
  if (s === null || !Object.hasOwn(quotes, s) || !quoteApplies(p)) return undefined;
  return quotes[s];
}

/**
 * Applies the rules to every position: the price each is valued at, by position id. Pass
 * only positions that are shown (those of known accounts): the choice of a key's provider
 * price is among them.
 */
export function pricePositions(
  positions: readonly PricedPosition[],
  market: MarketPrices,
  now: Date,
): Map<string, AppliedPrice> {
  const { quotes, marketOpen } = market;
  // Each key's price source: its live quote, else its most recently synced priced position.
  const best = new Map<string, PricedPosition | null>();
  for (const p of positions) {
    const key = priceKey(p);
    if (key === null) continue;
    const cur = best.get(key);
    if (p.price === null) {
      if (cur === undefined) best.set(key, null);
      continue;
    }
    if (
      !cur || p.synced_at.getTime() > cur.synced_at.getTime() ||
      (p.synced_at.getTime() === cur.synced_at.getTime() && p.id < cur.id)
    ) best.set(key, p);
  }
  const byKey = new Map<string, AppliedPrice>();
  const out = new Map<string, AppliedPrice>();
  for (const p of positions) {
    const key = priceKey(p);
    if (key === null) {
      out.set(p.id, provider(p, p, now, marketOpen, false));
      continue;
    }
    let applied = byKey.get(key);
    if (!applied) {
      const q = applicableQuote(p, quotes);
      if (q) {
        const time = new Date(q.time).toISOString();
        applied = {
          price: canonical(q.price),
          previous_close: q.previous_close === null ? null : canonical(q.previous_close),
          source: q.delayed ? "delayed" : "live",
          time,
          stale: isPriceStale(time, isCrypto(p), now, marketOpen),
        };
      } else {
        const source = best.get(key) ?? null;
        applied = source === null ? UNPRICED : provider(source, p, now, marketOpen, true);
      }
      byKey.set(key, applied);
    }
    out.set(p.id, applied);
  }
  return out;
}

/** A provider price (P2, or a cash position's own); `source` has a price unless it is cash. */
function provider(
  source: PricedPosition,
  keyed: PricedPosition,
  now: Date,
  marketOpen: boolean | null,
  canBeStale: boolean,
): AppliedPrice {
  if (source.price === null) return UNPRICED;
  const time = source.synced_at.toISOString();
  // An instrument's positions share its symbol; an unresolved key asks the priced position.
  const crypto = isCrypto(keyed.instrument_symbol !== null ? keyed : source);
  return {
    price: canonical(source.price),
    previous_close: source.previous_close === null ? null : canonical(source.previous_close),
    source: "provider",
    time,
    stale: canBeStale && isPriceStale(time, crypto, now, marketOpen),
  };
}

/**
 * The first instant after `now` at which some price's staleness flips (a fresh price grows
 * stale), or null when none will without a new price or market status: how long a priced
 * view stays true.
 */
export function nextStaleChange(
  prices: Iterable<{ time: string | null; stale: boolean; crypto: boolean }>,
  now: Date,
  marketOpen: boolean | null,
): Date | null {
  let next: number | null = null;
  for (const p of prices) {
    if (p.time === null || p.stale || (!p.crypto && marketOpen !== true)) continue;
    // Stale once strictly older than the limit: one millisecond past it.
    const at = new Date(p.time).getTime() + STALE_AFTER_MS + 1;
    if (at > now.getTime() && (next === null || at < next)) next = at;
  }
  return next === null ? null : new Date(next);
}
