/**
 * Trading end to end over the api, the official SDKs and the sandbox brokers (reliability.md
 * §3, T1–T3 and T5): exactly one broker order per intent under 100 concurrent submissions and
 * a retried timeout; previews used once and expiring; the kill switch, the per-account rate,
 * the caps and the collar; the audit trail reconciled with the broker; and another user's ids.
 */
import assert from "node:assert/strict";
import { Kvm } from "@nats-io/kv";
import { buckets, kvKeys, LastPrice, OrderEvent, subjects } from "@meridian/proto";
import { TEST_ALPACA_KEY_ID, TEST_ALPACA_SECRET } from "../sandbox/mod.ts";
import { SyncWorker } from "../sync/worker.ts";
import { OrderDesk, OrderFollower } from "@meridian/sync/trading";
import { eventually } from "@meridian/runtime/testing";
import {
  call,
  connectAlpaca,
  connectSnaptrade,
  type Harness,
  json,
  login,
  sanitize,
  withHarness,
} from "./testing/harness.ts";
import { seedUser } from "./testing/seed.ts";

const ALPACA_HEADERS = {
  "APCA-API-KEY-ID": TEST_ALPACA_KEY_ID,
  "APCA-API-SECRET-KEY": TEST_ALPACA_SECRET,
};

/** The Alpaca sandbox account's orders, as the broker has them. */
async function brokerOrders(
  h: Harness,
): Promise<{ id: string; client_order_id: string; submitted_at: string }[]> {
  const res = await fetch(`${h.sandbox.url}/alpaca/v2/orders?status=all&limit=500`, {
    headers: ALPACA_HEADERS,
  });
  assert.equal(res.status, 200);
  return await res.json();
}

/** The sandbox's own last trade price of `symbol`, written to KV as the prices service would. */
async function publishLastPrice(h: Harness, symbol: string): Promise<string> {
  const res = await fetch(`${h.sandbox.url}/alpaca-data/v2/stocks/${symbol}/snapshot`, {
    headers: ALPACA_HEADERS,
  });
  const body = await res.json();
  const price = String(body.latestTrade?.p ?? body.dailyBar?.c);
  assert.match(price, /^\d+(\.\d+)?$/, JSON.stringify(body).slice(0, 200));
  const kv = await new Kvm(h.nats.nc).open(buckets.lastPrices.name);
  const quote: LastPrice = {
    symbol,
    price,
    previous_close: null,
    time: new Date().toISOString(),
    feed: "iex",
    delayed: false,
  };
  await kv.put(kvKeys.lastPrice(symbol), JSON.stringify(LastPrice.parse(quote)));
  return price;
}

/** Syncs one connection with the real sync code, as the sync service would. */
async function sync(h: Harness, userId: string, connectionId: string) {
  const worker = new SyncWorker(h.sync, { concurrency: 1 });
  const outcome = await worker.syncConnection(userId, connectionId, {
    requestId: crypto.randomUUID(),
    reason: "initial",
    requestedAt: new Date().toISOString(),
  });
  assert.notEqual(outcome.phase, "failed", JSON.stringify(outcome));
}

async function accountOf(h: Harness, connectionId: string): Promise<string> {
  const [a] = await h.sql<
    { id: string }[]
  >`select id from accounts where connection_id = ${connectionId}`;
  assert.ok(a, "the connection has an account");
  return a.id;
}

/**
 * A signed-in user with the sandbox's Alpaca account connected and synced, and AAPL's last
 * price in KV: what each Alpaca test starts from.
 */
async function alpacaTrader(h: Harness, email: string) {
  const user = await seedUser(h.sql, email);
  const cookie = await login(h, user.email, user.password);
  const conn = await connectAlpaca(h, cookie, {
    keyId: TEST_ALPACA_KEY_ID,
    secret: TEST_ALPACA_SECRET,
  });
  await sync(h, user.userId, conn);
  return {
    a: user,
    cookie,
    conn,
    account: await accountOf(h, conn),
    last: await publishLastPrice(h, "AAPL"),
  };
}

const market = (symbol: string, quantity = "1") => ({
  symbol,
  side: "buy",
  quantity,
  type: "market",
  time_in_force: "day",
});

async function preview(h: Harness, cookie: string, body: Record<string, unknown>) {
  const res = await call(h, "/api/orders/preview", { method: "POST", cookie, body });
  return { status: res.status, body: await json(res) };
}

async function place(h: Harness, cookie: string, previewId: string, key: string) {
  const res = await call(h, "/api/orders", {
    method: "POST",
    cookie,
    body: { preview_id: previewId },
    headers: { "idempotency-key": key },
  });
  return { status: res.status, body: await json(res), headers: res.headers };
}

