/**
 * One user's portfolio in memory: each holding keeps its quote and the version of it last
 * valued, so a revaluation multiplies only the holdings whose instrument ticked. Pure: no I/O.
 * @module
 */
import { abs, type Exact, mul, parseExact, sub } from "./scaled.ts";
import type { UserHoldings, ValuedPosition } from "./holdings.ts";
import { preparePositions } from "./holdings.ts";
import type { Quote, QuoteBook } from "./quotes.ts";

/** Where a holding's price came from. */
export type PriceSource = "live" | "delayed" | "provider" | null;

/** One position and its current valuation. */
export interface Holding {
  readonly position: ValuedPosition;
  /** quantity × multiplier. */
  readonly units: Exact;
  readonly cost: Exact | null;
  readonly quote: Quote | null;
  readonly providerPrice: Exact | null;
  readonly providerPreviousClose: Exact | null;
  /** The quote version this valuation used (-1: never valued). */
  seen: number;
  value: Exact | null;
  /** Day change and the previous-close value it is a percentage of (null: no previous close). */
  day: Exact | null;
  dayBase: Exact | null;
  source: PriceSource;
  /** The price's time (ms), for freshness. */
  priceTime: number | null;
  crypto: boolean;
}

/** One cash balance. */
export interface Cash {
  account_id: string;
  currency: string;
  amount: Exact;
}

/** A user's holdings, valued. */
export class PortfolioState {
  readonly userId: string;
  readonly baseCurrency: string;
  readonly accountIds: readonly string[];
  readonly holdings: Holding[];
  readonly cash: readonly Cash[];

  /** Builds the state and registers its holdings with their quotes. */
  constructor(input: UserHoldings, quotes: QuoteBook) {
    this.userId = input.user_id;
    this.baseCurrency = input.base_currency;
    this.accountIds = [...input.account_ids].sort();
    this.holdings = preparePositions(input.positions).map((p) => {
      const quote = p.quote_symbol === null ? null : quotes.ensure(p.quote_symbol);
      if (quote) quote.holders.set(this, (quote.holders.get(this) ?? 0) + 1);
      return {
        position: p,
        units: mul(parseExact(p.quantity), parseExact(p.multiplier)),
        cost: p.cost_basis === null ? null : parseExact(p.cost_basis),
        quote,
        providerPrice: p.provider_price === null ? null : parseExact(p.provider_price),
        providerPreviousClose: p.provider_previous_close === null
          ? null
          : parseExact(p.provider_previous_close),
        seen: -1,
        value: null,
        day: null,
        dayBase: null,
        source: null,
        priceTime: null,
        crypto: p.quote_symbol?.includes("/") ?? p.security_type === "crypto",
      };
    });
    this.cash = input.balances.map((b) => ({
      account_id: b.account_id,
      currency: b.currency,
      amount: parseExact(b.cash),
    }));
    this.revalue();
  }

  /** The quotes this portfolio reads (each once). */
  quotes(): Quote[] {
    const out = new Set<Quote>();
    for (const h of this.holdings) if (h.quote) out.add(h.quote);
    return [...out];
  }

  /** Unregisters from the quotes (the user is no longer valued here). */
  detach(): void {
    for (const q of this.quotes()) q.holders.delete(this);
  }

  /** Revalues the holdings whose quote changed since they were valued; true if any did. */
  revalue(): boolean {
    let changed = false;
    for (const h of this.holdings) {
      const version = h.quote?.version ?? 0;
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
  let price: Exact | null;
  let previous: Exact | null;
  if (q && q.price !== null) {
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
  if (price === null) {
    h.value = h.day = h.dayBase = null;
    return;
  }
  h.value = mul(h.units, price);
  if (previous === null) {
    h.day = h.dayBase = null;
  } else {
    const before = mul(h.units, previous);
    h.day = sub(h.value, before);
    h.dayBase = abs(before);
  }
}
