import assert from "node:assert/strict";
import { eventually } from "@meridian/runtime/testing";
import { Snaptrade, SnaptradeAuth } from "snaptrade-typescript-sdk";
import { canonicalJson } from "../canonical_json.ts";
import { startSandbox } from "../mod.ts";
import { signedSnapTrade, webhookReceiver } from "../test_support.ts";
import { hmacBase64 } from "../webhooks.ts";
import { SIGNATURE_ERROR } from "./mod.ts";

const CLIENT_ID = "MERIDIAN-TEST";
const CONSUMER_KEY = "test-consumer-key-123";

type Client = ReturnType<typeof client>;

function client(url: string, consumerKey = CONSUMER_KEY) {
  return new Snaptrade({
    auth: SnaptradeAuth.commercialApiKey({ clientId: CLIENT_ID, consumerKey }),
    basePath: `${url}/snaptrade/api/v1`,
  });
}

async function sandbox(
  extra: { now?: () => number; rateLimitPerMinute?: number; webhookUrl?: string } = {},
) {
  return await startSandbox({
    snaptrade: {
      clientId: CLIENT_ID,
      consumerKey: CONSUMER_KEY,
      webhookUrl: extra.webhookUrl,
      rateLimitPerMinute: extra.rateLimitPerMinute,
    },
    plaid: { clientId: "p", secret: "s" },
    alpaca: false,
    now: extra.now,
    webhookRetryDelaysMs: [50],
  });
}

/** Drives the portal over plain HTTP; answers the redirect's query. */
async function connect(
  redirectURI: string,
  broker: string,
): Promise<URLSearchParams> {
  const page = await fetch(redirectURI);
  assert.equal(page.status, 200);
  const html = await page.text();
  assert.match(html, /<form method="post"/);
  const token = new URL(redirectURI).searchParams.get("token")!;
  const res = await fetch(new URL("/snaptrade/portal", redirectURI), {
    method: "POST",
    body: new URLSearchParams({ token, broker, action: "connect" }),
    redirect: "manual",
  });
  assert.equal(res.status, 303);
  await res.body?.cancel();
  return new URL(res.headers.get("location")!).searchParams;
}

