import assert from "node:assert/strict";
import { marketData } from "@alpacahq/alpaca-trade-api";
import { Hono } from "hono";
import { CallLog } from "../calls.ts";
import { RollingLimit } from "../rolling_limit.ts";
import { barRoutes, dailyClose, FIRST_BAR_DAY } from "./bars.ts";
import { Broker } from "./broker.ts";
import { nyDay } from "./market.ts";
import { DEMO_ALPACA_DATA_KEYS } from "./mod.ts";
import { PriceBook } from "./prices.ts";
import { serveAlpaca } from "./test_helpers.ts";

const KEY = DEMO_ALPACA_DATA_KEYS[0];
const HEADERS = { "APCA-API-KEY-ID": KEY.keyId, "APCA-API-SECRET-KEY": KEY.secret };
// Wednesday 2026-07-15, 14:00 in New York.
const NOW = Date.parse("2026-07-15T18:00:00Z");
const BAR_KEYS = ["c", "h", "l", "n", "o", "t", "v", "vw"];
const DAY_MS = 86_400_000;

// deno-lint-ignore no-explicit-any
type Json = any;

function config(base: string, keyId = KEY.keyId, secret = KEY.secret) {
  return new marketData.Configuration({ basePath: `${base}/alpaca-data`, keyId, secret });
}

/** The New York day of a bar's `t`. */
const dayOf = (t: string | Date) => nyDay(new Date(t).getTime());

function addDays(day: string, n: number): string {
  return new Date(Date.parse(`${day}T12:00:00Z`) + n * DAY_MS).toISOString().slice(0, 10);
}

const weekday = (day: string) => ![0, 6].includes(new Date(`${day}T12:00:00Z`).getUTCDay());

Deno.test("dailyClose: today's live price, the previous session's close, no weekend sessions", () => {
  const book = new PriceBook();
  book.step("AAPL", NOW);
  assert.equal(dailyClose(book, "AAPL", "2026-07-15", NOW), book.price("AAPL").toFixed());
  assert.equal(dailyClose(book, "aapl", "2026-07-14", NOW), book.lastDay("AAPL").toFixed());
  assert.equal(dailyClose(book, "AAPL", "2026-07-12", NOW), null); // Sunday
  assert.equal(dailyClose(book, "AAPL", "2026-07-16", NOW), null); // tomorrow
  assert.equal(dailyClose(book, "AAPL", "2015-12-31", NOW), null); // before the first bar
  assert.notEqual(dailyClose(book, "AAPL", FIRST_BAR_DAY, NOW), null);
  // On a Monday the previous session is Friday; for crypto it is Sunday.
  const monday = Date.parse("2026-07-20T15:00:00Z");
  assert.equal(dailyClose(book, "AAPL", "2026-07-17", monday), book.lastDay("AAPL").toFixed());
  assert.equal(
    dailyClose(book, "BTC/USD", "2026-07-19", monday),
    book.lastDay("BTC/USD").toFixed(),
  );
  assert.notEqual(dailyClose(book, "BTC/USD", "2026-07-18", monday), null); // Saturday
  assert.throws(() => dailyClose(book, "AAPL", "2026-7-1", NOW), RangeError);
  assert.throws(() => dailyClose(book, "AAPL", "2026-02-30", NOW), RangeError);
});

Deno.test("dailyClose: a past day's close is the same in every book, however far it walked", () => {
  const fresh = new PriceBook();
  const walked = new PriceBook();
  for (let i = 0; i < 500; i++) walked.step("AAPL", NOW);
  walked.set("AAPL", "1.23");
  assert.equal(dailyClose(fresh, "AAPL", "2026-06-01", NOW), "227.04");
  let previous: number | null = null;
  for (let day = "2025-07-01"; day < "2026-07-15"; day = addDays(day, 1)) {
    const close = dailyClose(fresh, "AAPL", day, NOW);
    assert.equal(dailyClose(walked, "AAPL", day, NOW), close, day);
    assert.equal(close === null, !weekday(day), day);
    if (close === null) continue;
    assert.match(close, /^\d+(\.\d{1,2})?$/); // cents from $1
    if (previous !== null) {
      const move = Number(close) / previous - 1;
      assert.ok(Math.abs(move) <= 0.0201, `${day}: ${move}`);
    }
    previous = Number(close);
  }
  // Below $1 a close keeps four places.
  const penny = new PriceBook();
  penny.set("PENNY", "0.5");
  assert.match(dailyClose(penny, "PENNY", "2026-07-15", NOW) ?? "", /^0\.\d{1,4}$/);
});

