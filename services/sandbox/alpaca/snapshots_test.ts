import assert from "node:assert/strict";
import { marketData } from "@alpacahq/alpaca-trade-api";
import { DEMO_ALPACA_DATA_KEYS, DEMO_ALPACA_KEY_ID, DEMO_ALPACA_SECRET } from "./mod.ts";
import { connectData, control, serveAlpaca } from "./test_helpers.ts";

const KEY = DEMO_ALPACA_DATA_KEYS[0];

function config(base: string, keyId = KEY.keyId, secret = KEY.secret) {
  return new marketData.Configuration({ basePath: `${base}/alpaca-data`, keyId, secret });
}

const BAR_KEYS = ["c", "h", "l", "n", "o", "t", "v", "vw"];

Deno.test("stock snapshots (official SDK) show the trade the stream sent last", async () => {
  const s = serveAlpaca();
  const c = await connectData(`${s.ws}/alpaca-data/v2/iex`);
  try {
    c.send({ action: "auth", key: KEY.keyId, secret: KEY.secret });
    await c.next();
    c.send({ action: "subscribe", trades: ["AAPL"] });
    await c.nextWhere(control("subscription"));
    // deno-lint-ignore no-explicit-any
    let last: any;
    while (!last) for (const m of await c.next()) if (m.T === "t") last = m;
    // Once unsubscribed AAPL stops ticking: the last trade before the acknowledgement is final.
    c.send({ action: "unsubscribe", trades: ["AAPL"] });
    for (;;) {
      const frame = await c.next();
      if (control("subscription")(frame)) break;
      for (const m of frame) if (m.T === "t") last = m;
    }

    const stocks = new marketData.StockApi(config(s.base));
    const snaps = await stocks.stockSnapshots({ symbols: "AAPL,msft" });
    assert.deepEqual(Object.keys(snaps).sort(), ["AAPL", "MSFT"]);
    assert.equal(snaps.AAPL.latestTrade?.p, last.p);
    assert.equal(snaps.AAPL.latestTrade?.i, last.i);

    const raw = await (await fetch(`${s.base}/alpaca-data/v2/stocks/snapshots?symbols=AAPL`, {
      headers: { "APCA-API-KEY-ID": KEY.keyId, "APCA-API-SECRET-KEY": KEY.secret },
    })).json();
    const { T: _t, S: _s, ...trade } = last;
    assert.deepEqual(raw.AAPL.latestTrade, trade);
    const q = raw.AAPL.latestQuote;
    assert.deepEqual(Object.keys(q).sort(), ["ap", "as", "ax", "bp", "bs", "bx", "c", "t", "z"]);
    assert.equal(q.bp, Math.round((last.p - 0.01) * 100) / 100);
    assert.equal(q.ap, Math.round((last.p + 0.01) * 100) / 100);
    for (const b of ["minuteBar", "dailyBar", "prevDailyBar"]) {
      assert.deepEqual(Object.keys(raw.AAPL[b]).sort(), BAR_KEYS, b);
    }
    assert.equal(raw.AAPL.minuteBar.c, last.p);
    assert.equal(raw.AAPL.dailyBar.c, last.p);
    assert.equal(raw.AAPL.dailyBar.o, 228.5); // the walk's start
    assert.ok(raw.AAPL.dailyBar.h >= last.p && raw.AAPL.dailyBar.l <= last.p);
    assert.match(raw.AAPL.minuteBar.t, /^\d{4}-\d\d-\d\dT\d\d:\d\d:00Z$/);
    assert.match(raw.AAPL.dailyBar.t, /^\d{4}-\d\d-\d\dT0[45]:00:00Z$/);
    assert.ok(raw.AAPL.prevDailyBar.t < raw.AAPL.dailyBar.t);
    assert.equal(raw.AAPL.prevDailyBar.c, 229.58); // the positions' lastday_price

    // One symbol, another feed: SIP's exchange code; a symbol that never traded shows its open.
    const one = await stocks.stockSnapshotSingle({ symbol: "NVDA", feed: "sip" });
    assert.equal(one.symbol, "NVDA");
    assert.equal(one.latestTrade?.x, "Q");
    assert.equal(one.latestTrade?.p, one.dailyBar?.o);
    assert.ok(one.latestTrade?.t instanceof Date);
  } finally {
    await c.close();
    await s.close();
  }
});

