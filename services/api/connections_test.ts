/**
 * The connection routes over the real flows (`@meridian/sync/connections`, official SDKs)
 * against the sandbox over HTTP: SnapTrade portal and callback, Plaid Hosted Link and its
 * callback, Alpaca keys, reconnect and removal, and another user's ids.
 */
import assert from "node:assert/strict";
import { TEST_ALPACA_KEY_ID, TEST_ALPACA_SECRET } from "../sandbox/mod.ts";
import { submitHostedForm } from "../sandbox/html_form.ts";
import { createLogger } from "@meridian/runtime";
import { connectionsPort } from "./connections.ts";
import { ApiError } from "./http.ts";
import { call, login, startHarness } from "./testing/harness.ts";
import { seedUser } from "./testing/seed.ts";

Deno.test({
  name: "connections through the real flows and the sandbox",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const h = await startHarness();
    const sandbox = h.sandbox;
    try {
      const a = await seedUser(h.sql, "a@example.com");
      const b = await seedUser(h.sql, "b@example.com");
      const cookie = await login(h, a.email, a.password);
      const cookieB = await login(h, b.email, b.password);

      // SnapTrade: portal URL, the portal's form, our callback, a new connection.
      const portal = await call(h, "/api/connections/snaptrade/portal", {
        method: "POST",
        cookie,
        body: { access: "read" },
      });
      assert.equal(portal.status, 200);
      const { url } = await portal.json();
      assert.ok(url.startsWith(`${sandbox.url}/snaptrade/portal`));
      const back = new URL(await submitHostedForm(url, { broker: "QUESTRADE" }));
      assert.equal(back.pathname, "/api/connections/snaptrade/callback");
      assert.equal(back.searchParams.get("status"), "SUCCESS");
      // The callback is someone else's in B's browser: nothing is recorded for B.
      const stolen = await call(h, back.pathname + back.search, { cookie: cookieB });
      assert.equal(stolen.status, 303);
      assert.match(stolen.headers.get("location")!, /^\/connections\?error=/);
      const done = await call(h, back.pathname + back.search, { cookie });
      assert.equal(done.status, 303);
      assert.match(done.headers.get("location")!, /^\/\?connected=snaptrade&connection=/);
      const snapId = new URL(done.headers.get("location")!, "http://x").searchParams.get(
        "connection",
      )!;
      const conn = await (await call(h, `/api/connections/${snapId}`, { cookie })).json();
      assert.equal(conn.provider, "snaptrade");
      assert.equal(conn.institution.length > 0, true);
      assert.equal((await call(h, `/api/connections/${snapId}`, { cookie: cookieB })).status, 404);

      // Reconnect gives a portal URL in reconnect mode.
      const rc = await (await call(h, `/api/connections/${snapId}/reconnect`, {
        method: "POST",
        cookie,
      })).json();
      assert.equal(rc.provider, "snaptrade");
      assert.ok(rc.url.startsWith(`${sandbox.url}/snaptrade/portal`));

      // Plaid: Hosted Link, its form, our callback completes from the remembered session.
      const link = await (await call(h, "/api/connections/plaid/link-token", {
        method: "POST",
        cookie,
      })).json();
      assert.ok(link.hosted_link_url.startsWith(`${sandbox.url}/plaid/link/`));
      const plaidBack = new URL(await submitHostedForm(link.hosted_link_url));
      assert.equal(plaidBack.pathname, "/api/connections/plaid/callback");
      // A crafted callback carrying A's link token does nothing for B.
      const crafted = await call(
        h,
        `${plaidBack.pathname}?link_token=${encodeURIComponent(link.link_token)}`,
        { cookie: cookieB },
      );
      assert.match(crafted.headers.get("location")!, /^\/connections\?error=/);
      // Nor does posting A's link token (it is in the Hosted Link URL) to the exchange: a link
      // token is bound to the user it was issued to.
      const countB = async () =>
        (await h.sql`select count(*)::int as n from connections where user_id = ${b.userId}`)[0].n;
      const beforeB = await countB();
      const takeover = await call(h, "/api/connections/plaid/exchange", {
        method: "POST",
        cookie: cookieB,
        body: { link_token: link.link_token },
      });
      assert.equal(takeover.status, 404, await takeover.text());
      assert.equal(await countB(), beforeB);
      const plaidDone = await call(h, plaidBack.pathname + plaidBack.search, { cookie });
      assert.equal(plaidDone.status, 303, await plaidDone.text());
      assert.match(plaidDone.headers.get("location")!, /^\/\?connected=plaid/);

      // The session is kept in PostgreSQL: another api instance completes it, once, and not
      // after the link token's four hours.
      const other = await connectionsPort({
        sql: h.sql,
        nc: h.nats.nc,
        config: h.config,
        log: createLogger("api-2", "error"),
      });
      const link2 = await (await call(h, "/api/connections/plaid/link-token", {
        method: "POST",
        cookie,
      })).json();
      await submitHostedForm(link2.hosted_link_url);
      const elsewhere = await other.plaidComplete(a.userId, {});
      assert.ok(elsewhere.connectionId);
      await assert.rejects(other.plaidComplete(a.userId, {}), (e: ApiError) => e.status === 400);
      const link3 = await (await call(h, "/api/connections/plaid/link-token", {
        method: "POST",
        cookie,
      })).json();
      await submitHostedForm(link3.hosted_link_url);
      await h.sql`update plaid_link_sessions set created_at = now() - interval '4 hours 1 minute'
        where user_id = ${a.userId}`;
      await assert.rejects(other.plaidComplete(a.userId, {}), /expired/);

      // Alpaca: good keys connect, bad keys are refused with 422 and nothing stored.
      const alpaca = await call(h, "/api/connections/alpaca", {
        method: "POST",
        cookie,
        body: { key_id: TEST_ALPACA_KEY_ID, secret_key: TEST_ALPACA_SECRET, paper: true },
      });
      assert.equal(alpaca.status, 201, await alpaca.clone().text());
      const bad = await call(h, "/api/connections/alpaca", {
        method: "POST",
        cookie,
        body: { key_id: "PKWRONG000000000000", secret_key: "wrong-secret-000000", paper: true },
      });
      assert.equal(bad.status, 422);
      const list = await (await call(h, "/api/connections", { cookie })).json();
      const providers = list.connections.map((c: { provider: string }) => c.provider).sort();
      assert.deepEqual(providers, [
        "alpaca",
        "plaid",
        "plaid",
        "plaid",
        "snaptrade",
        "snaptrade",
      ]);
      assert.doesNotMatch(JSON.stringify(list), new RegExp(TEST_ALPACA_SECRET));
      const listB = await (await call(h, "/api/connections", { cookie: cookieB })).json();
      assert.deepEqual(
        listB.connections.map((c: { provider: string }) => c.provider).sort(),
        ["plaid", "snaptrade"], // B's seeded ones only
      );

      // B cannot remove A's connection; A can.
      assert.equal(
        (await call(h, `/api/connections/${snapId}`, { method: "DELETE", cookie: cookieB })).status,
        404,
      );
      assert.equal(
        (await call(h, `/api/connections/${snapId}`, { method: "DELETE", cookie })).status,
        204,
      );
      assert.equal((await call(h, `/api/connections/${snapId}`, { cookie })).status, 404);
    } finally {
      await h.close();
    }
  },
});
