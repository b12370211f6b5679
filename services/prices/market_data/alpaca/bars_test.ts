import assert from "node:assert/strict";
import { Hono } from "hono";
import { createLogger, type Logger, parseConfig } from "@meridian/runtime";
import { barRoutes } from "../../../sandbox/alpaca/bars.ts";
import { Broker } from "../../../sandbox/alpaca/broker.ts";
import { nyDay } from "../../../sandbox/alpaca/market.ts";
import { dailyClose, DEMO_ALPACA_DATA_KEYS, PriceBook } from "../../../sandbox/alpaca/mod.ts";
import { serveAlpaca } from "../../../sandbox/alpaca/test_helpers.ts";
import { CallLog } from "../../../sandbox/calls.ts";
import { RollingLimit } from "../../../sandbox/rolling_limit.ts";
import { historicalPricesFromConfig } from "../history.ts";
import { AlpacaHistoricalPrices, barsKind } from "./bars.ts";
import { AlpacaRestError } from "./rest.ts";

const KEY = DEMO_ALPACA_DATA_KEYS[0];
const DAY_MS = 86_400_000;
const DECIMAL = /^\d+(\.\d+)?$/;
const quiet = createLogger("prices", "error");

function addDays(day: string, n: number): string {
  return new Date(Date.parse(`${day}T12:00:00Z`) + n * DAY_MS).toISOString().slice(0, 10);
}

const weekday = (day: string) => ![0, 6].includes(new Date(`${day}T12:00:00Z`).getUTCDay());

function history(
  base: string,
  opts: Partial<ConstructorParameters<typeof AlpacaHistoricalPrices>[0]> = {},
) {
  return new AlpacaHistoricalPrices({
    dataUrl: `${base}/alpaca-data`,
    feed: "iex",
    credential: KEY,
    log: quiet,
    ...opts,
  });
}

Deno.test("barsKind: crypto pairs, compact OCC options, the rest stocks", () => {
  assert.equal(barsKind("BTC/USD"), "crypto");
  assert.equal(barsKind("AAPL270115C00250000"), "options");
  assert.equal(barsKind("BRKB270115P00450500"), "options");
  assert.equal(barsKind("BRK.B"), "stocks");
  assert.equal(barsKind("AAPL"), "stocks");
});

Deno.test("dailyCloses: the sandbox's closes of stocks, crypto and options, session days only", async () => {
  const s = serveAlpaca({ tradeIntervalMs: 60_000 });
  try {
    const today = nyDay(Date.now());
    const from = addDays(today, -400);
    const symbols = ["AAPL", "BRK.B", "BTC/USD", "AAPL270115C00250000", "ETH/USD"];
    const closes = await history(s.base).dailyCloses(symbols, from, today);
    assert.deepEqual([...closes.keys()].sort(), [...symbols].sort());
    const book = new PriceBook(); // the sandbox's book: nothing has ticked, past days agree anyway
    for (const symbol of symbols) {
      const got = closes.get(symbol)!;
      const crypto = symbol.includes("/");
      const expected = new Map<string, string>();
      for (let day = from; day <= today; day = addDays(day, 1)) {
        const close = dailyClose(book, symbol, day, Date.now());
        if (close !== null) expected.set(day, close);
        assert.equal(close !== null, crypto || weekday(day), `${symbol} ${day}`);
      }
      assert.deepEqual(got, expected, symbol);
      assert.deepEqual([...got.keys()], [...got.keys()].sort());
      for (const close of got.values()) assert.match(close, DECIMAL);
    }
    const routes = s.calls.counts().by_route;
    assert.equal(routes["alpaca GET /data/v2/stocks/bars"], 1);
    assert.equal(routes["alpaca GET /data/v1beta3/crypto/:loc/bars"], 1);
    assert.equal(routes["alpaca GET /data/v1beta1/options/bars"], 1);

    // A narrow range keeps to it; symbols come back as they were asked for.
    const week = await history(s.base).dailyCloses(["aapl", "BTC/USD"], "2026-11-02", "2026-11-08");
    assert.deepEqual([...week.get("aapl")!.keys()], [
      "2026-11-02",
      "2026-11-03",
      "2026-11-04",
      "2026-11-05",
      "2026-11-06",
    ]);
    assert.equal(week.get("BTC/USD")?.size, 7);
    assert.deepEqual(await history(s.base).dailyCloses([], from, today), new Map());
    assert.deepEqual(
      await history(s.base).dailyCloses(["AAPL"], "2026-11-07", "2026-11-08"),
      new Map(),
    );
  } finally {
    await s.close();
  }
});