Deno.test("SnapTrade SDK: register, login, portal, accounts, positions, balances, activities", async () => {
  const hooks = webhookReceiver();
  const sb = await sandbox({ webhookUrl: `${hooks.url}/webhooks/snaptrade` });
  try {
    const st = client(sb.url);
    const status = await st.apiStatus.check();
    assert.equal(status.data.online, true);

    const reg = await st.authentication.registerSnapTradeUser({ userId: "alice" });
    const { userId, userSecret } = reg.data as { userId: string; userSecret: string };
    assert.equal(userId, "alice");
    const login = await st.authentication.loginSnapTradeUser({
      userId,
      userSecret,
      broker: "QUESTRADE",
      connectionType: "read",
      customRedirect: "http://app.test/done",
    });
    const { redirectURI } = login.data as { redirectURI: string };
    assert.ok(redirectURI.startsWith(`${sb.url}/snaptrade/portal?token=`));
    const result = await connect(redirectURI, "QUESTRADE");
    assert.equal(result.get("status"), "SUCCESS");
    const connectionId = result.get("connection_id")!;
    assert.match(connectionId, /^[0-9a-f-]{36}$/);
    // The link is single-use.
    assert.equal((await (await fetch(redirectURI)).text()).includes("expired"), true);

    const auths = (await st.connections.listBrokerageAuthorizations({ userId, userSecret })).data;
    assert.equal(auths.length, 1);
    assert.equal(auths[0].id, connectionId);
    assert.equal(auths[0].type, "read");
    assert.equal(auths[0].disabled, false);
    assert.equal(auths[0].brokerage?.slug, "QUESTRADE");

    const accounts = (await st.accountInformation.listUserAccounts({ userId, userSecret })).data;
    assert.deepEqual(accounts.map((a) => a.name).sort(), [
      "Questrade Margin USD",
      "Questrade TFSA",
    ]);
    const tfsa = accounts.find((a) => a.name === "Questrade TFSA")!;
    assert.equal(tfsa.brokerage_authorization, connectionId);
    assert.equal(tfsa.number, "51234567");
    assert.deepEqual(tfsa.balance.total, { amount: 166044.67, currency: "CAD" });

    const positions = (await st.accountInformation.getUserAccountPositions({
      userId,
      userSecret,
      accountId: tfsa.id,
    })).data;
    assert.equal(positions.length, 6);
    const shop = positions.find((p) => p.symbol?.symbol?.symbol === "SHOP.TO")!;
    assert.equal(shop.units, 126);
    assert.equal(shop.price, 44.87);
    assert.equal(shop.currency?.code, "CAD");

    const all = (await st.accountInformation.getAllAccountPositions({
      userId,
      userSecret,
      accountId: tfsa.id,
    })).data;
    assert.equal(all.results.length, 6);
    assert.equal(all.results[0].instrument.symbol, "SHOP.TO");
    assert.equal(all.results[0].units, "126");
    assert.equal(all.results[0].price, "44.87");
    assert.equal(all.results[0].currency, "CAD");
    assert.ok(all.data_freshness.as_of);

    const balances = (await st.accountInformation.getUserAccountBalance({
      userId,
      userSecret,
      accountId: tfsa.id,
    })).data;
    assert.equal(balances.length, 1);
    assert.equal(balances[0].cash, 16873.85);
    assert.equal(balances[0].currency?.code, "CAD");

    const acts = (await st.accountInformation.getAccountActivities({
      userId,
      userSecret,
      accountId: tfsa.id,
    })).data;
    assert.equal(acts.pagination?.total, 13);
    assert.equal(acts.data?.length, 13);
    const first = acts.data![0];
    assert.equal(first.type, "CONTRIBUTION");
    assert.equal(first.amount, 50000);
    const buys = (await st.accountInformation.getAccountActivities({
      userId,
      userSecret,
      accountId: tfsa.id,
      type: "BUY,SELL",
      offset: 2,
      limit: 3,
    })).data;
    assert.deepEqual(buys.pagination, { offset: 2, limit: 3, total: 7 });
    assert.equal(buys.data?.length, 3);
    assert.ok(buys.data!.every((a) => a.type === "BUY" || a.type === "SELL"));
    assert.ok(buys.data!.every((a) => a.fee === 4.95));

    // IBKR: one account with 200+ positions including an option.
    const login2 = await st.authentication.loginSnapTradeUser({ userId, userSecret });
    const r2 = await connect(
      (login2.data as { redirectURI: string }).redirectURI,
      "INTERACTIVE-BROKERS",
    );
    assert.equal(new URL(`http://x/?${r2}`).searchParams.get("status"), "SUCCESS");
    const ibkr = (await st.accountInformation.listUserAccounts({ userId, userSecret })).data
      .find((a) => a.number === "U1234567")!;
    const ibPos = (await st.accountInformation.getAllAccountPositions({
      userId,
      userSecret,
      accountId: ibkr.id,
    })).data.results;
    assert.ok(ibPos.length >= 200);
    const opt = ibPos.find((p) => p.instrument.kind === "option")!;
    assert.equal(opt.instrument.strike_price, "250");
    assert.equal(opt.instrument.underlying.symbol, "AAPL");

    // Webhooks: signed with the consumer key over canonical JSON.
    const added = await hooks.waitFor((r) => r.body.includes('"CONNECTION_ADDED"'));
    const parsed = JSON.parse(added.body);
    assert.equal(parsed.brokerageAuthorizationId, connectionId);
    assert.equal(parsed.clientId, CLIENT_ID);
    assert.equal(parsed.userId, "alice");
    assert.match(parsed.eventTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$/);
    assert.equal(added.body, canonicalJson(parsed));
    assert.equal(added.headers.get("signature"), await hmacBase64(CONSUMER_KEY, added.body));
    const holdings = await hooks.waitFor((r) =>
      r.body.includes('"ACCOUNT_HOLDINGS_UPDATED"') && r.body.includes(tfsa.id)
    );
    assert.equal(JSON.parse(holdings.body).accountId, tfsa.id);

    const counts = sb.calls.counts();
    assert.equal(counts.by_route["snaptrade GET /accounts/:accountId/positions/all"], 2);
    assert.equal(counts.by_route["snaptrade POST /snapTrade/login"], 2);
  } finally {
    await sb.close();
    await hooks.close();
  }
});

