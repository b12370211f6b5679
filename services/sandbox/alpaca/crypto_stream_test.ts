import assert from "node:assert/strict";
import { DEMO_ALPACA_DATA_KEYS } from "./mod.ts";
import { connectData, control, serveAlpaca } from "./test_helpers.ts";

const KEY = DEMO_ALPACA_DATA_KEYS[2];
const AUTH = { action: "auth", key: KEY.keyId, secret: KEY.secret };

for (const msgpack of [false, true]) {
  const mode = msgpack ? "msgpack" : "JSON";
  Deno.test(`crypto stream (${mode}): auth, subscribe ack, trades with tks, quotes`, async () => {
    const s = serveAlpaca();
    const c = await connectData(`${s.ws}/alpaca-data/v1beta3/crypto/us`, msgpack);
    try {
      c.send(AUTH);
      assert.deepEqual(await c.next(), [{ T: "success", msg: "authenticated" }]);
      c.send({ action: "subscribe", trades: ["BTC/USD"], quotes: ["ETH/USD"], bars: ["*"] });
      assert.deepEqual(await c.next(), [{
        T: "subscription",
        trades: ["BTC/USD"],
        quotes: ["ETH/USD"],
        orderbooks: [],
        bars: ["*"],
        updatedBars: [],
        dailyBars: [],
      }]);
      let trades = 0;
      let quotes = 0;
      while (trades < 3 || quotes < 3) {
        const frame = await c.next();
        for (const m of frame) {
          if (m.T === "t") {
            trades++;
            assert.deepEqual(Object.keys(m).sort(), ["S", "T", "i", "p", "s", "t", "tks"]);
            assert.equal(m.S, "BTC/USD");
            assert.ok(m.tks === "B" || m.tks === "S");
            assert.ok(m.p > 1000 && m.s > 0 && m.s < 1);
            if (msgpack) assert.ok(m.t instanceof Date);
            else assert.match(m.t, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
          } else {
            quotes++;
            assert.deepEqual(Object.keys(m).sort(), ["S", "T", "ap", "as", "bp", "bs", "t"]);
            assert.equal(m.S, "ETH/USD");
            assert.ok(m.bp < m.ap);
          }
        }
      }
      // "*" on trades is every crypto pair, never a stock.
      c.send({ action: "unsubscribe", trades: ["BTC/USD"], quotes: ["ETH/USD"] });
      await c.nextWhere(control("subscription"));
      c.send({ action: "subscribe", trades: ["*"] });
      await c.nextWhere(control("subscription"));
      const seen = new Set<string>();
      while (seen.size < 2) {
        for (const m of await c.next()) if (m.T === "t") seen.add(m.S);
      }
      assert.deepEqual([...seen].sort(), ["BTC/USD", "ETH/USD"]);
    } finally {
      await c.close();
      await s.close();
    }
  });
}

Deno.test("crypto stream: trades while the stock market is closed; one connection per key", async () => {
  const s = serveAlpaca();
  const c = await connectData(`${s.ws}/alpaca-data/v1beta3/crypto/us`);
  try {
    s.sb.admin.setMarketOpen(false);
    c.send(AUTH);
    await c.next();
    // The same key may hold one stock and one crypto connection.
    const stocks = await connectData(`${s.ws}/alpaca-data/v2/iex`);
    stocks.send(AUTH);
    assert.deepEqual(await stocks.next(), [{ T: "success", msg: "authenticated" }]);
    await stocks.close();
    const twice = await connectData(`${s.ws}/alpaca-data/v1beta3/crypto/us`);
    twice.send(AUTH);
    assert.deepEqual(await twice.next(), [
      { T: "error", code: 406, msg: "connection limit exceeded" },
    ]);
    await twice.closed;

    c.send({ action: "subscribe", trades: ["BTC/USD"] });
    await c.nextWhere(control("subscription"));
    const frame = await c.next();
    assert.equal(frame[0].S, "BTC/USD");

    const r = await fetch(`${s.base}/alpaca-data/v1beta3/crypto/eu-9`);
    assert.equal(r.status, 404);
    await r.body?.cancel();
    assert.equal(s.calls.counts().by_route["alpaca GET /data/v1beta3/crypto/:loc"], 3);
  } finally {
    await c.close();
    await s.close();
  }
});
