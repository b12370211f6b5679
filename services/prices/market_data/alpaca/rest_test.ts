import assert from "node:assert/strict";
import {
  DEMO_ALPACA_DATA_KEYS,
  DEMO_ALPACA_KEY_ID,
  DEMO_ALPACA_SECRET,
} from "../../../sandbox/alpaca/mod.ts";
import { serveAlpaca } from "../../../sandbox/alpaca/test_helpers.ts";
import { AlpacaRest, AlpacaRestError } from "./rest.ts";

const KEY = DEMO_ALPACA_DATA_KEYS[0];
const ACCOUNT = { keyId: DEMO_ALPACA_KEY_ID, secret: DEMO_ALPACA_SECRET };
const DECIMAL = /^\d+(\.\d+)?$/;

function rest(base: string, feed: "iex" | "sip" | "test" = "iex") {
  return new AlpacaRest({ dataUrl: `${base}/alpaca-data`, tradingUrl: `${base}/alpaca`, feed });
}

Deno.test("stock snapshots: latest trade and previous close as decimal strings", async () => {
  const s = serveAlpaca({ tradeIntervalMs: 50 });
  try {
    const snaps = await rest(s.base, "test").snapshots("stocks", ["AAPL", "MSFT", "AAPL"], KEY);
    assert.deepEqual([...snaps.keys()].sort(), ["AAPL", "MSFT"]);
    const aapl = snaps.get("AAPL")!;
    assert.equal(aapl.symbol, "AAPL");
    assert.match(aapl.price, DECIMAL);
    assert.match(aapl.size, DECIMAL);
    assert.ok(aapl.time instanceof Date && !Number.isNaN(aapl.time.getTime()));
    assert.equal(aapl.previousClose, "229.58"); // the sandbox's previous close of AAPL
    assert.equal(s.calls.counts().by_route["alpaca GET /data/v2/stocks/snapshots"], 1);
  } finally {
    await s.close();
  }
});

Deno.test("snapshots are batched by 200 symbols", async () => {
  const s = serveAlpaca({ tradeIntervalMs: 50 });
  try {
    const symbols = Array.from({ length: 250 }, (_, i) => `S${i}`);
    const snaps = await rest(s.base, "sip").snapshots("stocks", symbols, KEY);
    assert.equal(snaps.size, 250);
    assert.equal(s.calls.counts().by_route["alpaca GET /data/v2/stocks/snapshots"], 2);
    assert.deepEqual(await rest(s.base).snapshots("stocks", [], KEY), new Map());
  } finally {
    await s.close();
  }
});

Deno.test("crypto snapshots: BTC/USD with its previous close", async () => {
  const s = serveAlpaca({ tradeIntervalMs: 50 });
  try {
    const snaps = await rest(s.base).snapshots("crypto", ["BTC/USD", "ETH/USD"], KEY);
    assert.deepEqual([...snaps.keys()].sort(), ["BTC/USD", "ETH/USD"]);
    const btc = snaps.get("BTC/USD")!;
    assert.match(btc.price, DECIMAL);
    assert.match(btc.size, DECIMAL);
    assert.ok(btc.time instanceof Date);
    assert.match(btc.previousClose ?? "", DECIMAL);
  } finally {
    await s.close();
  }
});

Deno.test("clock: open, then closed after the admin switch", async () => {
  const s = serveAlpaca({ tradeIntervalMs: 50 });
  try {
    const open = await rest(s.base).clock(ACCOUNT);
    assert.equal(open.isOpen, true);
    for (const d of [open.nextOpen, open.nextClose, open.time]) assert.ok(d instanceof Date);
    s.sb.admin.setMarketOpen(false);
    const closed = await rest(s.base).clock(ACCOUNT);
    assert.equal(closed.isOpen, false);
    assert.ok(closed.nextOpen.getTime() > closed.time.getTime());
  } finally {
    await s.close();
  }
});

Deno.test("SDK errors carry status and Alpaca's message, never the secret", async () => {
  const s = serveAlpaca({ tradeIntervalMs: 50 });
  const bad = { keyId: DEMO_ALPACA_KEY_ID, secret: "wrong-secret-value-0123456789" };
  try {
    const clock = await rest(s.base).clock(bad).catch((e) => e);
    assert.ok(clock instanceof AlpacaRestError);
    assert.equal(clock.status, 401);
    assert.match(clock.message, /^Alpaca answered 401: request is not authorized/);
    const snaps = await rest(s.base).snapshots("stocks", ["AAPL"], bad).catch((e) => e);
    assert.ok(snaps instanceof AlpacaRestError);
    assert.equal(snaps.status, 403);
    // Any market-data key reads the clock (every Alpaca key can), but not with a wrong secret.
    assert.equal(typeof (await rest(s.base).clock(KEY)).isOpen, "boolean");
    const dataKey = await rest(s.base).clock({ ...KEY, secret: bad.secret }).catch((e) => e);
    assert.equal(dataKey.status, 401);
    for (const e of [clock, snaps, dataKey]) {
      const text = `${e.message} ${JSON.stringify(e)} ${String(e.stack)}`;
      assert.ok(!text.includes(bad.secret), text);
      assert.ok(!/apca-api|header/i.test(text), text);
    }
  } finally {
    await s.close();
  }
});

Deno.test("an unreachable host is a status-0 error without the secret", async () => {
  const s = serveAlpaca({ tradeIntervalMs: 50 });
  const base = s.base;
  await s.close(); // nothing listens there any more
  const e = await rest(base).clock(ACCOUNT).catch((e) => e);
  assert.ok(e instanceof AlpacaRestError);
  assert.equal(e.status, 0);
  assert.ok(!e.message.includes(ACCOUNT.secret));
});