Deno.test("SnapTrade: webhook with non-ASCII content is escaped and verifies", async () => {
  const hooks = webhookReceiver();
  const sb = await sandbox({ webhookUrl: `${hooks.url}/hook` });
  try {
    await client(sb.url).authentication.registerSnapTradeUser({ userId: "zoë-日本" });
    const w = await hooks.waitFor((r) => r.body.includes("USER_REGISTERED"));
    assert.ok(w.body.includes('"userId":"zo\\u00eb-\\u65e5\\u672c"'));
    assert.equal(JSON.parse(w.body).userId, "zoë-日本");
    assert.equal(w.headers.get("signature"), await hmacBase64(CONSUMER_KEY, w.body));
  } finally {
    await sb.close();
    await hooks.close();
  }
});

Deno.test("SnapTrade: a request signed with the wrong consumer key is refused 401", async () => {
  const sb = await sandbox();
  try {
    const bad = client(sb.url, "not-the-consumer-key");
    await assert.rejects(
      bad.authentication.registerSnapTradeUser({ userId: "mallory" }),
      (e: { status?: number; responseBody?: unknown }) => {
        assert.equal(e.status, 401);
        assert.deepEqual(e.responseBody, SIGNATURE_ERROR);
        return true;
      },
    );
    // The right key works, at the root mount too.
    const good = new Snaptrade({
      auth: SnaptradeAuth.commercialApiKey({ clientId: CLIENT_ID, consumerKey: CONSUMER_KEY }),
      basePath: `${sb.url}/snaptrade`,
    });
    const r = await good.authentication.registerSnapTradeUser({ userId: "bob" });
    assert.equal(r.status, 200);
    // Unknown clientId.
    const other = new Snaptrade({
      auth: SnaptradeAuth.commercialApiKey({ clientId: "NOPE", consumerKey: CONSUMER_KEY }),
      basePath: `${sb.url}/snaptrade/api/v1`,
    });
    await assert.rejects(other.authentication.registerSnapTradeUser({ userId: "x" }), {
      status: 401,
    });
    // Wrong user secret.
    await assert.rejects(
      good.accountInformation.listUserAccounts({ userId: "bob", userSecret: "wrong" }),
      (e: { status?: number; responseBody?: { code?: string } }) =>
        e.status === 401 && e.responseBody?.code === "1083",
    );
  } finally {
    await sb.close();
  }
});

Deno.test("SnapTrade: a timestamp more than 300 s away is refused", async () => {
  let offset = 0;
  const sb = await sandbox({ now: () => Date.now() + offset });
  try {
    const base = { clientId: CLIENT_ID, consumerKey: CONSUMER_KEY };
    const now = Math.round(Date.now() / 1000);
    const ok = await signedSnapTrade(sb.url, "POST", "/snapTrade/registerUser", {}, {
      ...base,
      timestamp: now,
      body: { userId: "u1" },
    });
    assert.equal(ok.status, 200);
    await ok.body?.cancel();
    const stale = await signedSnapTrade(sb.url, "POST", "/snapTrade/registerUser", {}, {
      ...base,
      timestamp: now - 301,
      body: { userId: "u2" },
    });
    assert.equal(stale.status, 401);
    assert.deepEqual(await stale.json(), SIGNATURE_ERROR);
    // The SDK's real-time timestamp is stale against a sandbox clock 10 minutes ahead.
    offset = 600_000;
    await assert.rejects(client(sb.url).authentication.registerSnapTradeUser({ userId: "u3" }), {
      status: 401,
    });
  } finally {
    await sb.close();
  }
});

