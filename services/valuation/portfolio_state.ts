/**
 * One user's portfolio in memory: each holding keeps its quote and the version of it last
 * valued, so a revaluation multiplies only the holdings whose instrument ticked. Amounts are
 * fixed-point big integers (see scaled.ts). Pure: no I/O.
 * @module
 */
import type { UserHoldings, ValuedPosition } from "./holdings.ts";
import { preparePositions } from "./holdings.ts";
import type { Quote, QuoteBook } from "./quotes.ts";
import { AMOUNT_SCALE, parseScaled, pow10, PRICE_SCALE, UNITS_SCALE } from "./scaled.ts";

/** Where a holding's price came from. */
export type PriceSource = "live" | "delayed" | "provider" | null;

/** One position and its current valuation; amounts in units of 10^-AMOUNT_SCALE. */
export interface Holding {
  readonly position: ValuedPosition;
  /** quantity × multiplier in units of 10^-UNITS_SCALE; null when too precise to hold. */
  readonly units: bigint | null;
  readonly cost: bigint | null;
  readonly quote: Quote | null;
  readonly providerPrice: bigint | null;
  readonly providerPreviousClose: bigint | null;
  /** The quote version this valuation used (-1: never valued). */
  seen: number;
  value: bigint | null;
  /** Day change and the previous-close value it is a percentage of (null: no previous close). */
  day: bigint | null;
  dayBase: bigint | null;
  source: PriceSource;
  /** The price's time (ms), for freshness. */
  priceTime: number | null;
  readonly crypto: boolean;
}

/** One cash balance (null: too precise to hold, left out and named unpriced). */
export interface Cash {
  account_id: string;
  currency: string;
  amount: bigint | null;
}

/** quantity × multiplier at UNITS_SCALE, or null when that is not exact. */
function unitsOf(p: ValuedPosition): bigint | null {
  const q = parseScaled(p.quantity, UNITS_SCALE);
  if (q === null) return null;
  if (p.multiplier === "1") return q;
  const m = parseScaled(p.multiplier, 6);
  if (m === null) return null;
  const product = q * m;
  return product % pow10(6) === 0n ? product / pow10(6) : null;
}

function price(text: string | null): bigint | null {
  return text === null ? null : parseScaled(text, PRICE_SCALE);
}

/** A user's holdings, valued. */
export class PortfolioState {
  readonly userId: string;
  readonly baseCurrency: string;
  readonly accountIds: readonly string[];
  readonly holdings: Holding[];
  readonly cash: readonly Cash[];
  /** The distinct quotes the holdings read. */
  readonly quotes: readonly Quote[];

  /** Builds the state and registers its holdings with their quotes. */
  constructor(input: UserHoldings, book: QuoteBook) {
    this.userId = input.user_id;
    this.baseCurrency = input.base_currency;
    this.accountIds = [...input.account_ids].sort();
    const quotes = new Set<Quote>();
    this.holdings = preparePositions(input.positions).map((p) => {
      const quote = p.quote_symbol === null ? null : book.ensure(p.quote_symbol);
      if (quote) quotes.add(quote);
      return {
        position: p,
        units: unitsOf(p),
        cost: p.cost_basis === null ? null : parseScaled(p.cost_basis, AMOUNT_SCALE),
        quote,
        providerPrice: price(p.provider_price),
        providerPreviousClose: price(p.provider_previous_close),
        seen: -1,
        value: null,
        day: null,
        dayBase: null,
        source: null,
        priceTime: null,
        crypto: p.quote_symbol?.includes("/") ?? p.security_type === "crypto",
      };
    });
    this.quotes = [...quotes];
    for (const q of this.quotes) q.holders.add(this);
    this.cash = input.balances.map((b) => ({
      account_id: b.account_id,
      currency: b.currency,
      amount: parseScaled(b.cash, AMOUNT_SCALE),
    }));
    this.revalue();
  }

  /** Unregisters from the quotes (the user is no longer valued here). */
  detach(): void {
    for (const q of this.quotes) q.holders.delete(this);
  }

  /** Revalues the holdings whose quote changed since they were valued; true if any did. */
  revalue(): boolean {
    let changed = false;
    for (const h of this.holdings) {
      const version = h.quote === null ? 0 : h.quote.version;
      if (h.seen === version) continue;
      h.seen = version;
      valueHolding(h);
      changed = true;
    }
    return changed;
  }
}

/** Values one holding at its live quote when it has a price, else at the provider's price. */
function valueHolding(h: Holding): void {
  const q = h.quote;
  let price: bigint | null;
  let previous: bigint | null;
  if (q !== null && q.price !== null) {
    price = q.price;
    previous = q.previousClose;
    h.source = q.delayed ? "delayed" : "live";
    h.priceTime = q.timeMs;
  } else {
    price = h.providerPrice;
    previous = h.providerPreviousClose;
    h.source = price === null ? null : "provider";
    h.priceTime = price === null ? null : h.position.provider_time;
  }
  if (price === null || h.units === null) {
    h.value = h.day = h.dayBase = null;
    h.source = null;
    return;
  }
  h.value = h.units * price;
  if (previous === null) {
    h.day = h.dayBase = null;
  } else {
    const before = h.units * previous;
    h.day = h.value - before;
    h.dayBase = before < 0n ? -before : before;
  }
}
