/**
 * One shared simulated price per symbol: a deterministic random walk (seeded by the symbol) that
 * both the market-data stream and order fills read, so a fill happens at the price a client just
 * saw on the stream.
 * @module
 */

// Exact: decimal.js's default precision (20 digits) would round quantities and amounts.
import { Exact as Decimal } from "@meridian/portfolio/exact";
import { findAsset, hashSymbol } from "./assets.ts";

/** mulberry32: tiny deterministic PRNG. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Open, high, low, close, volume, trade count and traded value of a stretch of trades. */
export interface Bar {
  o: number;
  h: number;
  l: number;
  c: number;
  v: number;
  n: number;
  /** Σ price × size, for the volume-weighted average price. */
  value: number;
}

/** The last trade of a symbol that has traded (see {@link PriceBook.stats}). */
export interface LastTrade {
  price: number;
  tradeId: number;
  size: number;
  /** When it traded (ms since the epoch). */
  at: number;
}

interface Walk {
  price: Decimal;
  lastDay: Decimal;
  rand: () => number;
  tradeId: number;
  last: LastTrade | null;
  /** Every trade since the walk started (the sandbox's session). */
  session: Bar;
  /** The trades of the latest minute that had one; `start` is that minute (ms). */
  minute: (Bar & { start: number }) | null;
}

function openBar(price: number): Bar {
  return { o: price, h: price, l: price, c: price, v: 0, n: 0, value: 0 };
}

function addTrade(bar: Bar, price: number, size: number): void {
  bar.h = Math.max(bar.h, price);
  bar.l = Math.min(bar.l, price);
  bar.c = price;
  bar.v += size;
  bar.n++;
  bar.value += price * size;
}

/** Decimal places a price is kept at: cents from $1 up, 4 places below (Alpaca's tick sizes). */
function places(p: Decimal): number {
  return p.gte(1) ? 2 : 4;
}

/**
 * The previous session's close of a symbol whose walk starts at `base`: base moved back by a
 * stable −2.5 % to +2.5 % (never 0), so positions show a day change before the first step. A
 * hash of its own keeps the walk's random sequence as it was.
 */
function previousClose(symbol: string, base: Decimal): Decimal {
  let bp = (hashSymbol(`close:${symbol}`) % 501) - 250;
  if (bp === 0) bp = 37;
  return base.div(new Decimal(bp).div(10_000).plus(1))
    .toDecimalPlaces(places(base), Decimal.ROUND_HALF_UP);
}

/** The simulated market: a price per symbol that moves one step at a time. */
export class PriceBook {
  #walks = new Map<string, Walk>();

  #walk(symbol: string): Walk {
    const key = symbol.toUpperCase();
    let w = this.#walks.get(key);
    if (!w) {
      const rand = mulberry32(hashSymbol(key));
      const asset = findAsset(key);
      // Unknown symbols still get a stable price so any subscription streams something.
      const base = asset
        ? new Decimal(asset.basePrice)
        : new Decimal(10 + (hashSymbol(key) % 49000) / 100).toDecimalPlaces(2);
      w = {
        price: base,
        lastDay: previousClose(key, base),
        rand,
        tradeId: 0,
        last: null,
        session: openBar(base.toNumber()),
        minute: null,
      };
      this.#walks.set(key, w);
    }
    return w;
  }

  /** The current price (a Decimal with at most 4 places). */
  price(symbol: string): Decimal {
    return this.#walk(symbol).price;
  }

  /** The previous session's close (fixed; the walk moves only the current price). */
  lastDay(symbol: string): Decimal {
    return this.#walk(symbol).lastDay;
  }

  /**
   * What has traded: the last trade (`null` before the first step), the session's bar since the
   * walk started and the latest minute's bar (`null` before the first step).
   */
  stats(
    symbol: string,
  ): { last: LastTrade | null; session: Bar; minute: (Bar & { start: number }) | null } {
    const w = this.#walk(symbol);
    return { last: w.last, session: w.session, minute: w.minute };
  }

  /**
   * Moves the price one step (at most ±0.2 %, at least one tick) as a trade at `at` (ms), and
   * returns the new price plus a fresh trade id and size. The randomness is turned into a Decimal
   * with fixed places before touching the price, so no float ever reaches money.
   */
  step(symbol: string, at = Date.now()): { price: Decimal; tradeId: number; size: number } {
    const w = this.#walk(symbol);
    const r = new Decimal(Math.floor(w.rand() * 1_000_000)).div(1_000_000); // [0,1)
    const pct = r.minus("0.5").mul("0.004"); // [-0.2 %, +0.2 %)
    const dp = places(w.price);
    let next = w.price.mul(pct.plus(1)).toDecimalPlaces(dp, Decimal.ROUND_HALF_UP);
    if (next.lte(0)) next = new Decimal(1).div(10 ** dp);
    w.price = next;
    w.tradeId++;
    const size = 1 + Math.floor(w.rand() * 300);
    const p = next.toNumber();
    const minuteStart = Math.floor(at / 60_000) * 60_000;
    if (w.minute?.start !== minuteStart) w.minute = { ...openBar(p), start: minuteStart };
    addTrade(w.minute, p, size);
    addTrade(w.session, p, size);
    w.last = { price: p, tradeId: w.tradeId, size, at };
    return { price: next, tradeId: w.tradeId, size };
  }

  /** Sets a price outright (tests and admin use; limit orders react on the next check). */
  set(symbol: string, price: string | number | Decimal): void {
    this.#walk(symbol).price = new Decimal(price);
  }
}