Deno.test("stock bars (official SDK): pages of Alpaca's shape agreeing with the snapshots", async () => {
  const s = serveAlpaca({ now: () => NOW });
  try {
    const api = new marketData.StockApi(config(s.base));
    const start = new Date("2025-07-15T00:00:00Z");
    const whole = await api.stockBars({
      symbols: "msft,AAPL",
      timeframe: "1Day",
      start,
      limit: 10_000,
    });
    assert.equal(whole.nextPageToken, null);
    assert.deepEqual(Object.keys(whole.bars), ["AAPL", "MSFT"]);

    // Small pages, symbol by symbol, add up to the whole.
    const paged: Record<string, unknown[]> = {};
    let token: string | undefined;
    let pages = 0;
    do {
      const r = await api.stockBars({
        symbols: "AAPL,MSFT",
        timeframe: "1Day",
        start,
        limit: 100,
        pageToken: token,
      });
      for (const [sym, bars] of Object.entries(r.bars)) (paged[sym] ??= []).push(...bars);
      assert.ok(Object.values(r.bars).flat().length <= 100);
      token = r.nextPageToken ?? undefined;
      pages++;
    } while (token);
    assert.deepEqual(paged, whole.bars);
    assert.equal(pages, Math.ceil(Object.values(whole.bars).flat().length / 100));

    const book = new PriceBook();
    for (const [symbol, bars] of Object.entries(whole.bars) as [string, Json[]][]) {
      assert.ok(bars.length > 250, `${bars.length}`);
      for (const b of bars) {
        assert.deepEqual(Object.keys(b).sort(), BAR_KEYS);
        assert.match(b.t, /^\d{4}-\d\d-\d\dT0[45]:00:00Z$/); // New York midnight
        assert.ok(weekday(dayOf(b.t)), b.t);
        assert.equal(String(b.c), dailyClose(book, symbol, dayOf(b.t), NOW), `${symbol} ${b.t}`);
        assert.ok(b.l <= Math.min(b.o, b.c) && b.h >= Math.max(b.o, b.c), JSON.stringify(b));
      }
      assert.equal(dayOf(bars.at(-1).t), "2026-07-15");
      assert.ok(bars.every((b, i) => i === 0 || b.t > bars[i - 1].t));
    }

    // Today's bar is the snapshot's daily bar, the one before it the previous daily bar.
    const snap = await (await fetch(`${s.base}/alpaca-data/v2/stocks/snapshots?symbols=AAPL`, {
      headers: HEADERS,
    })).json();
    const aapl = whole.bars.AAPL as Json[];
    assert.deepEqual(aapl.at(-1), snap.AAPL.dailyBar);
    assert.deepEqual(aapl.at(-2), snap.AAPL.prevDailyBar);

    // Newest first, and one symbol's own endpoint.
    const desc = await api.stockBars({ symbols: "AAPL", timeframe: "1Day", start, sort: "desc" });
    assert.deepEqual(desc.bars.AAPL, aapl.slice().reverse());
    const single = await api.stockBarSingle({ symbol: "AAPL", timeframe: "1Day", start });
    assert.equal(single.symbol, "AAPL");
    assert.equal(single.nextPageToken, null);
    assert.deepEqual(single.bars.map((b) => b.c), aapl.map((b) => b.c));
    assert.ok(single.bars[0].t instanceof Date);

    const routes = s.calls.counts().by_route;
    assert.equal(routes["alpaca GET /data/v2/stocks/bars"], pages + 2);
    assert.equal(routes["alpaca GET /data/v2/stocks/:symbol/bars"], 1);
  } finally {
    await s.close();
  }
});

Deno.test("bars: start and end bound the days, both included; the default is today", async () => {
  const s = serveAlpaca({ now: () => NOW });
  const get = async (query: string) =>
    await (await fetch(`${s.base}/alpaca-data/v2/stocks/bars?symbols=AAPL&timeframe=1D&${query}`, {
      headers: HEADERS,
    })).json();
  try {
    const days = (r: Json) => (r.bars.AAPL ?? []).map((b: Json) => dayOf(b.t));
    assert.deepEqual(days(await get("start=2026-07-10&end=2026-07-14")), [
      "2026-07-10",
      "2026-07-13",
      "2026-07-14",
    ]);
    assert.deepEqual(days(await get("start=2026-07-14&end=2026-07-14")), ["2026-07-14"]);
    // RFC-3339 instants: a bar is in when its New York midnight is.
    assert.deepEqual(
      days(await get("start=2026-07-13T04:00:01Z&end=2026-07-14T04:00:00.000000000Z")),
      ["2026-07-14"],
    );
    assert.deepEqual(days(await get("start=2026-07-11&end=2026-07-12")), []);
    assert.deepEqual((await get("start=2026-07-11&end=2026-07-12")).bars, {});
    assert.deepEqual(days(await get("")), ["2026-07-15"]);
    assert.deepEqual(days(await get("start=2026-07-16&end=2026-07-20")), []); // not yet traded
    assert.equal((await get("start=2026-07-16")).message, "end should not be before start");
    assert.equal(
      days(await get("start=2010-01-01&end=2016-01-05")).join(),
      "2016-01-04,2016-01-05",
    );
  } finally {
    await s.close();
  }
});

