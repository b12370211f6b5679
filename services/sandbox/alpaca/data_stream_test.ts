import assert from "node:assert/strict";
import {
  DEMO_ALPACA_KEY_ID,
  DEMO_ALPACA_SECRET,
  TEST_ALPACA_KEY_ID,
  TEST_ALPACA_SECRET,
} from "./mod.ts";
import { connectData as connect, control, serveAlpaca, WsClient } from "./test_helpers.ts";

const AUTH = { action: "auth", key: DEMO_ALPACA_KEY_ID, secret: DEMO_ALPACA_SECRET };

function emptyAck(over: Record<string, string[]>) {
  return [{
    T: "subscription",
    trades: [],
    quotes: [],
    bars: [],
    updatedBars: [],
    dailyBars: [],
    statuses: [],
    lulds: [],
    corrections: over.trades ?? [],
    cancelErrors: over.trades ?? [],
    ...over,
  }];
}

/** Collects data frames until `n` trades arrived; returns every data message seen. */
// deno-lint-ignore no-explicit-any
async function collectTrades(c: WsClient, n: number): Promise<any[]> {
  // deno-lint-ignore no-explicit-any
  const seen: any[] = [];
  while (seen.filter((m) => m.T === "t").length < n) {
    const frame = await c.next();
    assert.ok(Array.isArray(frame));
    for (const m of frame) {
      assert.ok(m.T === "t" || m.T === "q", `unexpected control frame ${JSON.stringify(frame)}`);
      seen.push(m);
    }
  }
  return seen;
}