Deno.test("SnapTrade: rate limit headers on every response and 429 when exceeded", async () => {
  let t = Date.now();
  const sb = await sandbox({ now: () => t, rateLimitPerMinute: 3 });
  try {
    const base = { clientId: CLIENT_ID, consumerKey: CONSUMER_KEY };
    for (let i = 0; i < 3; i++) {
      const r = await signedSnapTrade(sb.url, "POST", "/snapTrade/registerUser", {}, {
        ...base,
        timestamp: Math.round(t / 1000),
        body: { userId: `user${i}` },
      });
      assert.equal(r.status, 200);
      assert.equal(r.headers.get("x-ratelimit-limit"), "3");
      assert.equal(r.headers.get("x-ratelimit-remaining"), String(2 - i));
      assert.ok(r.headers.get("x-ratelimit-reset"));
      assert.ok(r.headers.get("x-request-id"));
      await r.body?.cancel();
      t += 10_000;
    }
    const r = await signedSnapTrade(sb.url, "GET", "/accounts", {
      userId: "user0",
      userSecret: "x",
    }, { ...base, timestamp: Math.round(t / 1000) });
    assert.equal(r.status, 429);
    assert.equal(r.headers.get("retry-after"), "30");
    assert.deepEqual(await r.json(), {
      detail: "Request was throttled. Expected available in 30 seconds.",
      status_code: 429,
      code: "0000",
    });
    t += 31_000; // the first request leaves the rolling window
    const again = await signedSnapTrade(sb.url, "POST", "/snapTrade/registerUser", {}, {
      ...base,
      timestamp: Math.round(t / 1000),
      body: { userId: "later" },
    });
    assert.equal(again.status, 200);
    assert.equal(again.headers.get("x-ratelimit-remaining"), "0");
    await again.body?.cancel();
  } finally {
    await sb.close();
  }
});

/** Registers `name`, connects `broker` with trade access; answers the user and its accounts. */
async function tradingUser(st: Client, name: string, broker = "ROBINHOOD") {
  const { userId, userSecret } = (await st.authentication.registerSnapTradeUser({
    userId: name,
  })).data as { userId: string; userSecret: string };
  const login = await st.authentication.loginSnapTradeUser({
    userId,
    userSecret,
    connectionType: "trade",
  });
  const res = await connect((login.data as { redirectURI: string }).redirectURI, broker);
  assert.equal(res.get("status"), "SUCCESS");
  const accounts = (await st.accountInformation.listUserAccounts({ userId, userSecret })).data;
  return { userId, userSecret, accounts };
}

/** The universal symbol id of `ticker` in an account. */
async function symbolId(
  st: Client,
  user: { userId: string; userSecret: string },
  accountId: string,
  ticker: string,
): Promise<string> {
  const found = (await st.referenceData.symbolSearchUserAccount({
    ...user,
    accountId,
    substring: ticker,
  })).data[0];
  assert.equal(found.symbol, ticker);
  return found.id!;
}

