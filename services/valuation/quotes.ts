/**
 * The live price of every instrument a valued portfolio holds, folded from two sources: the
 * `prices.<SYMBOL>` ticks (fast, price only) and KV `last_prices` (previous close, and the
 * price for a symbol that has not ticked since this process started). A quote never goes back
 * in time: an older price than the one held is ignored.
 * @module
 */
import type { LastPrice, PriceTick } from "@meridian/proto";
import { parseScaled, PRICE_SCALE, scaledText } from "./scaled.ts";

/** One symbol's live price and who holds it. */
export class Quote {
  readonly symbol: string;
  /** Crypto trades around the clock, so its staleness ignores the stock market's hours. */
  readonly crypto: boolean;
  /** In units of 10^-PRICE_SCALE; null before any price, or for a price too precise to hold. */
  price: bigint | null = null;
  previousClose: bigint | null = null;
  /** Exchange time of the price (ms since the epoch) and its text as received. */
  timeMs = -Infinity;
  time = "";
  delayed = false;
  /** Bumped on every change: a holding revalues when the version it saw is older. */
  version = 0;
  /** `"SYMBOL":{…}` as the value message's `quotes` carries it, built once per version. */
  #json: string | null = null;
  #previousCloseText: string | null = null;
  /** The portfolios that read this quote. */
  readonly holders = new Set<object>();

  constructor(symbol: string) {
    this.symbol = symbol;
    this.crypto = symbol.includes("/");
  }

  /** The quote's member of the value message's `quotes` object; null before any price. */
  json(): string | null {
    if (this.price === null) return null;
    // Canonical decimals, as the api's holdings view writes them.
    this.#json ??= `${JSON.stringify(this.symbol)}:${
      JSON.stringify([
        scaledText(this.price, PRICE_SCALE),
        this.previousClose === null ? null : scaledText(this.previousClose, PRICE_SCALE),
        this.time,
        this.delayed,
      ])
    }`;
    return this.#json;
  }

  /** Applies a trade; false when it is older than the price held (nothing changed). */
  applyTick(tick: Pick<PriceTick, "price" | "time" | "delayed">): boolean {
    const ms = Date.parse(tick.time);
    if (ms < this.timeMs) return false;
    this.price = parseScaled(tick.price, PRICE_SCALE);
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
      this.previousClose = last.previous_close === null
        ? null
        : parseScaled(last.previous_close, PRICE_SCALE);
      this.#previousCloseText = last.previous_close;
      changed = true;
    }
    const ms = Date.parse(last.time);
    if (ms > this.timeMs || this.price === null) {
      this.price = parseScaled(last.price, PRICE_SCALE);
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
    this.#json = null;
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
