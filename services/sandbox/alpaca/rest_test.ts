import assert from "node:assert/strict";
import { eventually } from "@meridian/runtime/testing";
import { Decimal } from "decimal.js";
import { errors, trading } from "@alpacahq/alpaca-trade-api";
import {
  DEMO_ALPACA_KEY_ID,
  DEMO_ALPACA_SECRET,
  TEST_ALPACA_KEY_ID,
  TEST_ALPACA_SECRET,
} from "./mod.ts";
import { serveAlpaca } from "./test_helpers.ts";

function apis(base: string, keyId = DEMO_ALPACA_KEY_ID, secret = DEMO_ALPACA_SECRET) {
  const cfg = new trading.Configuration({ basePath: `${base}/alpaca`, keyId, secret });
  return {
    accounts: new trading.AccountsApi(cfg),
    positions: new trading.PositionsApi(cfg),
    orders: new trading.OrdersApi(cfg),
    assets: new trading.AssetsApi(cfg),
  };
}

async function rejects<T extends Error>(
  p: Promise<unknown>,
  cls: new (...a: never[]) => T,
): Promise<T> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof cls, `expected ${cls.name}, got ${e}`);
    return e as T;
  }
  assert.fail(`expected ${cls.name}`);
}

Deno.test("the official SDK reads the demo account and positions", async () => {
  const s = await serveAlpaca();
  try {
    const api = apis(s.base);
    const acct = await api.accounts.getAccount();
    assert.equal(acct.status, "ACTIVE");
    assert.equal(acct.cash, "25000");
    assert.equal(acct.currency, "USD");
    assert.equal(typeof acct.equity, "string");
    const positions = await api.positions.getAllOpenPositions();
    const symbols = positions.map((p) => p.symbol);
    assert.deepEqual(symbols, ["AAPL", "BTCUSD", "MSFT", "NVDA", "SPY", "VOO"]);
    const btc = positions.find((p) => p.symbol === "BTCUSD")!;
    assert.equal(btc.assetClass, "crypto");
    assert.equal(btc.qty, "0.25");
    assert.equal(btc.costBasis, "13000");
    const aapl = await api.positions.getOpenPosition({ symbolOrAssetId: "AAPL" });
    assert.equal(aapl.qty, "25");
    assert.equal(aapl.avgEntryPrice, "182.4");
    // Equity is cash plus market value, exactly.
    const mv = positions.reduce((sum, p) => sum.plus(p.marketValue), new Decimal(0));
    assert.equal(new Decimal(acct.cash!).plus(mv).toFixed(), new Decimal(acct.equity!).toFixed());
    await rejects(api.positions.getOpenPosition({ symbolOrAssetId: "TSLA" }), errors.NotFoundError);
    const asset = await api.assets.getV2AssetsSymbolOrAssetId({ symbolOrAssetId: "AAPL" });
    assert.equal(asset.symbol, "AAPL");
    assert.ok((await api.assets.getV2Assets()).length > 5);
  } finally {
    await s.close();
  }
});

Deno.test("positions: crypto by slash-less symbol only, closing part of a position", async () => {
  const s = serveAlpaca();
  try {
    const api = apis(s.base);
    // Alpaca's quirk: positions know crypto as BTCUSD; BTC/USD answers 404 there.
    await rejects(
      api.positions.getOpenPosition({ symbolOrAssetId: "BTC/USD" }),
      errors.NotFoundError,
    );
    assert.equal((await api.positions.getOpenPosition({ symbolOrAssetId: "BTCUSD" })).qty, "0.25");

    const o = await api.positions.deleteOpenPosition({ symbolOrAssetId: "NVDA", percentage: 25 });
    assert.equal(o.qty, "10");
    assert.equal(o.side, "sell");
    const pos = await eventually(async () => {
      const p = await api.positions.getOpenPosition({ symbolOrAssetId: "NVDA" });
      return p.qty === "30" && p;
    }, { what: "the sale to fill" });
    // The sale keeps the average entry price.
    assert.equal(pos.avgEntryPrice, "95.5");
    assert.equal(pos.costBasis, "2865");
    await rejects(
      api.positions.deleteOpenPosition({ symbolOrAssetId: "NVDA", qty: 31 }),
      errors.PermissionError,
    );
  } finally {
    await s.close();
  }
});

