/**
 * Alpaca's historical bars (the `data.alpaca.markets` host, mounted at `/alpaca-data`):
 * `GET /v2/stocks/bars`, `GET /v2/stocks/{symbol}/bars`, `GET /v1beta3/crypto/us/bars` and
 * `GET /v1beta1/options/bars`, daily bars only, in Alpaca's shape and paging
 * (`{bars: {SYM: [{t, o, h, l, c, v, n, vw}]}, next_page_token}`).
 *
 * The bars agree with the price book the streams, snapshots and fills read: today's bar closes at
 * the current price, the previous session's is the snapshots' `prevDailyBar` (the price book's
 * previous close), and each earlier session steps back by one seeded move (`bars:SYMBOL:DAY`),
 * so a past day's close depends only on the symbol, the day and today's date: the same in every
 * process and every run, however far the live walk has gone. Stocks and options trade on
 * weekdays, crypto pairs every day; bars begin on {@link FIRST_BAR_DAY}.
 * @module
 */

import { type Context, Hono } from "hono";
import type { Exact } from "@meridian/portfolio/exact";
import { prng } from "../prng.ts";
import { RollingLimit } from "../rolling_limit.ts";
import { authenticateData } from "./data_keys.ts";
import { AlpacaError } from "./errors.ts";
import { dailyBarTime, nyDay } from "./market.ts";
import type { Bar, PriceBook } from "./prices.ts";
import {
  barJson,
  CRYPTO_SYMBOL,
  previousBar,
  type SnapshotDeps,
  STOCK_SYMBOL,
} from "./snapshots.ts";

/** The first day with bars (Alpaca's historical data begins in 2016). */
export const FIRST_BAR_DAY = "2016-01-04";
/** Requests per minute per market-data key, as on Alpaca's free (Basic) plan. */
export const BARS_PER_MINUTE = 200;

const DAY_MS = 86_400_000;
/** Price units: ten-thousandths of a dollar, Alpaca's finest tick. */
const UNIT = 10_000n;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const RFC3339 = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const OPTION_SYMBOL = /^[A-Z]{1,6}\d{6}[CP]\d{8}$/;
const TIMEFRAMES = new Set(["1Day", "1D"]);
const STOCK_FEEDS = new Set(["iex", "sip", "otc", "boats"]);
const ADJUSTMENTS = new Set(["raw", "split", "dividend", "spin-off", "all"]);
const DEFAULT_LIMIT = 1_000;
const MAX_LIMIT = 10_000;
const MAX_OPTION_SYMBOLS = 100;

// ---- Calendar: days as numbers (days since 1970-01-01) ----

const dayNumber = (day: string): number => Date.parse(`${day}T00:00:00Z`) / DAY_MS;
const dayString = (n: number): string => new Date(n * DAY_MS).toISOString().slice(0, 10);
const validDay = (day: string): boolean =>
  DATE.test(day) && !Number.isNaN(dayNumber(day)) && dayString(dayNumber(day)) === day;

/** Crypto pairs trade every day; stocks and options on weekdays. */
const everyDay = (symbol: string): boolean => symbol.includes("/");

function isSession(n: number, daily: boolean): boolean {
  const weekday = (n + 4) % 7; // 1970-01-01 was a Thursday
  return daily || (weekday !== 0 && weekday !== 6);
}

function previousSession(n: number, daily: boolean): number {
  let d = n - 1;
  while (!isSession(d, daily)) d--;
  return d;
}

// The bar time of a day is New York midnight; formatting it takes a time-zone lookup, so each
// day (at most one per day since FIRST_BAR_DAY) is worked out once.
const barTimes = new Map<number, string>();
function barTime(n: number): string {
  let t = barTimes.get(n);
  if (t === undefined) {
    t = dailyBarTime(Date.parse(`${dayString(n)}T17:00:00Z`), 0);
    barTimes.set(n, t);
  }
  return t;
}

// ---- Closes in ten-thousandths of a dollar: exact integers, no float touches a price ----

function units(price: Exact): bigint {
  return BigInt(price.times(10_000).toFixed(0));
}

function unitsNumber(u: bigint): number {
  return Number(u) / 10_000;
}

function unitsString(u: bigint): string {
  const frac = (u % UNIT).toString().padStart(4, "0").replace(/0+$/, "");
  return frac ? `${u / UNIT}.${frac}` : `${u / UNIT}`;
}