Deno.test("crypto bars trade every day and need no keys; options bars by OCC symbol", async () => {
  const s = serveAlpaca({ now: () => NOW });
  try {
    const crypto = new marketData.CryptoApi(
      new marketData.Configuration({
        basePath: `${s.base}/alpaca-data`,
      }),
    );
    const start = new Date("2026-07-06T00:00:00Z");
    const r = await crypto.cryptoBars({
      loc: "us",
      symbols: "BTC/USD,ETH/USD",
      timeframe: "1Day",
      start,
    });
    assert.deepEqual(Object.keys(r.bars), ["BTC/USD", "ETH/USD"]);
    const btc = r.bars["BTC/USD"] as Json[];
    assert.deepEqual(
      btc.map((b) => dayOf(b.t)),
      Array.from({ length: 10 }, (_, i) => addDays("2026-07-06", i)),
    );
    const book = new PriceBook();
    for (const b of btc) assert.equal(String(b.c), dailyClose(book, "BTC/USD", dayOf(b.t), NOW));
    assert.ok(btc.some((b) => !Number.isInteger(b.v)), "crypto volume is in coins");

    const options = new marketData.OptionApi(config(s.base));
    const o = await options.optionBars({
      symbols: "AAPL270115C00250000",
      timeframe: "1Day",
      start,
    });
    const contract = o.bars.AAPL270115C00250000 as Json[];
    assert.equal(contract.length, 8);
    assert.ok(contract.every((b) => weekday(dayOf(b.t))));
    assert.equal(
      String(contract.at(-1).c),
      dailyClose(book, "AAPL270115C00250000", "2026-07-15", NOW),
    );
    const routes = s.calls.counts().by_route;
    assert.equal(routes["alpaca GET /data/v1beta3/crypto/:loc/bars"], 1);
    assert.equal(routes["alpaca GET /data/v1beta1/options/bars"], 1);
  } finally {
    await s.close();
  }
});