Deno.test("account activities: seeded deposit and buys, fills, page tokens", async () => {
  const s = serveAlpaca();
  try {
    const cfg = new trading.Configuration({
      basePath: `${s.base}/alpaca`,
      keyId: DEMO_ALPACA_KEY_ID,
      secret: DEMO_ALPACA_SECRET,
    });
    const activities = new trading.AccountActivitiesApi(cfg);
    const pages: trading.GetAccountActivities200ResponseInner[][] = [];
    let pageToken: string | undefined;
    for (;;) {
      const page = await activities.getAccountActivities({
        direction: "asc",
        pageSize: 3,
        pageToken,
      });
      pages.push(page);
      if (page.length < 3) break;
      pageToken = page[2].id;
    }
    assert.deepEqual(pages.map((p) => p.length), [3, 3, 1]);
    const all = pages.flat();
    assert.equal(all[0].activityType, "CSD");
    // The deposit covers today's cash plus what the holdings cost.
    assert.equal(all[0].netAmount, "56776.7");
    const fills = all.slice(1);
    assert.ok(fills.every((a) => a.activityType === "FILL" && a.side === "buy"));
    assert.deepEqual(fills.map((a) => a.symbol).sort(), [
      "AAPL",
      "BTC/USD",
      "MSFT",
      "NVDA",
      "SPY",
      "VOO",
    ]);

    const orders = apis(s.base).orders;
    const o = await orders.postOrder({
      postOrderRequest: {
        symbol: "VOO",
        notional: "100",
        side: "buy",
        type: "market",
        timeInForce: "day",
      } as trading.PostOrderRequest,
    });
    const fillsNow = () => activities.getAccountActivities({ activityTypes: ["FILL"] });
    const latest = await eventually(async () => {
      const fills = await fillsNow();
      return fills[0].orderId === o.id && fills;
    }, { what: "the order's fill activity" });
    assert.equal(latest.length, 7);
    // The per-type route answers the same list.
    const byType = await activities.getAccountActivitiesByActivityType({ activityType: "FILL" });
    assert.deepEqual(byType.map((a) => a.id), latest.map((a) => a.id));
    const filled = await orders.getOrderByOrderID({ orderId: o.id! });
    assert.equal(latest[0].qty, filled.filledQty);
    assert.ok(new Decimal(latest[0].qty!).mul(latest[0].price!).lte(100));
  } finally {
    await s.close();
  }
});

Deno.test("orders: client_order_id unique, cancel, list, lookups", async () => {
  const s = await serveAlpaca();
  try {
    const api = apis(s.base);
    const req = {
      symbol: "AAPL",
      qty: "1",
      side: "buy",
      type: "limit",
      timeInForce: "day",
      limitPrice: "1.00",
      clientOrderId: "meridian-1",
    } as trading.PostOrderRequest;
    const o = await api.orders.postOrder({ postOrderRequest: req });
    assert.equal(o.clientOrderId, "meridian-1");
    assert.equal(o.status, "new");
    assert.equal(o.limitPrice, "1");

    const dup = await rejects(
      api.orders.postOrder({ postOrderRequest: req }),
      errors.ValidationError,
    );
    assert.equal(dup.status, 422);
    assert.equal(dup.code, 40010001);
    assert.equal(dup.message, "client_order_id must be unique");

    const byClient = await api.orders.getOrderByClientOrderId({ clientOrderId: "meridian-1" });
    assert.equal(byClient.id, o.id);
    assert.equal((await api.orders.getAllOrders({ status: "open" })).length, 1);

    await api.orders.deleteOrderByOrderID({ orderId: o.id! });
    const canceled = await api.orders.getOrderByOrderID({ orderId: o.id! });
    assert.equal(canceled.status, "canceled");
    const again = await rejects(
      api.orders.deleteOrderByOrderID({ orderId: o.id! }),
      errors.ValidationError,
    );
    assert.equal(again.status, 422);
    await rejects(
      api.orders.deleteOrderByOrderID({ orderId: crypto.randomUUID() }),
      errors.NotFoundError,
    );

    assert.equal((await api.orders.getAllOrders({ status: "open" })).length, 0);
    const all = await api.orders.getAllOrders({ status: "all", symbols: "AAPL,MSFT" });
    assert.deepEqual(all.map((x) => x.id), [o.id]);
    assert.equal((await api.orders.getAllOrders({ status: "closed", symbols: "MSFT" })).length, 0);

    // An omitted client_order_id is generated.
    const auto = await api.orders.postOrder({
      postOrderRequest: { ...req, clientOrderId: undefined },
    });
    assert.ok(auto.clientOrderId && auto.clientOrderId.length > 0);
    const cancelAll = await api.orders.deleteAllOrders();
    assert.deepEqual(cancelAll.map((x) => [x.id, x.status]), [[auto.id, 200]]);
  } finally {
    await s.close();
  }
});