/** `num / den` units at Alpaca's tick (cents from $1, ten-thousandths below), half up, ≥ 1 tick. */
function atTick(num: bigint, den: bigint): bigint {
  const tick = num >= UNIT * den ? 100n : 1n;
  const q = ((2n * num + tick * den) / (2n * tick * den)) * tick;
  return q > 0n ? q : 1n;
}

/** The seeded draws of `symbol` on day `n`: the first is the day's move, the rest shape its bar. */
function draws(symbol: string, n: number): () => number {
  return prng(`bars:${symbol}:${dayString(n)}`);
}

/** A session's close and the close of the session before it. */
interface SessionClose {
  day: number;
  close: bigint;
  previous: bigint;
}

/**
 * The closes of `symbol` on its sessions from day `from` to day `to` (inclusive), newest first,
 * when it is day `today`: today's is the current price, the previous session's the book's
 * previous close, and each earlier one undoes the next session's move of −2 % … +2 %.
 */
function closesBack(
  book: PriceBook,
  symbol: string,
  from: number,
  to: number,
  today: number,
): SessionClose[] {
  const daily = everyDay(symbol);
  const first = Math.max(from, dayNumber(FIRST_BAR_DAY));
  const out: SessionClose[] = [];
  let close = units(book.lastDay(symbol));
  if (isSession(today, daily) && today >= first && today <= to) {
    out.push({ day: today, close: units(book.price(symbol)), previous: close });
  }
  for (let d = previousSession(today, daily); d >= first; d = previousSession(d, daily)) {
    const move = BigInt(Math.floor(draws(symbol, d)() * 401) - 200);
    const previous = atTick(close * UNIT, UNIT + move);
    if (d <= to) out.push({ day: d, close, previous });
    close = previous;
  }
  return out;
}

/**
 * The daily close of `symbol` on the New York day `day` (`YYYY-MM-DD`) as the bars report it at
 * `now`: a decimal string, or null when the symbol had no session that day (a weekend for stocks
 * and options, a day after today or before {@link FIRST_BAR_DAY}). Today's is the book's current
 * price, the previous session's its previous close; earlier days are the same in every process.
 * Throws a RangeError for a malformed day.
 */
export function dailyClose(
  book: PriceBook,
  symbol: string,
  day: string,
  now: number = Date.now(),
): string | null {
  if (!validDay(day)) throw new RangeError(`not a day (YYYY-MM-DD): ${day}`);
  const n = dayNumber(day);
  const [s] = closesBack(book, symbol.toUpperCase(), n, n, dayNumber(nyDay(now)));
  return s ? unitsString(s.close) : null;
}

/** The full bar of a session: today's from the book, the previous session's as the snapshots. */
function sessionBar(book: PriceBook, symbol: string, s: SessionClose, today: number): Bar {
  const c = unitsNumber(s.close);
  if (s.day === today) {
    const { session } = book.stats(symbol);
    return { ...session, c, h: Math.max(session.h, c), l: Math.min(session.l, c) };
  }
  if (s.day === previousSession(today, everyDay(symbol))) return previousBar(symbol, c);
  const r = draws(symbol, s.day);
  r(); // the day's move, already in the close
  const open = atTick(s.previous * (UNIT + BigInt(Math.floor(r() * 101) - 50)), UNIT);
  const top = s.close > open ? s.close : open;
  const bottom = s.close < open ? s.close : open;
  const high = atTick(top * (UNIT + BigInt(Math.floor(r() * 101))), UNIT);
  const low = atTick(bottom * (UNIT - BigInt(Math.floor(r() * 101))), UNIT);
  const v = 50_000 + Math.floor(r() * 4_950_000);
  const vw = Math.round(Number(high + low + s.close) / 3) / 10_000;
  return {
    o: unitsNumber(open),
    h: unitsNumber(high),
    l: unitsNumber(low),
    c,
    v,
    n: 100 + Math.floor(v / 250),
    value: vw * v,
  };
}

// ---- The REST routes ----

/** What the bar routes read: the snapshots' dependencies and a per-key request limit. */
export interface BarDeps extends SnapshotDeps {
  /** Requests per market-data key; default {@link BARS_PER_MINUTE} a minute. */
  limit?: RollingLimit;
}

/** A validated bars request. */
interface BarRequest {
  /** Upper-cased, unique, ascending (Alpaca pages symbol by symbol). */
  symbols: string[];
  from: number;
  to: number;
  limit: number;
  desc: boolean;
  /** Where the page starts (from `page_token`). */
  cursor: { symbol: string; day: number } | null;
}

