/**
 * The data messages the market-data streams send for one price step, in Alpaca's wire shapes:
 * stock trades and quotes (`/v2/{feed}`) and crypto trades and quotes (`/v1beta3/crypto/us`).
 * @module
 */

import { findAsset } from "./assets.ts";

/** One symbol's step this tick. */
export interface Tick {
  price: number;
  tradeId: number;
  size: number;
}

const round4 = (n: number) => Math.round(n * 10_000) / 10_000;

/** The bid/ask around a trade price: one tick either side (cents from $1, else 4 places). */
export function spread(price: number): { bp: number; ap: number } {
  const tickSize = price >= 1 ? 0.01 : 0.0001;
  return { bp: round4(price - tickSize), ap: round4(price + tickSize) };
}

/** A crypto size: the step's integer size read as ten-thousandths of a coin. */
export function cryptoSize(size: number): number {
  return size / 10_000;
}

/**
 * The stock trade (`T:"t"`) or quote (`T:"q"`) for `symbol` on a `/v2` feed. `exchange` is `V`
 * (IEX) on iex/test, else `Q`; `t` is the timestamp as the connection's framing carries it.
 */
export function stockMessage(
  kind: "trades" | "quotes",
  symbol: string,
  tick: Tick,
  exchange: string,
  t: unknown,
): Record<string, unknown> {
  const z = findAsset(symbol)?.tape ?? "C";
  if (kind === "trades") {
    return {
      T: "t",
      S: symbol,
      i: tick.tradeId,
      x: exchange,
      p: tick.price,
      s: tick.size,
      t,
      c: ["@"],
      z,
    };
  }
  const { bp, ap } = spread(tick.price);
  return {
    T: "q",
    S: symbol,
    bx: exchange,
    bp,
    bs: 1 + (tick.size % 7),
    ax: exchange,
    ap,
    as: 1 + ((tick.size * 3) % 5),
    t,
    c: ["R"],
    z,
  };
}

/**
 * The crypto trade `{T:"t", S, p, s, t, i, tks}` (`tks` the taker side, `B` or `S`) or quote
 * `{T:"q", S, bp, bs, ap, as, t}` for `symbol` (e.g. `BTC/USD`).
 */
export function cryptoMessage(
  kind: "trades" | "quotes",
  symbol: string,
  tick: Tick,
  t: unknown,
): Record<string, unknown> {
  if (kind === "trades") {
    return {
      T: "t",
      S: symbol,
      p: tick.price,
      s: cryptoSize(tick.size),
      t,
      i: tick.tradeId,
      tks: tick.tradeId % 2 === 0 ? "S" : "B",
    };
  }
  const { bp, ap } = spread(tick.price);
  return {
    T: "q",
    S: symbol,
    bp,
    bs: cryptoSize(1 + (tick.size % 7) * 100),
    ap,
    as: cryptoSize(1 + ((tick.size * 3) % 5) * 100),
    t,
  };
}