Deno.test("a market order fills at the simulated price and moves cash and position exactly", async () => {
  const s = await serveAlpaca();
  try {
    const api = apis(s.base, TEST_ALPACA_KEY_ID, TEST_ALPACA_SECRET);
    const before = await api.accounts.getAccount();
    const o = await api.orders.postOrder({
      postOrderRequest: {
        symbol: "AAPL",
        qty: "2.5",
        side: "buy",
        type: "market",
        timeInForce: "day",
      } as trading.PostOrderRequest,
    });
    const filled = await eventually(async () => {
      const now = await api.orders.getOrderByOrderID({ orderId: o.id! });
      return now.status === "filled" && now;
    }, { what: "the order to fill" });
    assert.equal(filled.filledQty, "2.5");
    const cost = new Decimal(filled.filledAvgPrice!).mul("2.5");
    const after = await api.accounts.getAccount();
    assert.equal(new Decimal(before.cash!).minus(cost).toFixed(), after.cash);
    const pos = await api.positions.getOpenPosition({ symbolOrAssetId: "AAPL" });
    assert.equal(pos.qty, "12.5");
    assert.equal(pos.costBasis, new Decimal("2000").plus(cost).toFixed());

    // Selling more than held is refused like Alpaca (403).
    const e = await rejects(
      api.orders.postOrder({
        postOrderRequest: {
          symbol: "AAPL",
          qty: "100",
          side: "sell",
          type: "market",
          timeInForce: "day",
        } as trading.PostOrderRequest,
      }),
      errors.PermissionError,
    );
    assert.match(e.message, /insufficient qty available/);
  } finally {
    await s.close();
  }
});

Deno.test("order validation follows Alpaca's rules", async () => {
  const s = await serveAlpaca();
  try {
    const { orders } = apis(s.base);
    const base = { symbol: "AAPL", side: "buy", type: "market", timeInForce: "day" };
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ ...base, qty: "1", notional: "10" }, /only one of qty or notional/],
      [{ ...base }, /qty or notional is required/],
      [{ ...base, type: "limit", qty: "1" }, /limit_price is required/],
      [{ ...base, type: "stop", qty: "1" }, /stop_price is required/],
      [{ ...base, type: "limit", notional: "10", limitPrice: "5" }, /notional orders/],
      [{ ...base, notional: "10", timeInForce: "gtc" }, /notional orders/],
      [{ ...base, qty: "1", clientOrderId: "x".repeat(129) }, /128/],
      [{ ...base, qty: "0.5", timeInForce: "gtc" }, /fractional orders must be DAY/],
      [{ ...base, qty: "-1" }, /qty must be > 0/],
      [{ ...base, symbol: "NOPE", qty: "1" }, /not found/],
      [{ ...base, type: "limit", qty: "1", limitPrice: "10.123" }, /sub-penny/],
      [{ ...base, symbol: "BTC/USD", qty: "0.01", timeInForce: "day" }, /crypto time_in_force/],
      [{ ...base, side: "short", qty: "1" }, /invalid side/],
    ];
    for (const [body, message] of bad) {
      const e = await rejects(
        orders.postOrder({ postOrderRequest: body as unknown as trading.PostOrderRequest }),
        errors.ValidationError,
      );
      assert.equal(e.status, 422);
      assert.match(e.message, message);
    }
    const poor = await rejects(
      orders.postOrder({
        postOrderRequest: { ...base, qty: "1000" } as trading.PostOrderRequest,
      }),
      errors.PermissionError,
    );
    assert.equal(poor.message, "insufficient buying power");
    assert.equal(poor.code, 40310000);
  } finally {
    await s.close();
  }
});