const badRequest = (message: string) => new AlpacaError(400, 40010001, message);

/** An instant from `start`/`end`: RFC-3339, or a date meaning New York midnight; else null. */
function parseInstant(s: string): number | null {
  if (DATE.test(s)) return validDay(s) ? Date.parse(barTime(dayNumber(s))) : null;
  const m = RFC3339.exec(s);
  if (!m) return null;
  const ms = Date.parse(`${m[1]}${(m[2] ?? "").slice(0, 4)}${m[3]}`);
  return Number.isNaN(ms) ? null : ms;
}

/** The upper-cased, unique, sorted symbols of `raw`, each matching `pattern`. */
function parseSymbols(raw: string | undefined, pattern: RegExp): string[] | AlpacaError {
  const symbols = [...new Set((raw ?? "").split(",").map((s) => s.trim().toUpperCase()))]
    .filter((s) => s !== "")
    .sort();
  if (symbols.length === 0) return badRequest("missing symbols");
  const bad = symbols.find((s) => !pattern.test(s));
  return bad === undefined ? symbols : badRequest(`invalid symbol: ${bad}`);
}

/** The common parameters: timeframe, start, end, limit, sort, page_token. */
function parseRequest(
  query: (name: string) => string | undefined,
  symbols: string[],
  now: number,
): BarRequest | AlpacaError {
  if (!TIMEFRAMES.has(query("timeframe") ?? "")) {
    return new AlpacaError(422, 42210000, "invalid timeframe");
  }
  const rawStart = query("start");
  const rawEnd = query("end");
  const start = rawStart === undefined
    ? Date.parse(barTime(dayNumber(nyDay(now))))
    : parseInstant(rawStart);
  if (start === null) return badRequest("invalid start");
  const end = rawEnd === undefined ? now : parseInstant(rawEnd);
  if (end === null) return badRequest("invalid end");
  if (end < start) return new AlpacaError(422, 42210000, "end should not be before start");
  const rawLimit = query("limit");
  const limit = rawLimit === undefined ? DEFAULT_LIMIT : Number(rawLimit);
  if (!/^\d+$/.test(rawLimit ?? "1") || limit < 1 || limit > MAX_LIMIT) {
    return badRequest("invalid limit");
  }
  const sort = query("sort") ?? "asc";
  if (sort !== "asc" && sort !== "desc") return badRequest("invalid sort");
  let from = dayNumber(nyDay(start));
  if (Date.parse(barTime(from)) < start) from++;
  const token = query("page_token");
  let cursor: BarRequest["cursor"] = null;
  if (token !== undefined) {
    cursor = parseToken(token);
    if (!cursor || !symbols.includes(cursor.symbol)) return badRequest("invalid page_token");
  }
  return { symbols, from, to: dayNumber(nyDay(end)), limit, desc: sort === "desc", cursor };
}

/** A page token: base64 of `SYMBOL|D|<bar time>` of the bar the next page starts with. */
function pageToken(symbol: string, day: number): string {
  return btoa(`${symbol}|D|${barTime(day)}`);
}

function parseToken(token: string): BarRequest["cursor"] {
  let text: string;
  try {
    text = atob(token);
  } catch {
    return null;
  }
  const [symbol, kind, t, ...rest] = text.split("|");
  const at = parseInstant(t ?? "");
  if (kind !== "D" || rest.length > 0 || !symbol || at === null) return null;
  return { symbol, day: dayNumber(nyDay(at)) };
}

/** One page of bars, symbol by symbol, at most `limit` in all. */
function page(
  d: BarDeps,
  req: BarRequest,
  crypto: boolean,
): { bars: Record<string, unknown[]>; next: string | null } {
  const today = dayNumber(nyDay(d.now()));
  const bars: Record<string, unknown[]> = {};
  let count = 0;
  const first = req.cursor ? req.symbols.indexOf(req.cursor.symbol) : 0;
  for (let i = first; i < req.symbols.length; i++) {
    const symbol = req.symbols[i];
    const closes = closesBack(d.prices, symbol, req.from, req.to, today);
    if (!req.desc) closes.reverse();
    for (const s of closes) {
      const c = i === first ? req.cursor : null;
      if (c && (req.desc ? s.day > c.day : s.day < c.day)) continue;
      if (count === req.limit) return { bars, next: pageToken(symbol, s.day) };
      (bars[symbol] ??= []).push(
        barJson(sessionBar(d.prices, symbol, s, today), barTime(s.day), crypto),
      );
      count++;
    }
  }
  return { bars, next: null };
}

