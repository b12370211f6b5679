import assert from "node:assert/strict";
import { compactVerify, decodeProtectedHeader, importJWK } from "jose";
import {
  Configuration,
  CountryCode,
  type InvestmentsHoldingsGetResponse,
  type InvestmentsTransactionsGetResponse,
  PlaidApi,
  Products,
} from "plaid";
import { startSandbox } from "../mod.ts";
import { webhookReceiver } from "../test_support.ts";
import { sha256Hex } from "../webhooks.ts";

const CLIENT_ID = "plaid-test-client";
const SECRET = "plaid-test-secret";

function client(url: string, secret = SECRET) {
  return new PlaidApi(
    new Configuration({
      basePath: `${url}/plaid`,
      baseOptions: { headers: { "PLAID-CLIENT-ID": CLIENT_ID, "PLAID-SECRET": secret } },
    }),
  );
}

async function sandbox(now?: () => number) {
  return await startSandbox({
    snaptrade: { clientId: "c", consumerKey: "k" },
    plaid: { clientId: CLIENT_ID, secret: SECRET, itemRateLimitPerMinute: 5 },
    alpaca: false,
    now,
    webhookRetryDelaysMs: [50],
  });
}

Deno.test("Plaid SDK: hosted link, link/token/get, exchange, holdings, transactions, balances", async () => {
  const hooks = webhookReceiver();
  const sb = await sandbox();
  try {
    const plaid = client(sb.url);
    const created = (await plaid.linkTokenCreate({
      user: { client_user_id: "user-1" },
      client_name: "Meridian",
      products: [Products.Investments],
      country_codes: [CountryCode.Us],
      language: "en",
      webhook: `${hooks.url}/webhooks/plaid`,
      hosted_link: { completion_redirect_uri: "http://app.test/plaid/done" },
    })).data;
    assert.ok(created.request_id);
    assert.equal(created.hosted_link_url, `${sb.url}/plaid/link/${created.link_token}`);

    const pageRes = await fetch(created.hosted_link_url!);
    assert.equal(pageRes.status, 200);
    const html = await pageRes.text();
    assert.match(html, /First Platypus Bank/);
    assert.match(html, /Tattersall Federal Credit Union/);
    const post = await fetch(created.hosted_link_url!, {
      method: "POST",
      body: new URLSearchParams({ institution_id: "ins_109508", action: "continue" }),
      redirect: "manual",
    });
    assert.equal(post.status, 303);
    assert.equal(post.headers.get("location"), "http://app.test/plaid/done");
    await post.body?.cancel();

    const got = (await plaid.linkTokenGet({ link_token: created.link_token })).data;
    const result = got.link_sessions![0].results!.item_add_results[0];
    assert.equal(result.institution?.institution_id, "ins_109508");
    const exchanged = (await plaid.itemPublicTokenExchange({ public_token: result.public_token }))
      .data;
    assert.match(exchanged.access_token, /^access-sandbox-/);
    // A public token is exchanged once.
    await assert.rejects(
      plaid.itemPublicTokenExchange({ public_token: result.public_token }),
      (e: { response?: { data?: { error_code?: string } } }) =>
        e.response?.data?.error_code === "INVALID_PUBLIC_TOKEN",
    );
    const access_token = exchanged.access_token;

    const holdings: InvestmentsHoldingsGetResponse =
      (await plaid.investmentsHoldingsGet({ access_token })).data;
    assert.equal(holdings.accounts.length, 2);
    assert.equal(holdings.item.item_id, exchanged.item_id);
    assert.equal(holdings.item.webhook, `${hooks.url}/webhooks/plaid`);
    const brokerage = holdings.accounts.find((a) => a.name === "Plaid Brokerage")!;
    assert.equal(brokerage.balances.current, 153960.66);
    assert.equal(brokerage.mask, "5555");
    const secById = new Map(holdings.securities.map((s) => [s.security_id, s]));
    const inBrokerage = holdings.holdings.filter((h) => h.account_id === brokerage.account_id);
    const aapl = inBrokerage.find((h) => secById.get(h.security_id)?.ticker_symbol === "AAPL")!;
    assert.equal(aapl.institution_price, 228.52);
    // The security's close of the previous session differs, so a day change shows.
    const aaplSec = secById.get(aapl.security_id)!;
    assert.equal(aaplSec.close_price, 233.54);
    assert.equal(aaplSec.close_price_as_of, "2026-10-29");
    assert.equal(aapl.institution_price_as_of, "2026-10-30");
    const mm = holdings.securities.find((s) => s.ticker_symbol === "VMFXX")!;
    assert.equal(mm.is_cash_equivalent, true);
    const option = holdings.securities.find((s) => s.option_contract)!;
    assert.deepEqual(option.option_contract, {
      contract_type: "put",
      expiration_date: "2027-03-19",
      strike_price: 600,
      underlying_security_ticker: "NFLX",
    });
    const cash = inBrokerage.find((h) => secById.get(h.security_id)?.type === "cash")!;
    assert.equal(cash.quantity, 21753.96);

    const page1: InvestmentsTransactionsGetResponse = (await plaid.investmentsTransactionsGet({
      access_token,
      start_date: "2025-01-01",
      end_date: "2026-12-31",
      options: { count: 10, offset: 0 },
    })).data;
    assert.equal(page1.total_investment_transactions, 23);
    assert.equal(page1.investment_transactions.length, 10);
    const page3: InvestmentsTransactionsGetResponse = (await plaid.investmentsTransactionsGet({
      access_token,
      start_date: "2025-01-01",
      end_date: "2026-12-31",
      options: { count: 10, offset: 20 },
    })).data;
    assert.equal(page3.investment_transactions.length, 3);
    const types = new Set(
      page1.investment_transactions.concat(page3.investment_transactions)
        .map((t) => `${t.type}/${t.subtype}`),
    );
    assert.ok(types.size >= 2);

    const balances = (await plaid.accountsBalanceGet({ access_token })).data;
    assert.equal(balances.accounts.length, 2);

    // Rate limit per item and route (5 per minute in this test).
    for (let i = 0; i < 4; i++) await plaid.accountsBalanceGet({ access_token });
    await assert.rejects(
      plaid.accountsBalanceGet({ access_token }),
      (e: { response?: { status?: number; data?: { error_type?: string } } }) =>
        e.response?.status === 429 && e.response.data?.error_type === "RATE_LIMIT_EXCEEDED",
    );

    // Webhooks: ES256 JWT over the exact body, verifiable with the served key.
    await plaid.sandboxItemFireWebhook({
      access_token,
      webhook_type: "HOLDINGS" as never,
      webhook_code: "DEFAULT_UPDATE" as never,
    });
    const w = await hooks.waitFor((r) => r.body.includes('"HOLDINGS"'));
    const jwt = w.headers.get("plaid-verification")!;
    const header = decodeProtectedHeader(jwt);
    assert.equal(header.alg, "ES256");
    assert.equal(header.typ, "JWT");
    const key = (await plaid.webhookVerificationKeyGet({ key_id: header.kid! })).data.key;
    assert.equal(key.expired_at, null);
    assert.equal(key.crv, "P-256");
    const { payload } = await compactVerify(jwt, await importJWK({ ...key }, "ES256"));
    const claims = JSON.parse(new TextDecoder().decode(payload));
    assert.equal(claims.request_body_sha256, await sha256Hex(w.body));
    assert.ok(Math.abs(claims.iat - Date.now() / 1000) < 10);
    const body = JSON.parse(w.body);
    assert.equal(body.item_id, exchanged.item_id);
    assert.equal(body.webhook_code, "DEFAULT_UPDATE");
    assert.equal(body.environment, "sandbox");

    // reset_login breaks the item: data calls fail with ITEM_LOGIN_REQUIRED and ITEM ERROR fires.
    await plaid.sandboxItemResetLogin({ access_token });
    await assert.rejects(
      plaid.investmentsHoldingsGet({ access_token }),
      (e: { response?: { status?: number; data?: { error_code?: string } } }) =>
        e.response?.status === 400 && e.response.data?.error_code === "ITEM_LOGIN_REQUIRED",
    );
    const err = await hooks.waitFor((r) => r.body.includes('"ERROR"'));
    assert.equal(JSON.parse(err.body).error.error_code, "ITEM_LOGIN_REQUIRED");

    // Update mode repairs it.
    const update = (await plaid.linkTokenCreate({
      user: { client_user_id: "user-1" },
      client_name: "Meridian",
      country_codes: [CountryCode.Us],
      language: "en",
      access_token,
      hosted_link: {},
    })).data;
    const fix = await fetch(update.hosted_link_url!, {
      method: "POST",
      body: new URLSearchParams({ institution_id: "ins_109508", action: "continue" }),
    });
    assert.equal(fix.status, 200);
    await fix.body?.cancel();
    await hooks.waitFor((r) => r.body.includes('"LOGIN_REPAIRED"'));
    assert.equal((await plaid.itemGet({ access_token })).data.item.error, null);

    const counts = sb.calls.counts();
    assert.equal(counts.by_route["plaid POST /investments/holdings/get"], 2);
    assert.equal(counts.by_provider.plaid > 10, true);
  } finally {
    await sb.close();
    await hooks.close();
  }
});