Deno.test("bad keys and a broken connection are AuthErrors; fixing restores access", async () => {
  const s = await serveAlpaca();
  try {
    const wrong = apis(s.base, DEMO_ALPACA_KEY_ID, "wrong-secret");
    const e = await rejects(wrong.accounts.getAccount(), errors.AuthError);
    assert.equal(e.code, 40110000);
    assert.ok(e.requestId);
    const fresh = s.sb.admin.createAccount();
    const api = apis(s.base, fresh.key_id, fresh.secret);
    assert.equal((await api.accounts.getAccount()).id, fresh.account_id);
    s.sb.admin.breakConnection(fresh.key_id);
    await rejects(api.accounts.getAccount(), errors.AuthError);
    s.sb.admin.fixConnection(fresh.key_id);
    assert.equal((await api.accounts.getAccount()).cash, "100000");
    s.sb.admin.setHolding(fresh.key_id, "VTI", "3");
    assert.deepEqual((await api.positions.getAllOpenPositions()).map((p) => p.qty), ["3"]);
    s.sb.admin.setHolding(fresh.key_id, "VTI", "0");
    assert.equal((await api.positions.getAllOpenPositions()).length, 0);
  } finally {
    await s.close();
  }
});

Deno.test("headers, 200 requests/minute, JSON 404s, call log", async () => {
  let t = Date.UTC(2026, 0, 5, 15, 0, 10);
  const s = await serveAlpaca({ now: () => t });
  try {
    const headers = {
      "APCA-API-KEY-ID": DEMO_ALPACA_KEY_ID,
      "APCA-API-SECRET-KEY": DEMO_ALPACA_SECRET,
    };
    let r = await fetch(`${s.base}/alpaca/v2/account`, { headers });
    await r.body?.cancel();
    assert.equal(r.status, 200);
    assert.ok(r.headers.get("x-request-id"));
    assert.equal(r.headers.get("x-ratelimit-limit"), "200");
    assert.equal(r.headers.get("x-ratelimit-remaining"), "199");
    assert.equal(r.headers.get("x-ratelimit-reset"), String(Date.UTC(2026, 0, 5, 15, 1) / 1000));
    for (let i = 0; i < 199; i++) {
      r = await fetch(`${s.base}/alpaca/v2/clock`, { headers });
      await r.body?.cancel();
    }
    assert.equal(r.status, 200);
    assert.equal(r.headers.get("x-ratelimit-remaining"), "0");
    r = await fetch(`${s.base}/alpaca/v2/account`, { headers });
    assert.equal(r.status, 429);
    assert.deepEqual(await r.json(), { code: 42910000, message: "rate limit exceeded" });
    t += 60_000; // next window
    r = await fetch(`${s.base}/alpaca/v2/nothing/here`, { headers });
    assert.equal(r.status, 404);
    assert.equal((await r.json()).code, 40410000);
    r = await fetch(`${s.base}/alpaca/v2/orders`, { method: "POST", headers, body: "{nope" });
    assert.equal(r.status, 400);
    assert.equal((await r.json()).code, 40010000);
    const counts = s.calls.counts();
    assert.equal(counts.by_route["alpaca GET /v2/account"], 2);
    assert.equal(counts.by_route["alpaca GET /v2/clock"], 199);
    assert.equal(counts.by_provider.alpaca, 203);
  } finally {
    await s.close();
  }
});
