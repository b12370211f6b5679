/**
 * Alpaca's market-data REST snapshots (the `data.alpaca.markets` host, mounted at
 * `/alpaca-data`): `GET /v2/stocks/snapshots`, `GET /v2/stocks/{symbol}/snapshot` and
 * `GET /v1beta3/crypto/us/snapshots`, each with latestTrade, latestQuote, minuteBar, dailyBar and
 * prevDailyBar read from the price book the streams and fills use. Market-data keys in the
 * `APCA-API-KEY-ID` / `APCA-API-SECRET-KEY` headers (optional for crypto, as on Alpaca).
 * @module
 */

import { type Context, Hono } from "hono";
import type { CallLog } from "../calls.ts";
import { hashSymbol } from "./assets.ts";
import type { Broker } from "./broker.ts";
import { authenticateData } from "./data_keys.ts";
import { cryptoMessage, cryptoSize, stockMessage, type Tick } from "./data_messages.ts";
import { rfc3339Nanos } from "./data_stream.ts";
import { dailyBarTime } from "./market.ts";
import type { Bar, PriceBook } from "./prices.ts";

/** What the snapshot routes read. */
export interface SnapshotDeps {
  broker: Broker;
  prices: PriceBook;
  calls: CallLog;
  now: () => number;
}

const STOCK_FEEDS = new Set(["iex", "sip", "delayed_sip"]);
/** A well-formed stock symbol (any is priced, as the streams do). */
export const STOCK_SYMBOL = /^[A-Z][A-Z0-9.]{0,19}$/;
/** A well-formed crypto pair. */
export const CRYPTO_SYMBOL = /^[A-Z0-9]{1,10}\/[A-Z0-9]{1,10}$/;

/** A price at Alpaca's precision: cents from $1, 4 places below. */
function roundPrice(n: number): number {
  return n >= 1 ? Math.round(n * 100) / 100 : Math.round(n * 10_000) / 10_000;
}

/** Drops the stream-only `T` and `S` fields: REST carries the symbol in the key. */
function withoutTypeAndSymbol(m: Record<string, unknown>): Record<string, unknown> {
  const { T: _t, S: _s, ...rest } = m;
  return rest;
}

/** A bar in Alpaca's REST shape `{t, o, h, l, c, v, n, vw}` (crypto volume in coins). */
export function barJson(bar: Bar, t: string, crypto: boolean): Record<string, unknown> {
  return {
    t,
    o: bar.o,
    h: bar.h,
    l: bar.l,
    c: bar.c,
    v: crypto ? cryptoSize(bar.v) : bar.v,
    n: bar.n,
    vw: bar.v > 0 ? Math.round((bar.value / bar.v) * 10_000) / 10_000 : bar.c,
  };
}

/** The previous session's bar: it closed at the price book's previous close; the rest is stable. */
export function previousBar(symbol: string, close: number): Bar {
  const h = hashSymbol(`prev:${symbol}`);
  const o = roundPrice(close * (1 + ((h % 201) - 100) / 10_000));
  const v = 20_000 + (h % 500_000);
  const vw = roundPrice((o + close) / 2);
  return {
    o,
    h: roundPrice(Math.max(o, close) * 1.003),
    l: roundPrice(Math.min(o, close) * 0.997),
    c: close,
    v,
    n: 500 + (h % 5_000),
    value: vw * v,
  };
}

/** One symbol's snapshot in Alpaca's shape (stock, or crypto when `exchange` is null). */
function snapshot(
  d: SnapshotDeps,
  symbol: string,
  exchange: string | null,
): Record<string, unknown> {
  const now = d.now();
  const crypto = exchange === null;
  const { last, session, minute } = d.prices.stats(symbol);
  // Before its first step a symbol shows its opening print (trade id 0) in the current minute.
  const trade = last ?? { price: session.o, tradeId: 0, size: 100, at: now };
  const tick: Tick = { price: trade.price, tradeId: trade.tradeId, size: trade.size };
  const t = rfc3339Nanos(trade.at);
  const message = (kind: "trades" | "quotes") =>
    withoutTypeAndSymbol(
      crypto ? cryptoMessage(kind, symbol, tick, t) : stockMessage(kind, symbol, tick, exchange, t),
    );
  const minuteBar = minute ?? { ...session, c: trade.price, v: 0, n: 0, value: 0, start: now };
  const minuteStart = Math.floor(minuteBar.start / 60_000) * 60_000;
  const prevClose = d.prices.lastDay(symbol).toNumber();
  return {
    latestTrade: message("trades"),
    latestQuote: message("quotes"),
    minuteBar: barJson(
      minuteBar,
      new Date(minuteStart).toISOString().replace(".000Z", "Z"),
      crypto,
    ),
    dailyBar: barJson(session, dailyBarTime(now, 0), crypto),
    prevDailyBar: barJson(previousBar(symbol, prevClose), dailyBarTime(now, 1), crypto),
  };
}