Deno.test("Plaid: bad credentials answer INVALID_API_KEYS; body credentials work", async () => {
  const sb = await sandbox();
  try {
    await assert.rejects(
      client(sb.url, "wrong").sandboxPublicTokenCreate({
        institution_id: "ins_109509",
        initial_products: [Products.Investments],
      }),
      (e: { response?: { status?: number; data?: Record<string, unknown> } }) => {
        assert.equal(e.response?.status, 400);
        assert.equal(e.response?.data?.error_type, "INVALID_INPUT");
        assert.equal(e.response?.data?.error_code, "INVALID_API_KEYS");
        assert.ok(e.response?.data?.request_id);
        return true;
      },
    );
    const res = await fetch(`${sb.url}/plaid/sandbox/public_token/create`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        client_id: CLIENT_ID,
        secret: SECRET,
        institution_id: "ins_109510",
        initial_products: ["investments"],
        options: { webhook: "http://127.0.0.1:1/hook" },
      }),
    });
    assert.equal(res.status, 200);
    const { public_token, request_id } = await res.json();
    assert.ok(request_id);
    const plaid = client(sb.url);
    const { access_token } = (await plaid.itemPublicTokenExchange({ public_token })).data;
    const h = (await plaid.investmentsHoldingsGet({ access_token })).data;
    assert.equal(h.accounts[0].subtype, "401k");
    await assert.rejects(
      plaid.investmentsHoldingsGet({ access_token: "access-sandbox-nope" }),
      (e: { response?: { data?: { error_code?: string } } }) =>
        e.response?.data?.error_code === "INVALID_ACCESS_TOKEN",
    );
  } finally {
    await sb.close();
  }
});
