import assert from "node:assert/strict";
import { DEMO_ALPACA_DATA_KEYS, DEMO_ALPACA_KEY_ID, DEMO_ALPACA_SECRET } from "./mod.ts";
import { ASSETS } from "./assets.ts";
import { connectData, control, serveAlpaca } from "./test_helpers.ts";

const auth = (k: { keyId: string; secret: string }) => ({
  action: "auth",
  key: k.keyId,
  secret: k.secret,
});

Deno.test("data keys: each authenticates its own stream; a second connection per key is 406", async () => {
  const s = serveAlpaca({ tradeIntervalMs: 60_000 });
  const open = [];
  try {
    assert.ok(DEMO_ALPACA_DATA_KEYS.length >= 3);
    for (const k of DEMO_ALPACA_DATA_KEYS) {
      const c = await connectData(`${s.ws}/alpaca-data/v2/iex`);
      open.push(c);
      c.send(auth(k));
      assert.deepEqual(await c.next(), [{ T: "success", msg: "authenticated" }]);
    }
    // The account key streams alongside them.
    const acct = await connectData(`${s.ws}/alpaca-data/v2/iex`, true);
    open.push(acct);
    acct.send({ action: "auth", key: DEMO_ALPACA_KEY_ID, secret: DEMO_ALPACA_SECRET });
    assert.deepEqual(await acct.next(), [{ T: "success", msg: "authenticated" }]);

    const again = await connectData(`${s.ws}/alpaca-data/v2/iex`);
    again.send(auth(DEMO_ALPACA_DATA_KEYS[0]));
    assert.deepEqual(await again.next(), [
      { T: "error", code: 406, msg: "connection limit exceeded" },
    ]);
    await again.closed;

    const wrong = await connectData(`${s.ws}/alpaca-data/v2/iex`);
    wrong.send({ action: "auth", key: DEMO_ALPACA_DATA_KEYS[1].keyId, secret: "nope" });
    assert.deepEqual(await wrong.next(), [{ T: "error", code: 402, msg: "auth failed" }]);
    await wrong.closed;

    // Market data only: the trading API does not know the key.
    const r = await fetch(`${s.base}/alpaca/v2/account`, {
      headers: {
        "APCA-API-KEY-ID": DEMO_ALPACA_DATA_KEYS[0].keyId,
        "APCA-API-SECRET-KEY": DEMO_ALPACA_DATA_KEYS[0].secret,
      },
    });
    assert.equal(r.status, 401);
    await r.body?.cancel();
  } finally {
    for (const c of open) await c.close();
    await s.close();
  }
});

const STOCKS = [...ASSETS.values()].filter((a) => a.class === "us_equity").map((a) => a.symbol);
// 40 distinct symbols: the sandbox's stocks plus made-up tickers (any symbol streams a price).
const FORTY = [...STOCKS, ...Array.from({ length: 40 }, (_, i) => `ZZ${i}`)].slice(0, 40);

Deno.test("data stream: the free plan's 30 symbols on iex, no cap on sip", async () => {
  const s = serveAlpaca({ tradeIntervalMs: 60_000 });
  const iex = await connectData(`${s.ws}/alpaca-data/v2/iex`);
  const sip = await connectData(`${s.ws}/alpaca-data/v2/sip`);
  try {
    iex.send(auth(DEMO_ALPACA_DATA_KEYS[0]));
    await iex.next();
    iex.send({ action: "subscribe", trades: FORTY.slice(0, 20), quotes: FORTY.slice(10, 30) });
    const ack = await iex.nextWhere(control("subscription"));
    assert.equal(ack[0].trades.length, 20);
    iex.send({ action: "subscribe", quotes: [FORTY[30]] });
    assert.deepEqual(await iex.next(), [{ T: "error", code: 405, msg: "symbol limit exceeded" }]);
    // Bars do not count.
    iex.send({ action: "subscribe", bars: FORTY });
    assert.equal((await iex.nextWhere(control("subscription")))[0].bars.length, 40);

    sip.send(auth(DEMO_ALPACA_DATA_KEYS[1]));
    await sip.next();
    sip.send({ action: "subscribe", trades: FORTY, quotes: FORTY });
    const sipAck = await sip.nextWhere(control("subscription"));
    assert.deepEqual(sipAck[0].trades, FORTY);
    assert.deepEqual(sipAck[0].quotes, FORTY);
  } finally {
    await iex.close();
    await sip.close();
    await s.close();
  }
});