Deno.test("SnapTrade trading: impact, ACCEPTED then EXECUTED, placed once, expiry, read-only refused", async () => {
  const hooks = webhookReceiver();
  let offset = 0;
  const sb = await sandbox({ now: () => Date.now() + offset, webhookUrl: `${hooks.url}/h` });
  try {
    const st = client(sb.url);
    const { userId, userSecret, accounts } = await tradingUser(st, "trader");
    const user = { userId, userSecret };
    const acct = accounts[0];
    const aapl = await symbolId(st, user, acct.id, "AAPL");
    const aaplUnits = async () =>
      (await st.accountInformation.getUserAccountPositions({ ...user, accountId: acct.id })).data
        .find((p) => p.symbol?.symbol?.symbol === "AAPL")!.units;
    const orders = async (state: "all" | "open" | "executed") =>
      (await st.accountInformation.getUserAccountOrders({ ...user, accountId: acct.id, state }))
        .data;

    const impact = (await st.trading.getOrderImpact({
      ...user,
      account_id: acct.id,
      action: "BUY",
      universal_symbol_id: aapl,
      order_type: "Market",
      time_in_force: "Day",
      units: 2,
    })).data;
    const tradeId = impact.trade!.id!;
    assert.equal(impact.trade?.units, 2);
    assert.equal(impact.trade?.price, 228.52);
    assert.equal(impact.trade_impacts![0].remaining_cash, 20092.22 - 457.04);

    // A market order is accepted first: nothing filled, nothing moved yet.
    const placed = (await st.trading.placeOrder({ ...user, tradeId })).data;
    assert.equal(placed.status, "ACCEPTED");
    assert.equal(placed.total_quantity, "2");
    assert.equal(placed.open_quantity, "2");
    assert.equal(placed.filled_quantity, "0");
    assert.equal(placed.execution_price, null);
    assert.equal(placed.time_executed, null);
    const id = placed.brokerage_order_id!;
    const listed = (await orders("all")).find((o) => o.brokerage_order_id === id)!;
    assert.equal(listed.status, "ACCEPTED");
    assert.deepEqual((await orders("open")).map((o) => o.brokerage_order_id), [id]);
    assert.equal(await aaplUnits(), 37.204);

    // A trade id places once (refused before the per-account limit is asked).
    await assert.rejects(
      st.trading.placeOrder({ ...user, tradeId }),
      (e: { status?: number; responseBody?: { code?: string } }) =>
        e.status === 400 && e.responseBody?.code === "1071",
    );

    // It executes shortly after: fills, position, cash, and ACCOUNT_HOLDINGS_UPDATED.
    const before = hooks.got.length;
    const executed = await eventually(async () => {
      const o = (await orders("all")).find((o) => o.brokerage_order_id === id)!;
      return o.status === "EXECUTED" && o;
    }, { timeoutMs: 5_000, what: "the order to execute" });
    assert.equal(executed.open_quantity, "0");
    assert.equal(executed.filled_quantity, "2");
    assert.equal(executed.execution_price, "228.52");
    assert.ok(executed.time_executed);
    assert.deepEqual((await orders("open")).map((o) => o.brokerage_order_id), []);
    assert.deepEqual((await orders("executed")).map((o) => o.brokerage_order_id), [id]);
    assert.equal(await aaplUnits(), 39.204);
    const [balance] = (await st.accountInformation.getUserAccountBalance({
      ...user,
      accountId: acct.id,
    })).data;
    assert.equal(balance.cash, 19635.18);
    await hooks.waitFor((w) =>
      hooks.got.indexOf(w) >= before && w.body.includes('"ACCOUNT_HOLDINGS_UPDATED"') &&
      w.body.includes(acct.id)
    );
    // An executed order can no longer be canceled.
    await assert.rejects(
      st.trading.cancelOrder({ ...user, accountId: acct.id, brokerage_order_id: id }),
      (e: { status?: number; responseBody?: { code?: string } }) =>
        e.status === 400 && e.responseBody?.code === "1073",
    );

    // A trade id expires after five minutes.
    const second = (await st.trading.getOrderImpact({
      ...user,
      account_id: acct.id,
      action: "BUY",
      universal_symbol_id: aapl,
      order_type: "Limit",
      price: 100,
      time_in_force: "GTC",
      units: 1,
    })).data;
    offset = 301_000;
    const expired = await signedSnapTrade(sb.url, "POST", `/trade/${second.trade!.id}`, user, {
      clientId: CLIENT_ID,
      consumerKey: CONSUMER_KEY,
      timestamp: Math.round((Date.now() + offset) / 1000),
      body: {},
    });
    assert.equal(expired.status, 400);
    assert.deepEqual(await expired.json(), {
      detail: "This trade has expired; request a new trade impact",
      status_code: 400,
      code: "1072",
    });
    // Within 300 s of the SDK's timestamps, and more than a second after the first trade.
    offset = 2_000;

    // A limit order below the market rests open, never executes, and can be canceled.
    const resting = (await st.trading.placeForceOrder({
      ...user,
      account_id: acct.id,
      action: "BUY",
      universal_symbol_id: aapl,
      order_type: "Limit",
      price: 100,
      time_in_force: "GTC",
      units: 1,
    })).data;
    assert.equal(resting.status, "ACCEPTED");
    assert.equal(resting.open_quantity, "1");
    await new Promise((r) => setTimeout(r, 700)); // past the execution delay: it still rests
    const open = await orders("open");
    assert.deepEqual(open.map((o) => [o.brokerage_order_id, o.status]), [
      [resting.brokerage_order_id, "ACCEPTED"],
    ]);
    const canceled = (await st.trading.cancelOrder({
      ...user,
      accountId: acct.id,
      brokerage_order_id: resting.brokerage_order_id!,
    })).data;
    assert.equal(canceled.brokerage_order_id, resting.brokerage_order_id);
    const after = (await orders("all")).find((o) =>
      o.brokerage_order_id === resting.brokerage_order_id
    )!;
    assert.equal(after.status, "CANCELED");
    assert.equal(after.canceled_quantity, "1");
    assert.equal(await aaplUnits(), 39.204);

    // A read-only connection (to a brokerage that trades) cannot trade: 403 code 1141.
    const login2 = await st.authentication.loginSnapTradeUser({ ...user, connectionType: "read" });
    await connect((login2.data as { redirectURI: string }).redirectURI, "QUESTRADE");
    const ro = (await st.accountInformation.listUserAccounts(user)).data
      .find((a) => a.number === "51234568")!;
    const msft = await symbolId(st, user, ro.id, "MSFT");
    const readOnly = (e: { status?: number; responseBody?: { code?: string } }) =>
      e.status === 403 && e.responseBody?.code === "1141";
    const order = {
      ...user,
      account_id: ro.id,
      action: "BUY",
      universal_symbol_id: msft,
      order_type: "Market",
      time_in_force: "Day",
      units: 1,
    } as const;
    await assert.rejects(st.trading.getOrderImpact(order), readOnly);
    await assert.rejects(st.trading.placeForceOrder(order), readOnly);
  } finally {
    await sb.close();
    await hooks.close();
  }
});