Deno.test("bars: Alpaca's errors for keys and parameters", async () => {
  const s = serveAlpaca({ now: () => NOW });
  const get = async (path: string, headers: Record<string, string> = HEADERS) => {
    const res = await fetch(`${s.base}/alpaca-data${path}`, { headers });
    return { status: res.status, body: await res.json(), id: res.headers.get("X-Request-ID") };
  };
  const stocks = "/v2/stocks/bars?symbols=AAPL&timeframe=1Day";
  try {
    assert.deepEqual((await get(stocks, {})).body, { message: "unauthorized." });
    assert.equal((await get(stocks, {})).status, 401);
    const wrong = { ...HEADERS, "APCA-API-SECRET-KEY": "wrong" };
    assert.deepEqual(await get(stocks, wrong).then((r) => [r.status, r.body]), [403, {
      message: "forbidden.",
    }]);
    assert.equal(
      (await get("/v1beta1/options/bars?symbols=AAPL270115C00250000&timeframe=1Day", {})).status,
      401,
    );
    assert.equal(
      (await get("/v1beta3/crypto/us/bars?symbols=BTC/USD&timeframe=1Day", wrong)).status,
      403,
    );

    const cases: [string, number, number, string][] = [
      ["/v2/stocks/bars?symbols=AAPL&timeframe=1Min", 422, 42210000, "invalid timeframe"],
      ["/v2/stocks/bars?symbols=AAPL", 422, 42210000, "invalid timeframe"],
      ["/v2/stocks/bars?timeframe=1Day", 400, 40010001, "missing symbols"],
      [
        "/v2/stocks/bars?symbols=AAPL,BTC/USD&timeframe=1Day",
        400,
        40010001,
        "invalid symbol: BTC/USD",
      ],
      [`${stocks}&limit=0`, 400, 40010001, "invalid limit"],
      [`${stocks}&limit=10001`, 400, 40010001, "invalid limit"],
      [`${stocks}&limit=ten`, 400, 40010001, "invalid limit"],
      [`${stocks}&start=yesterday`, 400, 40010001, "invalid start"],
      [`${stocks}&end=2026-07-15T10:00:00`, 400, 40010001, "invalid end"],
      [
        `${stocks}&start=2026-07-14&end=2026-07-13`,
        422,
        42210000,
        "end should not be before start",
      ],
      [`${stocks}&sort=up`, 400, 40010001, "invalid sort"],
      [`${stocks}&feed=nasdaq`, 400, 40010001, "invalid feed"],
      [`${stocks}&adjustment=split,bogus`, 400, 40010001, "invalid adjustment"],
      [`${stocks}&page_token=not-base64!`, 400, 40010001, "invalid page_token"],
      [
        `${stocks}&page_token=${btoa("MSFT|D|2026-07-14T04:00:00Z")}`,
        400,
        40010001,
        "invalid page_token",
      ],
      [
        "/v1beta3/crypto/us/bars?symbols=AAPL&timeframe=1Day",
        400,
        40010001,
        "invalid symbol: AAPL",
      ],
      ["/v1beta1/options/bars?symbols=AAPL&timeframe=1Day", 400, 40010001, "invalid symbol: AAPL"],
      [
        `/v1beta1/options/bars?timeframe=1Day&symbols=${
          Array.from({ length: 101 }, (_, i) => `AAPL270115C${String(i).padStart(8, "0")}`).join(
            ",",
          )
        }`,
        400,
        40010001,
        "too many symbols: at most 100",
      ],
    ];
    for (const [path, status, code, message] of cases) {
      const r = await get(path);
      assert.deepEqual([r.status, r.body], [status, { code, message }], path);
      assert.match(r.id ?? "", /^[0-9a-f]{32}$/);
    }
    for (
      const ok of [
        "feed=iex",
        "feed=sip",
        "adjustment=split,dividend",
        "adjustment=all",
        "sort=desc",
      ]
    ) {
      assert.equal((await get(`${stocks}&${ok}`)).status, 200, ok);
    }
    assert.equal((await get("/v1beta3/crypto/eu/bars?symbols=BTC/USD&timeframe=1Day")).status, 404);
  } finally {
    await s.close();
  }
});

Deno.test("bars: a market-data key's requests are limited, with Alpaca's headers and 429", async () => {
  const prices = new PriceBook();
  const calls = new CallLog();
  const broker = new Broker({ prices, now: Date.now, fillDelayMs: 5 });
  const app = new Hono().route(
    "/alpaca-data",
    barRoutes({ broker, prices, calls, now: Date.now, limit: new RollingLimit(2) }),
  );
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, app.fetch);
  const url = (path: string) => `http://127.0.0.1:${server.addr.port}/alpaca-data${path}`;
  try {
    const stocks = url("/v2/stocks/bars?symbols=AAPL&timeframe=1Day");
    const first = await fetch(stocks, { headers: HEADERS });
    await first.body?.cancel();
    assert.equal(first.headers.get("X-RateLimit-Limit"), "2");
    assert.equal(first.headers.get("X-RateLimit-Remaining"), "1");
    assert.ok(Number(first.headers.get("X-RateLimit-Reset")) > Date.now() / 1000);
    await (await fetch(stocks, { headers: HEADERS })).body?.cancel();
    const refused = await fetch(stocks, { headers: HEADERS });
    assert.equal(refused.status, 429);
    assert.deepEqual(await refused.json(), { code: 42910000, message: "rate limit exceeded" });
    assert.equal(refused.headers.get("X-RateLimit-Remaining"), "0");
    assert.ok(Number(refused.headers.get("Retry-After")) >= 1);
    // Another key has its own allowance; keyless crypto requests are not counted.
    const other = DEMO_ALPACA_DATA_KEYS[1];
    const otherHeaders = { "APCA-API-KEY-ID": other.keyId, "APCA-API-SECRET-KEY": other.secret };
    const otherKey = await fetch(stocks, { headers: otherHeaders });
    await otherKey.body?.cancel();
    assert.equal(otherKey.status, 200);
    const crypto = await fetch(url("/v1beta3/crypto/us/bars?symbols=BTC/USD&timeframe=1Day"));
    await crypto.body?.cancel();
    assert.equal(crypto.status, 200);
    assert.equal(crypto.headers.get("X-RateLimit-Limit"), null);
  } finally {
    broker.close();
    await server.shutdown();
  }
});