Deno.test(
  "trading: one broker order per intent, whatever the concurrency, retries or a timeout",
  sanitize,
  async () => {
    await withHarness(async (h) => {
      const { a, cookie, account } = await alpacaTrader(h, "trader@example.com");
      const before = (await brokerOrders(h)).length;
      const held = async () => {
        const [p] = await h.sql<{ quantity: string; provisional: boolean }[]>`
          select quantity::text, provisional from positions
           where account_id = ${account} and symbol = 'AAPL'`;
        return p ?? { quantity: "0", provisional: false };
      };
      const heldBefore = Number((await held()).quantity);
      // Every change of the order is an event on orders.<user> (JetStream ORDERS).
      const events: string[] = [];
      h.nats.nc.subscribe(subjects.orders(a.userId), {
        callback: (_e, m) => void events.push(OrderEvent.parse(m.json()).state),
      });

      // T1: 100 identical submissions at once.
      const p = await preview(h, cookie, { ...market("AAPL"), account_id: account });
      assert.equal(p.status, 200, JSON.stringify(p.body));
      assert.equal(p.body.account_id, account);
      for (
        const k of [
          "estimated_amount",
          "commission",
          "price",
          "time_in_force",
          "risk",
          "expires_at",
        ]
      ) {
        assert.ok(p.body[k] !== undefined, `the confirmation shows ${k}`);
      }
      const key = `intent-${crypto.randomUUID()}`;
      const answers = await Promise.all(
        Array.from({ length: 100 }, () => place(h, cookie, p.body.preview_id, key)),
      );
      assert.deepEqual(answers.map((x) => x.status).sort((x, y) => x - y), [
        ...Array(99).fill(200),
        201,
      ]);
      const ids = new Set(answers.map((x) => x.body.order.id));
      assert.equal(ids.size, 1);
      const [orderId] = ids;
      assert.equal((await brokerOrders(h)).length, before + 1, "exactly one broker order");
      // The same preview under another key is not a second order.
      const other = await place(h, cookie, p.body.preview_id, `intent-${crypto.randomUUID()}`);
      assert.equal(other.status, 409);
      assert.equal(other.body.code, "preview_used");

      // The fill arrives from the broker; the follower (as the sync service runs it) records it.
      const follower = new OrderFollower(
        new OrderDesk({ sync: h.sync, lastPrice: () => Promise.resolve(null) }),
        { intervalMs: 100 },
      );
      follower.start();
      let order: { state: string; filled_quantity: string } | undefined;
      await eventually(async () => {
        order = (await json(await call(h, `/api/orders/${orderId}`, { cookie }))).order;
        return order!.state === "filled";
      }, { what: "the order to fill" });
      assert.equal(order!.filled_quantity, "1");
      await follower.stop();
      // The fill moved the position at once, provisionally, before any sync.
      assert.deepEqual(await held(), { quantity: String(heldBefore + 1), provisional: true });
      await eventually(() => events.includes("filled"), { what: "the filled event" });

      // A timeout: the broker is slower than Meridian waits. The order becomes unknown, is
      // settled by asking the broker, and a retry of the key is the same order.
      await new Promise((r) => setTimeout(r, 1100)); // one order a second per account
      const p2 = await preview(h, cookie, { ...market("AAPL"), account_id: account });
      assert.equal(p2.status, 200);
      await fetch(`${h.sandbox.url}/_admin/latency`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ ms: 1500 }),
      });
      const key2 = `intent-${crypto.randomUUID()}`;
      const slow = await place(h, cookie, p2.body.preview_id, key2);
      await fetch(`${h.sandbox.url}/_admin/latency`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ ms: 0 }),
      });
      assert.equal(slow.status, 201, JSON.stringify(slow.body));
      assert.notEqual(slow.body.order.state, "submitted");
      const retries = await Promise.all(
        Array.from({ length: 5 }, () => place(h, cookie, p2.body.preview_id, key2)),
      );
      for (const r of retries) {
        assert.equal(r.status, 200);
        assert.equal(r.body.order.id, slow.body.order.id);
      }
      const broker = await brokerOrders(h);
      assert.equal(broker.length, before + 2, "the timed-out order was not sent twice");
      assert.equal(
        broker.filter((o) => o.client_order_id === slow.body.order.id).length,
        1,
        "Alpaca's client_order_id is Meridian's order id",
      );
    }, { placeTimeoutMs: 500 });
  },
);