Deno.test("SnapTrade trading: at most one trade a second per account (429), impacts not limited", async () => {
  const sb = await sandbox();
  try {
    const st = client(sb.url);
    const { userId, userSecret, accounts } = await tradingUser(st, "busy-trader");
    const user = { userId, userSecret };
    const rh = accounts[0];
    const login = await st.authentication.loginSnapTradeUser({ ...user, connectionType: "trade" });
    await connect((login.data as { redirectURI: string }).redirectURI, "QUESTRADE");
    const margin = (await st.accountInformation.listUserAccounts(user)).data
      .find((a) => a.number === "51234568")!;
    const impact = async (accountId: string, action: "BUY" | "SELL") =>
      (await st.trading.getOrderImpact({
        ...user,
        account_id: accountId,
        action,
        universal_symbol_id: await symbolId(st, user, accountId, "AAPL"),
        order_type: "Market",
        time_in_force: "Day",
        units: 1,
      })).data.trade!.id!;
    const first = await impact(rh.id, "BUY");
    const second = await impact(rh.id, "BUY");
    const elsewhere = await impact(margin.id, "SELL");
    // Raw requests: the SDK would sleep 5 s and retry on a 429.
    const raw = (path: string, body: unknown) =>
      signedSnapTrade(sb.url, "POST", path, user, {
        clientId: CLIENT_ID,
        consumerKey: CONSUMER_KEY,
        timestamp: Math.round(Date.now() / 1000),
        body,
      });

    assert.equal(
      (await st.trading.placeOrder({ ...user, tradeId: first })).data.status,
      "ACCEPTED",
    );
    const throttled = await raw(`/trade/${second}`, {});
    assert.equal(throttled.status, 429);
    assert.equal(throttled.headers.get("retry-after"), "1");
    assert.deepEqual(await throttled.json(), {
      detail: "Request was throttled. Expected available in 1 seconds.",
      status_code: 429,
      code: "0000",
    });
    const forced = await raw("/trade/place", {
      account_id: rh.id,
      action: "BUY",
      symbol: "AAPL",
      order_type: "Market",
      time_in_force: "Day",
      units: 1,
    });
    assert.equal(forced.status, 429);
    assert.equal((await forced.json()).code, "0000");

    // Impacts are not trades; another account has its own second.
    assert.ok(await impact(rh.id, "BUY"));
    const other = (await st.trading.placeOrder({ ...user, tradeId: elsewhere })).data;
    assert.equal(other.status, "ACCEPTED");

    // The refused trade was neither placed nor counted: it goes through once the second passed.
    const later = await eventually(async () => {
      const r = await raw(`/trade/${second}`, {});
      const body = await r.json();
      if (r.status === 429) return false;
      assert.equal(r.status, 200, JSON.stringify(body));
      return body as { status: string; total_quantity: string };
    }, { timeoutMs: 5_000, intervalMs: 100, what: "the account's next second" });
    assert.equal(later.status, "ACCEPTED");
    assert.equal(later.total_quantity, "1");
    const placed = (await st.accountInformation.getUserAccountOrders({
      ...user,
      accountId: rh.id,
      state: "all",
    })).data;
    assert.equal(placed.length, 2, "the two trades placed, none of the refused ones");
  } finally {
    await sb.close();
  }
});