for (const msgpack of [false, true]) {
  const mode = msgpack ? "msgpack" : "JSON";
  Deno.test(`data stream (${mode}): auth, subscribe ack with full set, trades, unsubscribe`, async () => {
    const s = serveAlpaca();
    const c = await connect(`${s.ws}/alpaca-data/v2/iex`, msgpack);
    try {
      c.send(AUTH);
      assert.deepEqual(await c.next(), [{ T: "success", msg: "authenticated" }]);
      c.send({ action: "subscribe", trades: ["AAPL", "msft"], quotes: ["AMD"] });
      const ack = emptyAck({ trades: ["AAPL", "MSFT"], quotes: ["AMD"] });
      assert.deepEqual(await c.next(), ack);
      // The SDK re-sends its subscriptions after authenticating: idempotent.
      c.send({ action: "subscribe", trades: ["AAPL"] });
      assert.deepEqual(await c.nextWhere(control("subscription")), ack);

      const data = await collectTrades(c, 6);
      for (const m of data) {
        if (m.T === "t") {
          assert.ok(["AAPL", "MSFT"].includes(m.S), m.S);
          assert.equal(typeof m.p, "number");
          assert.match(String(m.p), /^\d+(\.\d{1,4})?$/);
          assert.equal(typeof m.s, "number");
          assert.equal(typeof m.i, "number");
          assert.equal(m.x, "V");
          assert.deepEqual(m.c, ["@"]);
          assert.equal(m.z, "C");
          if (msgpack) assert.ok(m.t instanceof Date, "msgpack timestamp extension");
          else assert.match(m.t, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
        } else {
          assert.equal(m.S, "AMD");
          assert.ok(m.bp < m.ap);
        }
      }

      c.send({ action: "unsubscribe", trades: ["MSFT"], quotes: ["AMD"] });
      assert.deepEqual(
        await c.nextWhere(control("subscription")),
        emptyAck({ trades: ["AAPL"] }),
      );
      // After the acknowledgement only AAPL trades come.
      const later = await collectTrades(c, 3);
      for (const m of later) assert.equal(m.S, "AAPL");
      assert.deepEqual([...c.frameKinds], [msgpack ? "binary" : "text"]);
    } finally {
      await c.close();
      await s.close();
    }
  });
}

Deno.test("data stream: 405 over the symbol limit keeps existing subscriptions", async () => {
  const s = serveAlpaca({ symbolLimit: 3, tradeIntervalMs: 60_000 });
  const c = await connect(`${s.ws}/alpaca-data/v2/sip`);
  try {
    c.send(AUTH);
    await c.next();
    c.send({ action: "subscribe", trades: ["AAPL", "MSFT"], bars: ["*"] });
    assert.deepEqual(await c.next(), emptyAck({ trades: ["AAPL", "MSFT"], bars: ["*"] }));
    c.send({ action: "subscribe", quotes: ["NVDA", "TSLA"] });
    assert.deepEqual(await c.next(), [{ T: "error", code: 405, msg: "symbol limit exceeded" }]);
    // The same symbol on quotes counts once.
    c.send({ action: "subscribe", quotes: ["AAPL"] });
    assert.deepEqual(
      await c.next(),
      emptyAck({ trades: ["AAPL", "MSFT"], quotes: ["AAPL"], bars: ["*"] }),
    );
  } finally {
    await c.close();
    await s.close();
  }
});

Deno.test("data stream: 406 for a second connection with the same key", async () => {
  const s = serveAlpaca({ tradeIntervalMs: 60_000 });
  const a = await connect(`${s.ws}/alpaca-data/v2/iex`);
  try {
    a.send(AUTH);
    assert.deepEqual(await a.next(), [{ T: "success", msg: "authenticated" }]);
    const b = await connect(`${s.ws}/alpaca-data/v2/iex`);
    b.send(AUTH);
    assert.deepEqual(await b.next(), [{ T: "error", code: 406, msg: "connection limit exceeded" }]);
    await b.closed;
    // Another account is fine, and once the first closes the key may connect again.
    const other = await connect(`${s.ws}/alpaca-data/v2/iex`);
    other.send({ action: "auth", key: TEST_ALPACA_KEY_ID, secret: TEST_ALPACA_SECRET });
    assert.deepEqual(await other.next(), [{ T: "success", msg: "authenticated" }]);
    await other.close();
    await a.close();
    const again = await connect(`${s.ws}/alpaca-data/v2/iex`);
    again.send(AUTH);
    assert.deepEqual(await again.next(), [{ T: "success", msg: "authenticated" }]);
    await again.close();
  } finally {
    await a.close();
    await s.close();
  }
});

Deno.test("data stream: 401 before auth, 400 bad syntax, 403 twice, 402 bad key", async () => {
  const s = serveAlpaca({ tradeIntervalMs: 60_000 });
  const c = await connect(`${s.ws}/alpaca-data/v2/iex`);
  try {
    c.send({ action: "subscribe", trades: ["AAPL"] });
    assert.deepEqual(await c.next(), [{ T: "error", code: 401, msg: "not authenticated" }]);
    c.socket.send("{not json");
    assert.deepEqual(await c.next(), [{ T: "error", code: 400, msg: "invalid syntax" }]);
    c.send({ action: "dance" });
    assert.deepEqual(await c.next(), [{ T: "error", code: 400, msg: "invalid syntax" }]);
    c.send(AUTH);
    await c.next();
    c.send(AUTH);
    assert.deepEqual(await c.next(), [{ T: "error", code: 403, msg: "already authenticated" }]);
    c.send({ action: "subscribe", trades: "AAPL" });
    assert.deepEqual(await c.next(), [{ T: "error", code: 400, msg: "invalid syntax" }]);

    const bad = await connect(`${s.ws}/alpaca-data/v2/iex`, true);
    bad.send({ action: "auth", key: DEMO_ALPACA_KEY_ID, secret: "nope" });
    assert.deepEqual(await bad.next(), [{ T: "error", code: 402, msg: "auth failed" }]);
    await bad.closed;
  } finally {
    await c.close();
    await s.close();
  }
});

Deno.test("data stream: 404 auth timeout, header auth, test feed FAKEPACA, unknown feed", async () => {
  const s = serveAlpaca({ authTimeoutMs: 30 });
  try {
    const slow = await connect(`${s.ws}/alpaca-data/v2/iex`);
    assert.deepEqual(await slow.next(), [{ T: "error", code: 404, msg: "auth timeout" }]);
    await slow.closed;

    const c = new WsClient(`${s.ws}/alpaca-data/v2/test`, true, {
      "APCA-API-KEY-ID": DEMO_ALPACA_KEY_ID,
      "APCA-API-SECRET-KEY": DEMO_ALPACA_SECRET,
    });
    await c.opened;
    assert.deepEqual(await c.next(), [{ T: "success", msg: "connected" }]);
    assert.deepEqual(await c.next(), [{ T: "success", msg: "authenticated" }]);
    c.send({ action: "subscribe", trades: ["FAKEPACA", "AAPL"] });
    await c.nextWhere(control("subscription"));
    for (const m of await collectTrades(c, 3)) assert.equal(m.S, "FAKEPACA");
    await c.close();

    const r = await fetch(`${s.base}/alpaca-data/v2/nasdaq`);
    assert.equal(r.status, 404);
    await r.body?.cancel();
    assert.equal(s.calls.counts().by_route["alpaca GET /data/v2/:feed"], 3);
  } finally {
    await s.close();
  }
});