Deno.test("dailyCloses: batches of 100 symbols, every page followed", async () => {
  const s = serveAlpaca({ tradeIntervalMs: 60_000 });
  try {
    const today = nyDay(Date.now());
    const from = addDays(today, -364);
    const symbols = Array.from({ length: 150 }, (_, i) => `S${i}`);
    const closes = await history(s.base).dailyCloses(symbols, from, today);
    assert.equal(closes.size, 150);
    let sessions = 0;
    for (let day = from; day <= today; day = addDays(day, 1)) if (weekday(day)) sessions++;
    for (const s of symbols) assert.equal(closes.get(s)?.size, sessions, s);
    // 100 symbols × ~261 bars is 3 pages of 10,000; the other 50, 2 pages.
    assert.equal(s.calls.counts().by_route["alpaca GET /data/v2/stocks/bars"], 5);
  } finally {
    await s.close();
  }
});

Deno.test("dailyCloses: a 429 is waited out (Retry-After) and retried", async () => {
  const prices = new PriceBook();
  const calls = new CallLog();
  const broker = new Broker({ prices, now: Date.now, fillDelayMs: 5 });
  const app = new Hono().route(
    "/alpaca-data",
    barRoutes({ broker, prices, calls, now: Date.now, limit: new RollingLimit(1, 2000) }),
  );
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, app.fetch);
  const retried: unknown[] = [];
  const log: Logger = {
    ...quiet,
    child: () => ({ ...quiet, warn: (_m, f) => void retried.push(f) }),
  };
  try {
    const base = `http://127.0.0.1:${server.addr.port}`;
    const closes = await history(base, { log }).dailyCloses(
      ["AAPL", "BTC/USD", "AAPL270115C00250000"],
      "2026-11-02",
      "2026-11-06",
    );
    assert.equal(closes.get("AAPL")?.size, 5);
    assert.equal(closes.get("AAPL270115C00250000")?.size, 5);
    // Stocks, then crypto (keyless, not counted), then options: refused once, then served.
    const routes = calls.counts().by_route;
    assert.equal(routes["alpaca GET /data/v1beta1/options/bars"], 2);
    assert.equal(retried.length, 1);
    const [retry] = retried as { status: number; attempt: number; delay_ms: number }[];
    assert.deepEqual([retry.status, retry.attempt], [429, 1]);
    assert.ok(retry.delay_ms >= 1000 && retry.delay_ms <= 2000, `${retry.delay_ms}`);
  } finally {
    broker.close();
    await server.shutdown();
  }
});

Deno.test("dailyCloses: errors name the status, never the secret; bad days are RangeErrors", async () => {
  const s = serveAlpaca({ tradeIntervalMs: 60_000 });
  const secret = "wrong-secret-value-0123456789";
  try {
    const e = await history(s.base, { credential: { keyId: KEY.keyId, secret } })
      .dailyCloses(["AAPL"], "2026-11-02", "2026-11-06").catch((e) => e);
    assert.ok(e instanceof AlpacaRestError);
    assert.equal(e.status, 403);
    const text = `${e.message} ${JSON.stringify(e)} ${String(e.stack)}`;
    assert.ok(!text.includes(secret), text);
    assert.equal(s.calls.counts().by_route["alpaca GET /data/v2/stocks/bars"], 1); // no retry
    for (
      const [from, to] of [["2026-11-2", "2026-11-06"], ["2026-11-06", "2026-02-30"], [
        "2026-11-07",
        "2026-11-06",
      ]]
    ) {
      await assert.rejects(history(s.base).dailyCloses(["AAPL"], from, to), RangeError);
    }
  } finally {
    await s.close();
  }
  const gone = await history(s.base, { retry: { maxRetries: 1, retryDelayMs: 1 } })
    .dailyCloses(["AAPL"], "2026-11-02", "2026-11-06").catch((e) => e);
  assert.ok(gone instanceof AlpacaRestError);
  assert.equal(gone.status, 0);
  assert.ok(!gone.message.includes(KEY.secret));
});

Deno.test("historicalPricesFromConfig: the sandbox's bars with its demo data keys; none without keys", async () => {
  const s = serveAlpaca({ tradeIntervalMs: 60_000 });
  try {
    const prices = historicalPricesFromConfig(
      parseConfig({ PROVIDERS: "sandbox", SANDBOX_URL: s.base }),
      quiet,
    );
    assert.ok(prices);
    const closes = await prices.dailyCloses(["MSFT"], "2026-11-02", "2026-11-06");
    assert.equal(
      closes.get("MSFT")?.get("2026-11-04"),
      dailyClose(new PriceBook(), "MSFT", "2026-11-04"),
    );
    assert.equal(historicalPricesFromConfig(parseConfig({ PROVIDERS: "live" })), null);
  } finally {
    await s.close();
  }
});