/** Builds the Hono app; mount it with `app.route("/alpaca-data", snapshots)`. */
export function snapshotRoutes(d: SnapshotDeps): Hono {
  const app = new Hono();
  const invalid = (c: Context, message: string) => c.json({ code: 40010001, message }, 400);

  app.use("*", async (c, next) => {
    const full = new URL(c.req.url).pathname;
    const path = full.slice(Math.max(0, full.search(/\/v(2|1beta3)\//)));
    const route = path.endsWith("/snapshots")
      ? path.replace(/\/crypto\/[^/]+\//, "/crypto/:loc/")
      : path.replace(/\/stocks\/[^/]+\/snapshot$/, "/stocks/:symbol/snapshot");
    d.calls.record("alpaca", c.req.method, `/data${route}`);
    c.header("X-Request-ID", crypto.randomUUID().replaceAll("-", ""));
    const key = c.req.header("APCA-API-KEY-ID");
    const secret = c.req.header("APCA-API-SECRET-KEY");
    // Crypto data is public on Alpaca (the SDK's CryptoApi sends no keys); keys sent must be good.
    if (!key && !secret && path.startsWith("/v1beta3/crypto/")) return await next();
    if (!key || !secret) return c.json({ message: "unauthorized." }, 401);
    if (authenticateData(d.broker, key, secret) === undefined) {
      return c.json({ message: "forbidden." }, 403);
    }
    await next();
  });

  /** The symbols of `?symbols=`, upper-cased, each matching `pattern`; a string is an error. */
  const symbolsOf = (c: Context, pattern: RegExp): string[] | string => {
    const raw = c.req.query("symbols") ?? "";
    const symbols = [...new Set(raw.split(",").map((s) => s.trim().toUpperCase()))]
      .filter((s) => s !== "");
    if (symbols.length === 0) return "missing symbols";
    const bad = symbols.find((s) => !pattern.test(s));
    return bad === undefined ? symbols : `invalid symbol: ${bad}`;
  };

  /** The stock feed's exchange code (`V` = IEX), or null for an unknown feed. */
  const exchangeOf = (c: Context): string | null => {
    const feed = c.req.query("feed") ?? "iex";
    if (!STOCK_FEEDS.has(feed)) return null;
    return feed === "iex" ? "V" : "Q";
  };

  app.get("/v2/stocks/snapshots", (c) => {
    const exchange = exchangeOf(c);
    if (exchange === null) return invalid(c, "invalid feed");
    const symbols = symbolsOf(c, STOCK_SYMBOL);
    if (typeof symbols === "string") return invalid(c, symbols);
    return c.json(Object.fromEntries(symbols.map((s) => [s, snapshot(d, s, exchange)])));
  });

  app.get("/v2/stocks/:symbol/snapshot", (c) => {
    const exchange = exchangeOf(c);
    if (exchange === null) return invalid(c, "invalid feed");
    const symbol = c.req.param("symbol").toUpperCase();
    if (!STOCK_SYMBOL.test(symbol)) return invalid(c, `invalid symbol: ${symbol}`);
    return c.json({ symbol, ...snapshot(d, symbol, exchange) });
  });

  app.get("/v1beta3/crypto/:loc/snapshots", (c) => {
    if (c.req.param("loc") !== "us") return c.json({ message: "Not Found" }, 404);
    const symbols = symbolsOf(c, CRYPTO_SYMBOL);
    if (typeof symbols === "string") return invalid(c, symbols);
    return c.json({ snapshots: Object.fromEntries(symbols.map((s) => [s, snapshot(d, s, null)])) });
  });

  app.all("*", (c) => c.json({ message: "Not Found" }, 404));
  return app;
}