Deno.test(
  "trading: kill switch, rate, caps and collar; the audit reconciles",
  sanitize,
  async () => {
    await withHarness(async (h) => {
      const { a, cookie, account, last } = await alpacaTrader(h, "careful@example.com");

      // Caps and collar, refused at preview with a sentence.
      const tooBig = await preview(h, cookie, { ...market("AAPL", "100000"), account_id: account });
      assert.equal(tooBig.status, 422);
      assert.match(tooBig.body.error, /limit|buying power/);
      const far = Number(last) * 1.5;
      const collar = await preview(h, cookie, {
        ...market("AAPL"),
        type: "limit",
        limit_price: far.toFixed(2),
        account_id: account,
      });
      assert.equal(collar.status, 422);
      assert.equal(collar.body.code, "price_collar");

      // A flood of 10 orders a second on one account: at most one a second reaches the broker,
      // the rest answer 429 with Retry-After; once halted, nothing reaches the broker.
      const previews = [];
      for (let i = 0; i < 30; i++) {
        const p = await preview(h, cookie, { ...market("AAPL"), account_id: account });
        assert.equal(p.status, 200, JSON.stringify(p.body));
        previews.push(p.body.preview_id as string);
      }
      const before = (await brokerOrders(h)).length;
      const statuses: number[] = [];
      let haltedAt = 0;
      for (const [i, id] of previews.entries()) {
        if (i === 15) {
          const halt = await call(h, "/api/trading/halts", {
            method: "POST",
            cookie,
            body: { scope: "user", reason: "Stop everything, please." },
          });
          assert.equal(halt.status, 201, await halt.clone().text());
          haltedAt = Date.now();
        }
        const r = await place(h, cookie, id, `flood-${i}-${crypto.randomUUID()}`);
        statuses.push(r.status);
        if (r.status === 429) assert.ok(Number(r.headers.get("retry-after")) >= 1);
        if (i >= 15) {
          assert.equal(r.status, 403);
          assert.match(r.body.error, /halted/);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      const sent = statuses.filter((s) => s === 201).length;
      assert.ok(sent >= 1 && sent <= 2, `${sent} orders in 1.5 s`);
      assert.ok(statuses.slice(0, 15).filter((s) => s === 429).length >= 12);
      const broker = await brokerOrders(h);
      assert.equal(broker.length, before + sent);
      for (const o of broker) {
        assert.ok(
          Date.parse(o.submitted_at) <= haltedAt + 1000,
          "nothing reached the broker after the halt",
        );
      }

      // T5: every broker order has its intent, consent, actor and a UTC time in the audit trail;
      // every order Meridian sent is at the broker.
      const ours = await h.sql<{ id: string; state: string }[]>`
      select id, state from orders where user_id = ${a.userId}`;
      const brokerIds = new Set(broker.map((o) => o.client_order_id));
      for (const o of ours) {
        if (o.state !== "failed") assert.ok(brokerIds.has(o.id), `order ${o.id} is at the broker`);
      }
      for (const o of broker) {
        assert.ok(ours.some((x) => x.id === o.client_order_id), "no orphan at the broker");
        const [entry] = await h.sql<
          { actor_id: string; at: Date; detail: { consented: unknown; intent: unknown } }[]
        >`
        select actor_id, at, detail from trading_audit
         where order_id = ${o.client_order_id} and action = 'order.submitted'`;
        assert.equal(entry.actor_id, a.userId);
        assert.ok(entry.detail.intent && entry.detail.consented);
        assert.ok(entry.at instanceof Date);
      }
      await assert.rejects(() => h.sql`update trading_audit set action = 'x'`, /append-only/);
    });
  },
);

Deno.test(
  "trading: SnapTrade read-only refused, trade connection places; another user's ids are 404",
  sanitize,
  async () => {
    await withHarness(async (h) => {
      const a = await seedUser(h.sql, "st@example.com");
      const b = await seedUser(h.sql, "other@example.com");
      const cookieA = await login(h, a.email, a.password);
      const cookieB = await login(h, b.email, b.password);
      const readOnly = await connectSnaptrade(h, cookieA, { access: "read" });
      const trade = await connectSnaptrade(h, cookieA, { access: "trade", broker: "ROBINHOOD" });
      await sync(h, a.userId, readOnly);
      await sync(h, a.userId, trade);
      const readAccount = await accountOf(h, readOnly);
      const tradeAccount = await accountOf(h, trade);

      // The read-only connection's account is never offered, and says why.
      const refused = await preview(h, cookieA, { ...market("AAPL"), account_id: readAccount });
      assert.equal(refused.status, 422);
      assert.match(refused.body.ineligible[0].reason, /read-only/);

      // The ticket offers only the accounts that can trade, and says why the others cannot.
      const route = await json(
        await call(h, "/api/orders/accounts?symbol=AAPL&side=buy", { cookie: cookieA }),
      );
      const ids = (list: { account_id: string }[]) => list.map((x) => x.account_id);
      assert.ok(ids(route.eligible).includes(tradeAccount));
      assert.ok(!ids(route.eligible).includes(readAccount));
      assert.match(
        route.ineligible.find((x: { account_id: string }) => x.account_id === readAccount).reason,
        /read-only/,
      );
      const found = await json(await call(h, "/api/orders/symbols?q=AAP", { cookie: cookieA }));
      assert.ok(found.symbols.some((x: { symbol: string }) => x.symbol === "AAPL"));

      const p = await preview(h, cookieA, { ...market("AAPL"), account_id: tradeAccount });
      assert.equal(p.status, 200, JSON.stringify(p.body));
      assert.equal(p.body.provider, "snaptrade");

      // Another user's preview, order and account: not found, and nothing placed.
      assert.equal((await place(h, cookieB, p.body.preview_id, "other-user-key-1")).status, 404);
      assert.equal(
        (await preview(h, cookieB, { ...market("AAPL"), account_id: tradeAccount })).status,
        404,
      );
      const placed = await place(h, cookieA, p.body.preview_id, "snaptrade-key-0001");
      assert.equal(placed.status, 201, JSON.stringify(placed.body));
      assert.ok(["accepted", "filled"].includes(placed.body.order.state), placed.body.order.state);
      const id = placed.body.order.id;
      assert.equal((await call(h, `/api/orders/${id}`, { cookie: cookieB })).status, 404);
      assert.equal(
        (await call(h, `/api/orders/${id}`, { method: "DELETE", cookie: cookieB })).status,
        404,
      );
      assert.deepEqual((await json(await call(h, "/api/orders", { cookie: cookieB }))).orders, []);
      const mine =
        (await json(await call(h, `/api/orders?account_id=${tradeAccount}`, { cookie: cookieA })))
          .orders;
      assert.deepEqual(mine.map((o: { id: string }) => o.id), [id]);

      // The preview is used: a second placement is refused; an expired one too.
      assert.equal((await place(h, cookieA, p.body.preview_id, "snaptrade-key-0002")).status, 409);
      await new Promise((r) => setTimeout(r, 1100));
      const p2 = await preview(h, cookieA, { ...market("AAPL"), account_id: tradeAccount });
      await h.sql`update order_previews set created_at = now() - interval '6 minutes',
                  expires_at = now() - interval '1 minute' where id = ${p2.body.preview_id}`;
      const expired = await place(h, cookieA, p2.body.preview_id, "snaptrade-key-0003");
      assert.equal(expired.status, 410);
      assert.match(expired.body.error, /expired/);
    });
  },
);

Deno.test(
  "trading: the follower hears Alpaca's trade_updates (a cancel made at the broker)",
  sanitize,
  async () => {
    await withHarness(async (h) => {
      const { cookie, conn, account, last } = await alpacaTrader(h, "listener@example.com");
      const follower = new OrderFollower(
        new OrderDesk({ sync: h.sync, lastPrice: () => Promise.resolve(null) }),
        { intervalMs: 100 },
      );
      follower.start();
      try {
        // A buy limit 5 % under the price rests at the broker.
        const p = await preview(h, cookie, {
          ...market("AAPL"),
          type: "limit",
          limit_price: (Number(last) * 0.95).toFixed(2),
          account_id: account,
        });
        assert.equal(p.status, 200, JSON.stringify(p.body));
        const placed = await place(h, cookie, p.body.preview_id, `resting-${crypto.randomUUID()}`);
        assert.equal(placed.status, 201);
        assert.equal(placed.body.order.state, "accepted");
        await eventually(() => follower.streaming(conn), { what: "the trade_updates stream" });
        // The person cancels in Alpaca's own app: only the stream tells Meridian at once.
        const [broker] = (await brokerOrders(h)).filter((o) =>
          o.client_order_id === placed.body.order.id
        );
        const del = await fetch(`${h.sandbox.url}/alpaca/v2/orders/${broker.id}`, {
          method: "DELETE",
          headers: ALPACA_HEADERS,
        });
        await del.body?.cancel();
        await eventually(async () => {
          const [r] = await h.sql<{ state: string; source: string | null }[]>`
          select o.state, (select detail->>'source' from trading_audit t
                            where t.order_id = o.id and t.action = 'order.report'
                              and t.detail->>'outcome' = 'apply'
                            order by t.id desc limit 1) as source
            from orders o where o.id = ${placed.body.order.id}`;
          return r.state === "canceled" && r.source === "stream";
        }, { what: "the cancel applied from the stream" });
      } finally {
        await follower.stop();
      }
    });
  },
);
