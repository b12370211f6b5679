import assert from "node:assert/strict";
import { Decimal } from "decimal.js";
import {
  DEMO_ALPACA_KEY_ID,
  DEMO_ALPACA_SECRET,
  TEST_ALPACA_KEY_ID,
  TEST_ALPACA_SECRET,
} from "./mod.ts";
import { serveAlpaca, WsClient } from "./test_helpers.ts";

const headers = {
  "APCA-API-KEY-ID": DEMO_ALPACA_KEY_ID,
  "APCA-API-SECRET-KEY": DEMO_ALPACA_SECRET,
  "Content-Type": "application/json",
};

async function listen(
  url: string,
  msgpack: boolean,
  key = DEMO_ALPACA_KEY_ID,
  secret = DEMO_ALPACA_SECRET,
) {
  const c = new WsClient(url, msgpack);
  await c.opened;
  c.send({ action: "authenticate", data: { key_id: key, secret_key: secret } });
  assert.deepEqual(await c.next(), {
    stream: "authorization",
    data: { status: "authorized", action: "authenticate" },
  });
  c.send({ action: "listen", data: { streams: ["trade_updates"] } });
  assert.deepEqual(await c.next(), { stream: "listening", data: { streams: ["trade_updates"] } });
  return c;
}

for (const msgpack of [false, true]) {
  Deno.test(`trade_updates (${msgpack ? "msgpack" : "JSON"}): new then fill for a market order`, async () => {
    const s = serveAlpaca({ tradeIntervalMs: 60_000 });
    const c = await listen(`${s.ws}/alpaca/stream`, msgpack);
    // Another account's listener hears nothing of this order.
    const other = await listen(
      `${s.ws}/alpaca/stream`,
      false,
      TEST_ALPACA_KEY_ID,
      TEST_ALPACA_SECRET,
    );
    try {
      const r = await fetch(`${s.base}/alpaca/v2/orders`, {
        method: "POST",
        headers,
        body: JSON.stringify({
          symbol: "MSFT",
          qty: "3",
          side: "buy",
          type: "market",
          time_in_force: "day",
          client_order_id: "stream-1",
        }),
      });
      assert.equal(r.status, 200);
      const order = await r.json();

      const created = await c.next();
      assert.equal(created.stream, "trade_updates");
      assert.equal(created.data.event, "new");
      assert.equal(created.data.order.id, order.id);
      assert.equal(created.data.order.client_order_id, "stream-1");

      const fill = await c.next();
      assert.equal(fill.data.event, "fill");
      assert.equal(fill.data.order.status, "filled");
      assert.equal(fill.data.order.filled_qty, "3");
      assert.equal(fill.data.qty, "3");
      assert.equal(fill.data.position_qty, "15");
      assert.equal(fill.data.price, fill.data.order.filled_avg_price);
      assert.ok(fill.data.timestamp);
      assert.ok(fill.data.execution_id);
      assert.deepEqual([...c.frameKinds], [msgpack ? "binary" : "text"]);

      // Cash moved by exactly qty × price.
      const acct = await (await fetch(`${s.base}/alpaca/v2/account`, { headers })).json();
      assert.equal(
        acct.cash,
        new Decimal("25000").minus(new Decimal(fill.data.price).mul(3)).toFixed(),
      );
    } finally {
      await c.close();
      await other.close();
      assert.equal(other.queued, 0);
      await s.close();
    }
  });
}

Deno.test("trade_updates: partial fills, a limit order filling on the price walk, cancel, auth", async () => {
  const s = serveAlpaca({ tradeIntervalMs: 5 });
  try {
    const bad = new WsClient(`${s.ws}/alpaca/stream`);
    await bad.opened;
    bad.send({ action: "authenticate", data: { key_id: DEMO_ALPACA_KEY_ID, secret_key: "x" } });
    assert.deepEqual(await bad.next(), {
      stream: "authorization",
      data: { status: "unauthorized", action: "authenticate" },
    });
    await bad.close();

    const c = await listen(`${s.ws}/alpaca/stream`, false, TEST_ALPACA_KEY_ID, TEST_ALPACA_SECRET);
    const h = {
      ...headers,
      "APCA-API-KEY-ID": TEST_ALPACA_KEY_ID,
      "APCA-API-SECRET-KEY": TEST_ALPACA_SECRET,
    };
    const post = async (body: Record<string, unknown>) => {
      const r = await fetch(`${s.base}/alpaca/v2/orders`, {
        method: "POST",
        headers: h,
        body: JSON.stringify(body),
      });
      assert.equal(r.status, 200);
      return await r.json();
    };
    // 100 shares or more fill in two parts.
    await post({ symbol: "KO", qty: "100", side: "buy", type: "market", time_in_force: "day" });
    const events = [(await c.next()).data, (await c.next()).data, (await c.next()).data];
    assert.deepEqual(events.map((e) => e.event), ["new", "partial_fill", "fill"]);
    assert.equal(events[1].qty, "50");
    assert.equal(events[1].order.status, "partially_filled");
    assert.equal(events[2].position_qty, "100");

    // A sell limit just above the price fills once the walk crosses it (or is canceled below).
    const price = new Decimal(events[2].price);
    const limit = price.mul("1.0005").toDecimalPlaces(2, Decimal.ROUND_UP).toFixed();
    const lim = await post({
      symbol: "KO",
      qty: "10",
      side: "sell",
      type: "limit",
      limit_price: limit,
      time_in_force: "gtc",
    });
    const resting = await post({
      symbol: "KO",
      qty: "1",
      side: "buy",
      type: "limit",
      limit_price: "1.00",
      time_in_force: "gtc",
    });
    const r = await fetch(`${s.base}/alpaca/v2/orders/${resting.id}`, {
      method: "DELETE",
      headers: h,
    });
    assert.equal(r.status, 204);
    const seen: Record<string, string[]> = { [lim.id]: [], [resting.id]: [] };
    while (!seen[lim.id].includes("fill") || !seen[resting.id].includes("canceled")) {
      const u = (await c.next()).data;
      seen[u.order.id].push(u.event);
    }
    assert.deepEqual(seen[resting.id], ["new", "canceled"]);
    assert.deepEqual(seen[lim.id], ["new", "fill"]);
    await c.close();
  } finally {
    await s.close();
  }
});