/**
 * Builds the Hono app of the bar routes. It answers only its own paths, so mount it before the
 * snapshot routes on the same `/alpaca-data` prefix (the snapshots answer every other path).
 */
export function barRoutes(d: BarDeps): Hono {
  const app = new Hono();
  const limiter = d.limit ?? new RollingLimit(BARS_PER_MINUTE);
  const fail = (c: Context, e: AlpacaError) => c.json(e.body(), e.status as 400 | 404 | 422 | 429);

  /**
   * Records the call and checks the keys (optional for crypto, as on Alpaca) and the key's
   * request limit; a Response when the request is refused.
   */
  const admit = (c: Context, route: string, keysOptional: boolean): Response | null => {
    d.calls.record("alpaca", "GET", `/data${route}`);
    c.header("X-Request-ID", crypto.randomUUID().replaceAll("-", ""));
    const key = c.req.header("APCA-API-KEY-ID");
    const secret = c.req.header("APCA-API-SECRET-KEY");
    if (!key && !secret && keysOptional) return null;
    if (!key || !secret) return c.json({ message: "unauthorized." }, 401);
    const id = authenticateData(d.broker, key, secret);
    if (id === undefined) return c.json({ message: "forbidden." }, 403);
    const now = d.now();
    const decision = limiter.take(id, now);
    c.header("X-RateLimit-Limit", String(limiter.limit));
    c.header("X-RateLimit-Remaining", String(decision.remaining));
    c.header("X-RateLimit-Reset", String(Math.ceil(now / 1000) + decision.resetSeconds));
    if (decision.allowed) return null;
    c.header("Retry-After", String(decision.resetSeconds));
    return fail(c, new AlpacaError(429, 42910000, "rate limit exceeded"));
  };

  /** The stock-only parameters: feed and adjustment (no corporate actions: all read the same). */
  const stockParams = (c: Context): AlpacaError | null => {
    if (!STOCK_FEEDS.has(c.req.query("feed") ?? "sip")) return badRequest("invalid feed");
    const adjustment = (c.req.query("adjustment") ?? "raw").split(",");
    return adjustment.every((a) => ADJUSTMENTS.has(a.trim()))
      ? null
      : badRequest("invalid adjustment");
  };

  /** Parses the request for `symbols` and answers one page (`single`: one symbol's shape). */
  const answer = (c: Context, symbols: string[] | AlpacaError, crypto: boolean, single = false) => {
    if (symbols instanceof AlpacaError) return fail(c, symbols);
    const req = parseRequest((n) => c.req.query(n), symbols, d.now());
    if (req instanceof AlpacaError) return fail(c, req);
    const { bars, next } = page(d, req, crypto);
    if (single) {
      return c.json({ bars: bars[symbols[0]] ?? [], symbol: symbols[0], next_page_token: next });
    }
    return c.json({ bars, next_page_token: next });
  };

  app.get("/v2/stocks/bars", (c) => {
    const refused = admit(c, "/v2/stocks/bars", false);
    if (refused) return refused;
    const bad = stockParams(c);
    if (bad) return fail(c, bad);
    return answer(c, parseSymbols(c.req.query("symbols"), STOCK_SYMBOL), false);
  });

  app.get("/v2/stocks/:symbol/bars", (c) => {
    const refused = admit(c, "/v2/stocks/:symbol/bars", false);
    if (refused) return refused;
    const bad = stockParams(c);
    if (bad) return fail(c, bad);
    return answer(c, parseSymbols(c.req.param("symbol"), STOCK_SYMBOL), false, true);
  });

  app.get("/v1beta3/crypto/:loc/bars", (c) => {
    const refused = admit(c, "/v1beta3/crypto/:loc/bars", true);
    if (refused) return refused;
    if (c.req.param("loc") !== "us") return c.json({ message: "Not Found" }, 404);
    return answer(c, parseSymbols(c.req.query("symbols"), CRYPTO_SYMBOL), true);
  });

  app.get("/v1beta1/options/bars", (c) => {
    const refused = admit(c, "/v1beta1/options/bars", false);
    if (refused) return refused;
    const symbols = parseSymbols(c.req.query("symbols"), OPTION_SYMBOL);
    if (Array.isArray(symbols) && symbols.length > MAX_OPTION_SYMBOLS) {
      return fail(c, badRequest(`too many symbols: at most ${MAX_OPTION_SYMBOLS}`));
    }
    return answer(c, symbols, false);
  });

  return app;
}