Deno.test("crypto snapshots (official SDK): {snapshots: {BTC/USD: …}} with tks", async () => {
  const s = serveAlpaca({ tradeIntervalMs: 60_000 });
  try {
    // The SDK sends no keys for crypto: the data is public, as on Alpaca.
    const api = new marketData.CryptoApi(config(s.base, DEMO_ALPACA_KEY_ID, DEMO_ALPACA_SECRET));
    const r = await api.cryptoSnapshots({ loc: "us", symbols: "BTC/USD,ETH/USD" });
    assert.deepEqual(Object.keys(r.snapshots).sort(), ["BTC/USD", "ETH/USD"]);
    const raw = await (await fetch(
      `${s.base}/alpaca-data/v1beta3/crypto/us/snapshots?symbols=BTC/USD`,
      { headers: { "APCA-API-KEY-ID": KEY.keyId, "APCA-API-SECRET-KEY": KEY.secret } },
    )).json();
    const btc = raw.snapshots["BTC/USD"];
    assert.deepEqual(Object.keys(btc.latestTrade).sort(), ["i", "p", "s", "t", "tks"]);
    assert.deepEqual(Object.keys(btc.latestQuote).sort(), ["ap", "as", "bp", "bs", "t"]);
    for (const b of ["minuteBar", "dailyBar", "prevDailyBar"]) {
      assert.deepEqual(Object.keys(btc[b]).sort(), BAR_KEYS, b);
    }
    assert.equal(btc.latestTrade.p, r.snapshots["BTC/USD"].latestTrade?.p);
  } finally {
    await s.close();
  }
});

Deno.test("snapshots: 401 without keys, 403 wrong or broken keys, 400 bad input, 404", async () => {
  const s = serveAlpaca({ tradeIntervalMs: 60_000 });
  const get = async (path: string, headers: Record<string, string> = {}) => {
    const r = await fetch(`${s.base}/alpaca-data${path}`, { headers });
    return { status: r.status, body: await r.json() };
  };
  const h = (keyId: string, secret: string) => ({
    "APCA-API-KEY-ID": keyId,
    "APCA-API-SECRET-KEY": secret,
  });
  const ok = h(KEY.keyId, KEY.secret);
  try {
    assert.deepEqual(await get("/v2/stocks/snapshots?symbols=AAPL"), {
      status: 401,
      body: { message: "unauthorized." },
    });
    assert.deepEqual(await get("/v2/stocks/snapshots?symbols=AAPL", h(KEY.keyId, "x")), {
      status: 403,
      body: { message: "forbidden." },
    });
    s.sb.admin.breakConnection(DEMO_ALPACA_KEY_ID);
    const broken = h(DEMO_ALPACA_KEY_ID, DEMO_ALPACA_SECRET);
    assert.equal((await get("/v2/stocks/AAPL/snapshot", broken)).status, 403);

    assert.deepEqual(await get("/v2/stocks/snapshots", ok), {
      status: 400,
      body: { code: 40010001, message: "missing symbols" },
    });
    assert.deepEqual(await get("/v2/stocks/snapshots?symbols=AAPL&feed=nasdaq", ok), {
      status: 400,
      body: { code: 40010001, message: "invalid feed" },
    });
    assert.deepEqual(await get("/v2/stocks/snapshots?symbols=AAPL,BTC/USD", ok), {
      status: 400,
      body: { code: 40010001, message: "invalid symbol: BTC/USD" },
    });
    assert.equal((await get("/v1beta3/crypto/us/snapshots?symbols=AAPL", ok)).status, 400);
    const badCryptoKey = h(KEY.keyId, "x");
    assert.equal(
      (await get("/v1beta3/crypto/us/snapshots?symbols=BTC/USD", badCryptoKey)).status,
      403,
    );
    assert.equal((await get("/v1beta3/crypto/eu-9/snapshots?symbols=BTC/USD", ok)).status, 404);
    assert.equal((await get("/v2/stocks/AAPL/trades", ok)).status, 404);

    const routes = s.calls.counts().by_route;
    assert.equal(routes["alpaca GET /data/v2/stocks/snapshots"], 5);
    assert.equal(routes["alpaca GET /data/v2/stocks/:symbol/snapshot"], 1);
    assert.equal(routes["alpaca GET /data/v1beta3/crypto/:loc/snapshots"], 3);
  } finally {
    await s.close();
  }
});