Deno.test("SnapTrade: refresh queues ACCOUNT_HOLDINGS_UPDATED, cooldown 429, remove and delete", async () => {
  const hooks = webhookReceiver();
  const sb = await sandbox({ webhookUrl: `${hooks.url}/h` });
  try {
    const st = client(sb.url);
    const { userId, userSecret } = (await st.authentication.registerSnapTradeUser({
      userId: "refresher",
    })).data as { userId: string; userSecret: string };
    const login = await st.authentication.loginSnapTradeUser({ userId, userSecret });
    const r = await connect((login.data as { redirectURI: string }).redirectURI, "SANDBOX");
    const authorizationId = r.get("connection_id")!;
    await hooks.waitFor((w) => w.body.includes('"ACCOUNT_HOLDINGS_UPDATED"'));
    const before = hooks.got.length;
    const refreshed = await st.connections.refreshBrokerageAuthorization({
      userId,
      userSecret,
      authorizationId,
    });
    assert.equal(refreshed.status, 200);
    await hooks.waitFor((w) =>
      hooks.got.indexOf(w) >= before && w.body.includes('"ACCOUNT_HOLDINGS_UPDATED"')
    );
    // Raw request: the SDK would sleep through its 429 retries.
    const again = await signedSnapTrade(
      sb.url,
      "POST",
      `/authorizations/${authorizationId}/refresh`,
      { userId, userSecret },
      { clientId: CLIENT_ID, consumerKey: CONSUMER_KEY, timestamp: Math.round(Date.now() / 1000) },
    );
    assert.equal(again.status, 429);
    assert.match((await again.json()).detail, /refreshed too recently/);

    await st.connections.removeBrokerageAuthorization({ userId, userSecret, authorizationId });
    assert.equal(
      (await st.accountInformation.listUserAccounts({ userId, userSecret })).data.length,
      0,
    );
    await hooks.waitFor((w) => w.body.includes('"CONNECTION_DELETED"'));
    const del = await st.authentication.deleteSnapTradeUser({ userId });
    assert.equal(del.status, 200);
    await assert.rejects(st.accountInformation.listUserAccounts({ userId, userSecret }), {
      status: 401,
    });
  } finally {
    await sb.close();
    await hooks.close();
  }
});

Deno.test("SnapTrade portal: abandon, and reconnect repairs a broken connection", async () => {
  const hooks = webhookReceiver();
  const sb = await sandbox({ webhookUrl: `${hooks.url}/h` });
  try {
    const st = client(sb.url);
    const { userId, userSecret } = (await st.authentication.registerSnapTradeUser({
      userId: "fixer",
    })).data as { userId: string; userSecret: string };
    const loginUrl = async (extra: Record<string, string> = {}) =>
      ((await st.authentication.loginSnapTradeUser({
        userId,
        userSecret,
        customRedirect: "http://app.test/back",
        ...extra,
      })).data as { redirectURI: string }).redirectURI;

    const abandonUrl = await loginUrl();
    const abandon = await fetch(`${sb.url}/snaptrade/portal`, {
      method: "POST",
      body: new URLSearchParams({
        token: new URL(abandonUrl).searchParams.get("token")!,
        action: "abandon",
      }),
      redirect: "manual",
    });
    assert.equal(abandon.headers.get("location"), "http://app.test/back?status=ABANDONED");
    await abandon.body?.cancel();

    const added = await connect(await loginUrl({ connectionType: "trade" }), "ROBINHOOD");
    const id = added.get("connection_id")!;
    await fetch(`${sb.url}/_admin/connections/break`, {
      method: "POST",
      body: JSON.stringify({ provider: "snaptrade", connection: id }),
    }).then((r) => r.body?.cancel());
    const [acct] = (await st.accountInformation.listUserAccounts({ userId, userSecret })).data;
    await assert.rejects(
      st.accountInformation.getAllAccountPositions({ userId, userSecret, accountId: acct.id }),
      { status: 402 },
    );
    const page = await (await fetch(await loginUrl({ reconnect: id }))).text();
    assert.match(page, /Reconnect Robinhood/);
    const fixed = await connect(await loginUrl({ reconnect: id }), "ROBINHOOD");
    assert.equal(fixed.get("status"), "SUCCESS");
    assert.equal(fixed.get("connection_id"), id);
    await hooks.waitFor((w) => w.body.includes('"CONNECTION_FIXED"'));
    const pos = await st.accountInformation.getAllAccountPositions({
      userId,
      userSecret,
      accountId: acct.id,
    });
    assert.equal(pos.data.results.length, 7);
    const [auth] = (await st.connections.listBrokerageAuthorizations({ userId, userSecret })).data;
    assert.equal(auth.disabled, false);
    assert.equal(auth.type, "trade");
  } finally {
    await sb.close();
    await hooks.close();
  }
});
