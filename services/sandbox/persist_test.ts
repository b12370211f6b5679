import assert from "node:assert/strict";
import { eventually } from "@meridian/runtime/testing";
import { trading } from "@alpacahq/alpaca-trade-api";
import { compactVerify, decodeProtectedHeader, importJWK, type JWK } from "jose";
import { Configuration, CountryCode, PlaidApi, Products } from "plaid";
import { Snaptrade, SnaptradeAuth } from "snaptrade-typescript-sdk";
import {
  createSandboxApp,
  DEMO_ALPACA_KEY_ID,
  DEMO_ALPACA_SECRET,
  type SandboxLog,
} from "./mod.ts";
import { webhookReceiver } from "./test_support.ts";
import { sha256Hex } from "./webhooks.ts";

const ST = { clientId: "MERIDIAN-PERSIST", consumerKey: "persist-consumer-key" };
const PL = { clientId: "plaid-persist", secret: "plaid-persist-secret" };

interface Logged {
  level: string;
  msg: string;
}

/** A sandbox on real HTTP built with createSandboxApp (so the test reaches the Alpaca admin). */
async function boot(statePath: string, extra: { publicUrl?: string; logs?: Logged[] } = {}) {
  const log: SandboxLog = (level, msg) => extra.logs?.push({ level, msg });
  const sb = await createSandboxApp({
    baseUrl: "http://127.0.0.1",
    statePath,
    publicUrl: extra.publicUrl,
    snaptrade: ST,
    plaid: PL,
    alpaca: { tradeIntervalMs: 50 },
    log,
    webhookRetryDelaysMs: [20],
  });
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, sb.app.fetch);
  const url = `http://127.0.0.1:${server.addr.port}`;
  sb.setBaseUrl(url);
  return {
    sb,
    url,
    async close() {
      await sb.close();
      await server.shutdown();
      await sb.save();
    },
  };
}

function snaptrade(url: string) {
  return new Snaptrade({
    auth: SnaptradeAuth.commercialApiKey(ST),
    basePath: `${url}/snaptrade/api/v1`,
  });
}

function plaid(url: string) {
  return new PlaidApi(
    new Configuration({
      basePath: `${url}/plaid`,
      baseOptions: { headers: { "PLAID-CLIENT-ID": PL.clientId, "PLAID-SECRET": PL.secret } },
    }),
  );
}

function alpaca(url: string, keyId: string, secret: string) {
  const cfg = new trading.Configuration({ basePath: `${url}/alpaca`, keyId, secret });
  return {
    accounts: new trading.AccountsApi(cfg),
    positions: new trading.PositionsApi(cfg),
    orders: new trading.OrdersApi(cfg),
  };
}

async function alpacaRaw(url: string, path: string, keyId: string, secret: string) {
  const res = await fetch(`${url}/alpaca${path}`, {
    headers: { "APCA-API-KEY-ID": keyId, "APCA-API-SECRET-KEY": secret },
  });
  assert.equal(res.status, 200, path);
  return await res.json();
}

