import assert from "node:assert/strict";
import { eventually } from "@meridian/runtime/testing";
import { Snaptrade, SnaptradeAuth } from "snaptrade-typescript-sdk";
import { DEMO_ALPACA_KEY_ID, DEMO_ALPACA_SECRET, startSandbox } from "./mod.ts";
import { connectData } from "./alpaca/test_helpers.ts";
import { webhookReceiver } from "./test_support.ts";
import { hmacBase64 } from "./webhooks.ts";

const ST = { clientId: "CID", consumerKey: "CKEY" };
const PL = { clientId: "pid", secret: "psecret" };

async function post(url: string, body: unknown) {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

Deno.test("admin API is refused when the mode is off", async () => {
  const sb = await startSandbox({ mode: "off", snaptrade: ST, plaid: PL, alpaca: false });
  try {
    const res = await fetch(`${sb.url}/_admin/calls`);
    assert.equal(res.status, 403);
    assert.ok((await res.json()).error);
    const r2 = await post(`${sb.url}/_admin/connections/break`, {
      provider: "plaid",
      connection: "x",
    });
    assert.equal(r2.status, 403);
  } finally {
    await sb.close();
  }
});

Deno.test("admin API: validation, calls, holdings, webhooks, break and fix", async () => {
  const hooks = webhookReceiver();
  const sb = await startSandbox({
    mode: "test",
    snaptrade: { ...ST, webhookUrl: `${hooks.url}/webhooks/snaptrade` },
    plaid: PL,
    alpaca: { tradeIntervalMs: 60_000 },
    webhookRetryDelaysMs: [20],
  });
  try {
    const bad = await post(`${sb.url}/_admin/holdings`, { provider: "nope" });
    assert.equal(bad.status, 400);
    assert.ok(bad.body.error);
    assert.ok(Array.isArray(bad.body.issues));

    const st = new Snaptrade({
      auth: SnaptradeAuth.commercialApiKey(ST),
      basePath: `${sb.url}/snaptrade/api/v1`,
    });
    const { userId, userSecret } = (await st.authentication.registerSnapTradeUser({
      userId: "admin-user",
    })).data as { userId: string; userSecret: string };
    const login = (await st.authentication.loginSnapTradeUser({ userId, userSecret })).data as {
      redirectURI: string;
    };
    const token = new URL(login.redirectURI).searchParams.get("token")!;
    const portal = await fetch(`${sb.url}/snaptrade/portal`, {
      method: "POST",
      body: new URLSearchParams({ token, broker: "SANDBOX" }),
      redirect: "manual",
    });
    const connection = new URL(portal.headers.get("location")!).searchParams.get("connection_id")!;
    await portal.body?.cancel();
    const [acct] = (await st.accountInformation.listUserAccounts({ userId, userSecret })).data;

    // Holdings: change, add, remove.
    for (const [symbol, quantity] of [["VTI", "50.5"], ["NVDA", "3"], ["KO", "0"]]) {
      const r = await post(`${sb.url}/_admin/holdings`, {
        provider: "snaptrade",
        connection,
        symbol,
        quantity,
      });
      assert.deepEqual(r, { status: 200, body: { ok: true } });
    }
    const pos = (await st.accountInformation.getAllAccountPositions({
      userId,
      userSecret,
      accountId: acct.id,
    })).data.results;
    const units = Object.fromEntries(pos.map((p) => [p.instrument.symbol, p.units]));
    assert.equal(units.VTI, "50.5");
    assert.equal(units.NVDA, "3");
    assert.equal(units.KO, undefined);
    const spaxx = pos.find((p) => p.instrument.symbol === "SPAXX")!;
    assert.equal(spaxx.cash_equivalent, true);
    const missing = await post(`${sb.url}/_admin/holdings`, {
      provider: "snaptrade",
      connection: "00000000-0000-4000-8000-000000000000",
      symbol: "VTI",
      quantity: "1",
    });
    assert.equal(missing.status, 404);

    // Webhook now, answering the receiver's status.
    await sb.webhooks.idle(); // the connection's own webhooks first
    const fired = await post(`${sb.url}/_admin/webhooks`, {
      provider: "snaptrade",
      event_type: "ACCOUNT_HOLDINGS_UPDATED",
      connection,
    });
    assert.deepEqual(fired, { status: 200, body: { status: 200 } });
    const w = hooks.got.at(-1)!;
    assert.equal(JSON.parse(w.body).accountId, acct.id);
    assert.equal(w.headers.get("signature"), await hmacBase64(ST.consumerKey, w.body));

    // Break: data calls fail with 402 code 3003; the authorization shows disabled.
    assert.equal(
      (await post(`${sb.url}/_admin/connections/break`, { provider: "snaptrade", connection }))
        .status,
      200,
    );
    await assert.rejects(
      st.accountInformation.getUserAccountBalance({ userId, userSecret, accountId: acct.id }),
      (e: { status?: number; responseBody?: { code?: string } }) =>
        e.status === 402 && e.responseBody?.code === "3003",
    );
    const [auth] = (await st.connections.listBrokerageAuthorizations({ userId, userSecret })).data;
    assert.equal(auth.disabled, true);
    await hooks.waitFor((r) => r.body.includes('"CONNECTION_BROKEN"'));
    await post(`${sb.url}/_admin/connections/fix`, { provider: "snaptrade", connection });
    await hooks.waitFor((r) => r.body.includes('"CONNECTION_FIXED"'));
    const bal = (await st.accountInformation.getUserAccountBalance({
      userId,
      userSecret,
      accountId: acct.id,
    })).data;
    assert.equal(bal.length, 1);

    // Plaid through the admin API.
    const pt = await post(`${sb.url}/plaid/sandbox/public_token/create`, {
      ...{ client_id: PL.clientId, secret: PL.secret },
      institution_id: "ins_109509",
      initial_products: ["investments"],
      options: { webhook: `${hooks.url}/webhooks/plaid` },
    });
    const ex = await post(`${sb.url}/plaid/item/public_token/exchange`, {
      client_id: PL.clientId,
      secret: PL.secret,
      public_token: pt.body.public_token,
    });
    const item = ex.body.item_id;
    assert.equal(
      (await post(`${sb.url}/_admin/holdings`, {
        provider: "plaid",
        connection: item,
        symbol: "TSLA",
        quantity: "7",
      })).status,
      200,
    );
    await sb.webhooks.idle();
    const fw = await post(`${sb.url}/_admin/webhooks`, {
      provider: "plaid",
      connection: item,
      webhook_type: "HOLDINGS",
      webhook_code: "DEFAULT_UPDATE",
    });
    assert.deepEqual(fw.body, { status: 200 });
    const hw = JSON.parse(hooks.got.at(-1)!.body);
    assert.equal(hw.new_holdings, 1);
    assert.ok(hooks.got.at(-1)!.headers.get("plaid-verification"));
    await post(`${sb.url}/_admin/connections/break`, { provider: "plaid", connection: item });
    const broken = await post(`${sb.url}/plaid/investments/holdings/get`, {
      client_id: PL.clientId,
      secret: PL.secret,
      access_token: ex.body.access_token,
    });
    assert.equal(broken.status, 400);
    assert.equal(broken.body.error_type, "ITEM_ERROR");
    assert.equal(broken.body.error_code, "ITEM_LOGIN_REQUIRED");
    await hooks.waitFor((r) => r.body.includes('"ITEM_LOGIN_REQUIRED"'));
    await post(`${sb.url}/_admin/connections/fix`, { provider: "plaid", connection: item });
    await hooks.waitFor((r) => r.body.includes('"LOGIN_REPAIRED"'));

    // Alpaca is mounted and its admin hooks are reachable.
    const acctRes = await fetch(`${sb.url}/alpaca/v2/account`, {
      headers: { "APCA-API-KEY-ID": DEMO_ALPACA_KEY_ID, "APCA-API-SECRET-KEY": DEMO_ALPACA_SECRET },
    });
    assert.equal(acctRes.status, 200);
    await acctRes.body?.cancel();
    assert.equal(
      (await post(`${sb.url}/_admin/holdings`, {
        provider: "alpaca",
        connection: DEMO_ALPACA_KEY_ID,
        symbol: "AAPL",
        quantity: "30",
      })).status,
      200,
    );

    // The SnapTrade webhook URL can be changed at run time.
    const unset = await post(`${sb.url}/_admin/snaptrade/webhook_url`, { url: null });
    assert.deepEqual(unset.body, { ok: true });
    const none = await post(`${sb.url}/_admin/webhooks`, {
      provider: "snaptrade",
      event_type: "CONNECTION_UPDATED",
      connection,
    });
    assert.equal(none.status, 409);

    // Calls counted per route, and reset.
    const counts = await (await fetch(`${sb.url}/_admin/calls`)).json();
    assert.equal(counts.by_route["snaptrade GET /accounts/:accountId/positions/all"], 1);
    assert.equal(counts.by_route["snaptrade GET /accounts/:accountId/balances"], 2);
    assert.equal(counts.by_route["plaid POST /investments/holdings/get"], 1);
    assert.ok(counts.by_provider.alpaca >= 1);
    assert.equal(
      counts.total,
      counts.by_provider.snaptrade + counts.by_provider.plaid + counts.by_provider.alpaca,
    );
    await post(`${sb.url}/_admin/calls/reset`, {});
    assert.equal((await (await fetch(`${sb.url}/_admin/calls`)).json()).total, 0);
  } finally {
    await sb.close();
    await hooks.close();
  }
});

Deno.test("webhooks to a receiver that is down are retried, then dropped without crashing", async () => {
  const hooks = webhookReceiver(503);
  const logs: string[] = [];
  const sb = await startSandbox({
    snaptrade: { ...ST, webhookUrl: `${hooks.url}/down` },
    plaid: PL,
    alpaca: false,
    webhookRetryDelaysMs: [10, 10],
    log: (_level, msg) => logs.push(msg),
  });
  try {
    const st = new Snaptrade({
      auth: SnaptradeAuth.commercialApiKey(ST),
      basePath: `${sb.url}/snaptrade/api/v1`,
    });
    await st.authentication.registerSnapTradeUser({ userId: "someone" });
    // Signing is asynchronous: wait for all three attempts, then for the retries to settle.
    await eventually(() => hooks.got.length === 3, { what: "three delivery attempts" });
    await sb.webhooks.idle();
    assert.equal(hooks.got.length, 3);
    assert.ok(logs.includes("webhook dropped"));
  } finally {
    await sb.close();
    await hooks.close();
  }
});

Deno.test("admin API: latency slows provider requests until turned off", async () => {
  const sb = await startSandbox({ mode: "test", snaptrade: ST, plaid: PL, alpaca: false });
  try {
    for (const bad of [{ ms: -1 }, { ms: 60_001 }, { ms: "5" }, {}]) {
      const r = await post(`${sb.url}/_admin/latency`, bad);
      assert.equal(r.status, 400, JSON.stringify(bad));
      assert.ok(Array.isArray(r.body.issues));
    }
    const timed = async () => {
      const t0 = performance.now();
      const res = await fetch(`${sb.url}/plaid/institutions/get`, { method: "POST", body: "{}" });
      await res.body?.cancel();
      return performance.now() - t0;
    };
    assert.deepEqual((await post(`${sb.url}/_admin/latency`, { ms: 1_000 })).body, {
      ok: true,
      ms: 1_000,
    });
    assert.ok(await timed() >= 1_000, "a provider request waits");
    const t0 = performance.now();
    await (await fetch(`${sb.url}/_admin/calls`)).body?.cancel();
    assert.ok(performance.now() - t0 < 1_000, "the admin API does not");
    await post(`${sb.url}/_admin/latency`, { ms: 0 });
    assert.ok(await timed() < 1_000);
  } finally {
    await sb.close();
  }
});

Deno.test("admin API: the Alpaca market tick interval changes at run time", async () => {
  const sb = await startSandbox({
    mode: "test",
    snaptrade: ST,
    plaid: PL,
    alpaca: { tradeIntervalMs: 60_000 },
  });
  const c = await connectData(`${sb.url.replace("http", "ws")}/alpaca-data/v2/sip`);
  try {
    for (const bad of [{ interval_ms: 0 }, { interval_ms: 60_001 }, { interval_ms: 2.5 }, {}]) {
      const r = await post(`${sb.url}/_admin/alpaca/ticks`, bad);
      assert.equal(r.status, 400, JSON.stringify(bad));
      assert.ok(r.body.error);
      assert.ok(Array.isArray(r.body.issues));
    }
    c.send({ action: "auth", key: DEMO_ALPACA_KEY_ID, secret: DEMO_ALPACA_SECRET });
    assert.deepEqual(await c.next(), [{ T: "success", msg: "authenticated" }]);
    c.send({ action: "subscribe", trades: ["AAPL", "MSFT"] });
    assert.equal((await c.next())[0].T, "subscription");
    // At 60 s nothing ticks within the test; at 10 ms, trades flow, one per symbol per tick,
    // stamped with the time the tick started.
    const before = Date.now();
    assert.deepEqual((await post(`${sb.url}/_admin/alpaca/ticks`, { interval_ms: 10 })).body, {
      ok: true,
      interval_ms: 10,
    });
    const times = new Map<string, number[]>();
    while ((times.get("AAPL")?.length ?? 0) < 5) {
      for (const m of await c.next()) {
        if (m.T !== "t") continue;
        const t = Date.parse(m.t);
        assert.ok(t >= before - 1 && t <= Date.now(), `trade time ${m.t}`);
        times.set(m.S, [...times.get(m.S) ?? [], t]);
      }
    }
    assert.deepEqual([...times.keys()].sort(), ["AAPL", "MSFT"]);
    // Back to a slow tick: the stream goes quiet.
    await post(`${sb.url}/_admin/alpaca/ticks`, { interval_ms: 60_000 });
    await new Promise((r) => setTimeout(r, 50));
    while (c.queued) await c.next();
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(c.queued, 0);
  } finally {
    await c.close();
    await sb.close();
  }
  const none = await startSandbox({ mode: "test", snaptrade: ST, plaid: PL, alpaca: false });
  try {
    const r = await post(`${none.url}/_admin/alpaca/ticks`, { interval_ms: 5 });
    assert.equal(r.status, 404);
  } finally {
    await none.close();
  }
});
