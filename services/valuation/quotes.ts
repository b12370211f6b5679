/**
 * The live price of every instrument a valued portfolio holds, folded from two sources: the
 * `prices.<SYMBOL>` ticks (fast, price only) and KV `last_prices` (previous close, and the
 * price for a symbol that has not ticked since this process started). A quote never goes back
 * in time: an older price than the one held is ignored.
 * @module
 */
import type { LastPrice, PriceTick, ValueQuote } from "@meridian/proto";
import { type Exact, parseExact } from "./scaled.ts";

/** One symbol's live price and who holds it. */
export class Quote {
  readonly symbol: string;
  /** Crypto trades around the clock, so its staleness ignores the stock market's hours. */
  readonly crypto: boolean;
  price: Exact | null = null;
  previousClose: Exact | null = null;
  /** Exchange time of the price (ms since the epoch) and its text as received. */
  timeMs = -Infinity;
  time = "";
  delayed = false;
  /** Bumped on every change: a holding revalues when the version it saw is older. */
  version = 0;
  /** The wire form for the value message, rebuilt at most once per version. */
  #wire: ValueQuote | null = null;
  #priceText = "";
  #previousCloseText: string | null = null;
  /** Holdings (by owner) that read this quote; the owner's count of such holdings. */
  readonly holders = new Map<object, number>();

  constructor(symbol: string) {
    this.symbol = symbol;
    this.crypto = symbol.includes("/");
  }

  /** The quote as the value message carries it; null before any price. */
  wire(): ValueQuote | null {
    if (this.price === null) return null;
    this.#wire ??= {
      price: this.#priceText,
      previous_close: this.#previousCloseText,
      time: this.time,
      delayed: this.delayed,
    };
    return this.#wire;
  }

  /** Applies a trade; false when it is older than the price held (nothing changed). */
  applyTick(tick: Pick<PriceTick, "price" | "time" | "delayed">): boolean {
    const ms = Date.parse(tick.time);
    if (ms < this.timeMs) return false;
    this.price = parseExact(tick.price);
    this.#priceText = tick.price;
    this.timeMs = ms;
    this.time = tick.time;
    this.delayed = tick.delayed;
    this.#changed();
    return true;
  }

  /** Applies a `last_prices` entry: its previous close always, its price when not older. */
  applyLast(last: LastPrice): boolean {
    let changed = false;
    if (last.previous_close !== this.#previousCloseText) {
      this.previousClose = last.previous_close === null ? null : parseExact(last.previous_close);
      this.#previousCloseText = last.previous_close;
      changed = true;
    }
    const ms = Date.parse(last.time);
    if (ms > this.timeMs || this.price === null) {
      this.price = parseExact(last.price);
      this.#priceText = last.price;
      this.timeMs = ms;
      this.time = last.time;
      this.delayed = last.delayed;
      changed = true;
    }
    if (changed) this.#changed();
    return changed;
  }

  #changed(): void {
    this.version++;
    this.#wire = null;
  }
}

/** Every quote this process follows, by market-data symbol. */
export class QuoteBook {
  readonly #quotes = new Map<string, Quote>();
  /** Every `last_prices` entry, held or not, so a quote created later starts from it. */
  readonly #last = new Map<string, LastPrice>();

  /** The quote of `symbol`, created on first use from its last known price. */
  ensure(symbol: string): Quote {
    let q = this.#quotes.get(symbol);
    if (!q) {
      q = new Quote(symbol);
      const last = this.#last.get(symbol);
      if (last) q.applyLast(last);
      this.#quotes.set(symbol, q);
    }
    return q;
  }

  /** Records a `last_prices` entry; returns the held quote it changed, if any. */
  applyLast(last: LastPrice): Quote | null {
    this.#last.set(last.symbol, last);
    const q = this.#quotes.get(last.symbol);
    return q && q.applyLast(last) ? q : null;
  }

  get(symbol: string): Quote | undefined {
    return this.#quotes.get(symbol);
  }

  /** Forgets quotes nobody holds any more. */
  prune(): void {
    for (const [symbol, q] of this.#quotes) if (q.holders.size === 0) this.#quotes.delete(symbol);
  }

  get size(): number {
    return this.#quotes.size;
  }
}
