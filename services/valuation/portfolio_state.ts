/**
 * One user's portfolio in memory: each holding keeps its quote and the version of it last
 * valued, so a revaluation looks again only at the holdings whose instrument ticked (the
 * message multiplies quantity by price as it sums). Amounts are fixed-point big integers (see
 * scaled.ts). Pure: no I/O.
 * @module
 */
import type { UserHoldings, ValuedPosition } from "./holdings.ts";
import { preparePositions } from "./holdings.ts";
import type { Quote, QuoteBook } from "./quotes.ts";
import { AMOUNT_SCALE, parseScaled, pow10, PRICE_SCALE, UNITS_SCALE } from "./scaled.ts";

/** Where a holding's price came from. */
export type PriceSource = "live" | "delayed" | "provider" | null;

/**
 * The holdings and cash of one account in one currency. Only position values move with the
 * prices; the rest (cash, cost basis, the previous-close value day change is measured
 * against) is summed here, again only when it changes (a sync, a previous close).
 */
export interface Slot {
  readonly index: number;
  readonly account_id: string;
  readonly currency: string;
  cash: bigint;
  /** Σ cost basis of the priced holdings that have one. */
  cost: bigint;
  /** Σ quantity × previous close of the priced holdings that have one, and Σ of its absolute. */
  before: bigint;
  absBefore: bigint;
}

/** One position and its current valuation; amounts in units of 10^-AMOUNT_SCALE. */
export interface Holding {
  /** A cash equivalent (its price does not move: day change coverage leaves it out). */
  readonly cashEquivalent: boolean;
  /** When the provider's price was synced (ms). */
  readonly providerTime: number | null;
  readonly slot: Slot;
  /** quantity × multiplier in units of 10^-UNITS_SCALE; null when too precise to hold. */
  readonly units: bigint | null;
  readonly cost: bigint | null;
  readonly quote: Quote | null;
  readonly providerPrice: bigint | null;
  readonly providerPreviousClose: bigint | null;
  /** The quote version this valuation used (-1: never valued). */
  seen: number;
  /**
   * The price in use (the quote's own bigint, not a copy), or null when unpriced (no price,
   * or `units` too precise). The value, units × price, is computed where it is summed: stored,
   * half a million values would live a second each and be collected as old garbage.
   */
  price: bigint | null;
  /** units × the previous close in use, and that close (null: none, no day change). */
  before: bigint | null;
  previous: bigint | null;
  source: PriceSource;
  /** The price's time (ms), for freshness. */
  priceTime: number | null;
  readonly crypto: boolean;
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
  readonly holdings: Holding[];
  /** Every (account, currency) with a holding or cash, by account then currency. */
  readonly slots: readonly Slot[];
  /** Each account (the user's, then any other a row names) with its slots. */
  readonly accounts: readonly { account_id: string; slots: readonly Slot[] }[];
  /** The slot sums are out of date (a holding's coverage or previous close changed). */
  #fixedStale = true;
  /** The distinct quotes the holdings read. */
  readonly quotes: readonly Quote[];

  /** Builds the state and registers its holdings with their quotes. */
  constructor(input: UserHoldings, book: QuoteBook) {
    this.userId = input.user_id;
    this.baseCurrency = input.base_currency;
    const quotes = new Set<Quote>();
    const positions = preparePositions(input.positions);
    const cash = input.balances.map((b) => ({
      account_id: b.account_id,
      currency: b.currency,
      amount: parseScaled(b.cash, AMOUNT_SCALE),
    }));
    const slotOf = slotsFor([...positions, ...cash]);
    this.slots = [...slotOf.values()];
    const ids = [
      ...new Set([...[...input.account_ids].sort(), ...this.slots.map((x) => x.account_id)]),
    ];
    this.accounts = ids.map((id) => ({
      account_id: id,
      slots: this.slots.filter((x) => x.account_id === id),
    }));
    this.holdings = positions.map((p) => {
      const quote = p.quote_symbol === null ? null : book.ensure(p.quote_symbol);
      if (quote) quotes.add(quote);
      return {
        cashEquivalent: p.security_type === "cash_equivalent",
        providerTime: p.provider_time,
        slot: slotOf.get(slotKey(p))!,
        units: unitsOf(p),
        cost: p.cost_basis === null ? null : parseScaled(p.cost_basis, AMOUNT_SCALE),
        quote,
        providerPrice: price(p.provider_price),
        providerPreviousClose: price(p.provider_previous_close),
        seen: -1,
        price: null,
        before: null,
        previous: null,
        source: null,
        priceTime: null,
        crypto: p.quote_symbol?.includes("/") ?? p.security_type === "crypto",
      };
    });
    this.quotes = [...quotes];
    for (const q of this.quotes) q.holders.add(this);
    // A balance too precise to hold exactly is left out, never rounded.
    for (const c of cash) if (c.amount !== null) slotOf.get(slotKey(c))!.cash += c.amount;
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
      if (valueHolding(h)) this.#fixedStale = true;
      changed = true;
    }
    return changed;
  }

  /** Brings the slots' cost and previous-close sums up to date. */
  fixedSums(): readonly Slot[] {
    if (!this.#fixedStale) return this.slots;
    this.#fixedStale = false;
    for (const s of this.slots) s.cost = s.before = s.absBefore = 0n;
    for (const h of this.holdings) {
      if (h.price === null) continue;
      if (h.cost !== null) h.slot.cost += h.cost;
      if (h.before !== null) {
        h.slot.before += h.before;
        h.slot.absBefore += h.before < 0n ? -h.before : h.before;
      }
    }
    return this.slots;
  }
}

const slotKey = (x: { account_id: string; currency: string }) => `${x.account_id} ${x.currency}`;

/** The slots of these rows, by account then currency, indexed by {@link slotKey}. */
function slotsFor(rows: readonly { account_id: string; currency: string }[]): Map<string, Slot> {
  const sorted = [...new Map(rows.map((r) => [slotKey(r), r])).values()].sort((a, b) =>
    a.account_id < b.account_id
      ? -1
      : a.account_id > b.account_id
      ? 1
      : a.currency.localeCompare(b.currency)
  );
  const out = new Map<string, Slot>();
  sorted.forEach((r, index) =>
    out.set(slotKey(r), {
      index,
      account_id: r.account_id,
      currency: r.currency,
      cash: 0n,
      cost: 0n,
      before: 0n,
      absBefore: 0n,
    })
  );
  return out;
}

/**
 * Values one holding at its live quote when it has a price, else at the provider's price.
 * True when what the slot sums hold changed (whether it is priced, its previous close).
 */
function valueHolding(h: Holding): boolean {
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
    h.priceTime = price === null ? null : h.providerTime;
  }
  const wasPriced = h.price !== null;
  if (price === null || h.units === null) {
    h.price = h.before = h.previous = null;
    h.source = null;
    return wasPriced;
  }
  h.price = price;
  if (wasPriced && previous === h.previous) return false;
  h.previous = previous;
  h.before = previous === null ? null : h.units * previous;
  return true;
}