async function portal(redirectURI: string, broker: string): Promise<URLSearchParams> {
  const page = await fetch(redirectURI);
  assert.equal(page.status, 200);
  await page.body?.cancel();
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

// deno-lint-ignore no-explicit-any
const noRequestId = (v: any) => {
  const { request_id: _, ...rest } = v;
  return rest;
};

Deno.test("persistence: SnapTrade, Plaid and Alpaca state and the Plaid signing key survive a restart", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sandbox-state-" });
  const statePath = `${dir}/nested/state.json`;
  const hooks = webhookReceiver();
  let s = await boot(statePath);
  try {
    // ---- SnapTrade: user, trade connection, a filled order, an open trade impact.
    let st = snaptrade(s.url);
    const { userId, userSecret } = (await st.authentication.registerSnapTradeUser({
      userId: "persisted-user",
    })).data as { userId: string; userSecret: string };
    const login = (await st.authentication.loginSnapTradeUser({
      userId,
      userSecret,
      connectionType: "trade",
    })).data as { redirectURI: string };
    const done = await portal(login.redirectURI, "ROBINHOOD");
    assert.equal(done.get("status"), "SUCCESS");
    const authId = done.get("connection_id")!;
    const [acct] = (await st.accountInformation.listUserAccounts({ userId, userSecret })).data;
    const aapl = (await st.referenceData.symbolSearchUserAccount({
      userId,
      userSecret,
      accountId: acct.id,
      substring: "AAPL",
    })).data[0];
    const impact = async (units: number) =>
      (await st.trading.getOrderImpact({
        userId,
        userSecret,
        account_id: acct.id,
        action: "BUY",
        universal_symbol_id: aapl.id,
        order_type: "Market",
        time_in_force: "Day",
        units,
      })).data.trade!.id!;
    const placed = (await st.trading.placeOrder({ userId, userSecret, tradeId: await impact(2) }))
      .data;
    assert.equal(placed.status, "ACCEPTED");
    await eventually(async () =>
      (await st.accountInformation.getUserAccountOrders({
        userId,
        userSecret,
        accountId: acct.id,
      })).data[0].status === "EXECUTED", { what: "the SnapTrade order to execute" });
    const pendingTrade = await impact(1); // placed after the restart
    // A second connection, then broken: disabled authorizations persist too.
    const login2 = (await st.authentication.loginSnapTradeUser({ userId, userSecret })).data as {
      redirectURI: string;
    };
    const brokenId = (await portal(login2.redirectURI, "QUESTRADE")).get("connection_id")!;
    const brk = await fetch(`${s.url}/_admin/connections/break`, {
      method: "POST",
      body: JSON.stringify({ provider: "snaptrade", connection: brokenId }),
    });
    assert.equal(brk.status, 200);
    await brk.body?.cancel();
    // An admin holding with an exact decimal.
    const hold = await fetch(`${s.url}/_admin/holdings`, {
      method: "POST",
      body: JSON.stringify({
        provider: "snaptrade",
        connection: authId,
        symbol: "NVDA",
        quantity: "12.345678901",
      }),
    });
    assert.equal(hold.status, 200);
    await hold.body?.cancel();

    const snapRead = async () => ({
      accounts: (await st.accountInformation.listUserAccounts({ userId, userSecret })).data,
      auths: (await st.connections.listBrokerageAuthorizations({ userId, userSecret })).data,
      positions: (await st.accountInformation.getAllAccountPositions({
        userId,
        userSecret,
        accountId: acct.id,
      })).data.results,
      balances: (await st.accountInformation.getUserAccountBalance({
        userId,
        userSecret,
        accountId: acct.id,
      })).data,
      activities: (await st.accountInformation.getAccountActivities({
        userId,
        userSecret,
        accountId: acct.id,
      })).data,
      orders: (await st.accountInformation.getUserAccountOrders({
        userId,
        userSecret,
        accountId: acct.id,
        state: "all",
      })).data,
    });
    const snapBefore = await snapRead();
    assert.ok(
      JSON.stringify(snapBefore.positions).includes('"12.345678901"'),
      "admin holding visible as an exact decimal string",
    );

    // ---- Plaid: an item through /sandbox/public_token/create + exchange, with a webhook URL.
    let pl = plaid(s.url);
    const { public_token } = (await pl.sandboxPublicTokenCreate({
      institution_id: "ins_109508",
      initial_products: [Products.Investments],
      options: { webhook: `${hooks.url}/plaid` },
    })).data;
    const { access_token, item_id } = (await pl.itemPublicTokenExchange({ public_token })).data;
    const plaidHold = await fetch(`${s.url}/_admin/holdings`, {
      method: "POST",
      body: JSON.stringify({
        provider: "plaid",
        connection: item_id,
        symbol: "KO",
        quantity: "7.125",
      }),
    });
    assert.equal(plaidHold.status, 200);
    await plaidHold.body?.cancel();
    const plaidRead = async () => ({
      holdings: noRequestId((await pl.investmentsHoldingsGet({ access_token })).data),
      item: noRequestId((await pl.itemGet({ access_token })).data),
      txns: noRequestId(
        (await pl.investmentsTransactionsGet({
          access_token,
          start_date: "2025-01-01",
          end_date: "2026-12-31",
        })).data,
      ),
    });
    const plaidBefore = await plaidRead();
    assert.equal(plaidBefore.item.item.webhook, `${hooks.url}/plaid`);
    await pl.sandboxItemFireWebhook({
      access_token,
      webhook_type: "HOLDINGS" as never,
      webhook_code: "DEFAULT_UPDATE" as never,
    });
    const hook = await hooks.waitFor((r) => r.path === "/plaid");
    const jwt = hook.headers.get("plaid-verification")!;
    const { kid } = decodeProtectedHeader(jwt);

    // ---- Alpaca: a created account with an order, and an admin holding on the demo account.
    const created = s.sb.alpaca!.admin.createAccount();
    let ap = alpaca(s.url, created.key_id, created.secret);
    const order = await ap.orders.postOrder({
      postOrderRequest: {
        symbol: "AAPL",
        qty: "3.5",
        side: "buy",
        type: "market",
        timeInForce: "day",
      },
    });
    await eventually(
      async () => (await ap.orders.getOrderByOrderID({ orderId: order.id! })).status === "filled",
      { what: "the order to fill" },
    );
    s.sb.alpaca!.admin.setHolding(DEMO_ALPACA_KEY_ID, "MSFT", "13.75");
    const alpacaRead = async () => ({
      account: await alpacaRaw(s.url, "/v2/account", created.key_id, created.secret),
      positions: await alpacaRaw(s.url, "/v2/positions", created.key_id, created.secret),
      orders: await alpacaRaw(s.url, "/v2/orders?status=all", created.key_id, created.secret),
      activities: await alpacaRaw(
        s.url,
        "/v2/account/activities",
        created.key_id,
        created.secret,
      ),
      demo: await alpacaRaw(s.url, "/v2/positions", DEMO_ALPACA_KEY_ID, DEMO_ALPACA_SECRET),
    });
    const alpacaBefore = await alpacaRead();
    assert.equal(alpacaBefore.orders[0].status, "filled");
    assert.equal(alpacaBefore.positions[0].qty, "3.5");

    await s.close();
    const saved = JSON.parse(await Deno.readTextFile(statePath));
    assert.equal(saved.version, 1);

    // ---- Restart on the same file: same secrets, tokens and keys give the same data.
    s = await boot(statePath);
    st = snaptrade(s.url);
    pl = plaid(s.url);
    ap = alpaca(s.url, created.key_id, created.secret);
    const snapAfter = await snapRead();
    assert.deepEqual(snapAfter, snapBefore);
    assert.equal(snapAfter.auths.find((a) => a.id === brokenId)?.disabled, true);
    const late = (await st.trading.placeOrder({ userId, userSecret, tradeId: pendingTrade })).data;
    assert.equal(late.status, "ACCEPTED");
    assert.deepEqual(await plaidRead(), plaidBefore);
    assert.deepEqual(await alpacaRead(), alpacaBefore);
    assert.equal((await ap.accounts.getAccount()).cash, alpacaBefore.account.cash);

    // The webhook signed before the restart verifies against the key served after it.
    const { key } = (await pl.webhookVerificationKeyGet({ key_id: kid! })).data;
    assert.equal(key.expired_at, null);
    const pub = await importJWK(key as unknown as JWK, "ES256");
    const { payload } = await compactVerify(jwt, pub);
    const claims = JSON.parse(new TextDecoder().decode(payload));
    assert.equal(claims.request_body_sha256, await sha256Hex(hook.body));
  } finally {
    await s.close();
    await hooks.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("persistence: a SnapTrade order accepted before a restart executes after it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sandbox-state-" });
  const statePath = `${dir}/state.json`;
  let s = await boot(statePath);
  try {
    let st = snaptrade(s.url);
    const user = (await st.authentication.registerSnapTradeUser({ userId: "restarting" }))
      .data as { userId: string; userSecret: string };
    const login = (await st.authentication.loginSnapTradeUser({
      ...user,
      connectionType: "trade",
    })).data as { redirectURI: string };
    assert.equal((await portal(login.redirectURI, "ROBINHOOD")).get("status"), "SUCCESS");
    const [acct] = (await st.accountInformation.listUserAccounts(user)).data;
    const units = async () =>
      (await st.accountInformation.getAllAccountPositions({ ...user, accountId: acct.id })).data
        .results.find((p) => p.instrument.symbol === "AAPL")!.units;
    const orderId = (await st.trading.placeForceOrder({
      ...user,
      account_id: acct.id,
      action: "BUY",
      symbol: "AAPL",
      order_type: "Market",
      time_in_force: "Day",
      units: 1,
    })).data.brokerage_order_id!;
    // Closed before it executes: saved as accepted, with nothing filled.
    await s.close();
    const saved = JSON.parse(await Deno.readTextFile(statePath));
    const [order] = saved.snaptrade.accounts[0].orders;
    assert.equal(order.record.status, "ACCEPTED");
    assert.equal(order.record.brokerage_order_id, orderId);
    assert.ok(order.fill);

    s = await boot(statePath);
    st = snaptrade(s.url);
    await eventually(
      async () =>
        (await st.accountInformation.getUserAccountOrders({ ...user, accountId: acct.id })).data[0]
          .status === "EXECUTED",
      { what: "the order to execute after the restart" },
    );
    assert.equal(await units(), "38.204");
  } finally {
    await s.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("persistence: a corrupt state file is set aside with a warning; the sandbox starts fresh", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sandbox-state-" });
  const statePath = `${dir}/state.json`;
  try {
    for (const junk of ["{not json", JSON.stringify({ version: 1, snaptrade: {} })]) {
      await Deno.writeTextFile(statePath, junk);
      const logs: Logged[] = [];
      const s = await boot(statePath, { logs });
      try {
        assert.ok(
          logs.some((l) => l.level === "warn" && /corrupt/.test(l.msg)),
          JSON.stringify(logs),
        );
        assert.equal(await Deno.readTextFile(`${statePath}.corrupt`), junk);
        // Fresh: the demo Alpaca account is there, no SnapTrade users.
        const pos = await alpacaRaw(s.url, "/v2/positions", DEMO_ALPACA_KEY_ID, DEMO_ALPACA_SECRET);
        assert.ok(pos.length > 0);
        const reg = await snaptrade(s.url).authentication.registerSnapTradeUser({ userId: "u" });
        assert.equal(reg.status, 200);
      } finally {
        await s.close();
      }
      // ...and its new state replaced the corrupt file.
      assert.equal(JSON.parse(await Deno.readTextFile(statePath)).version, 1);
    }
    // A saved state whose inner data is wrong (unknown brokerage) also starts fresh.
    const good = JSON.parse(await Deno.readTextFile(statePath));
    good.snaptrade.authorizations.push({ id: "x", brokerage: "NOPE" });
    await Deno.writeTextFile(statePath, JSON.stringify(good));
    const logs: Logged[] = [];
    const s = await boot(statePath, { logs });
    await s.close();
    assert.ok(logs.some((l) => l.level === "warn" && /corrupt/.test(l.msg)));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("persistence: portal and Hosted Link URLs use the public URL; API traffic does not need it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sandbox-state-" });
  const s = await boot(`${dir}/state.json`, { publicUrl: "http://127.0.0.1:8082/" });
  try {
    const st = snaptrade(s.url);
    const { userId, userSecret } = (await st.authentication.registerSnapTradeUser({
      userId: "browser-user",
    })).data as { userId: string; userSecret: string };
    const { redirectURI } = (await st.authentication.loginSnapTradeUser({ userId, userSecret }))
      .data as { redirectURI: string };
    assert.ok(redirectURI.startsWith("http://127.0.0.1:8082/snaptrade/portal?token="), redirectURI);
    const link = (await plaid(s.url).linkTokenCreate({
      user: { client_user_id: "browser-user" },
      client_name: "Meridian",
      products: [Products.Investments],
      country_codes: [CountryCode.Us],
      language: "en",
      hosted_link: {},
    })).data;
    assert.equal(link.hosted_link_url, `http://127.0.0.1:8082/plaid/link/${link.link_token}`);
    // The same paths work on the sandbox's own address.
    const page = await fetch(redirectURI.replace("http://127.0.0.1:8082", s.url));
    assert.equal(page.status, 200);
    await page.body?.cancel();
  } finally {
    await s.close();
    await Deno.remove(dir, { recursive: true });
  }
});
