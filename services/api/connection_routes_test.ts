/** The connection routes end to end: list, portal, callback, Plaid, Alpaca, reconnect, remove. */
import assert from "node:assert/strict";
import {
  DEMO_ALPACA_KEY_ID,
  DEMO_ALPACA_SECRET,
  TEST_ALPACA_KEY_ID,
  TEST_ALPACA_SECRET,
} from "../sandbox/mod.ts";
import { submitHostedForm } from "../sandbox/html_form.ts";
import { call, json, login, plaidPublicToken, sanitize, withHarness } from "./testing/harness.ts";
import { seedUser } from "./testing/seed.ts";

Deno.test(
  "connections: list, portal, callback, plaid, alpaca, reconnect, remove",
  sanitize,
  async () => {
    await withHarness(async (h) => {
      const a = await seedUser(h.sql, "a@example.com");
      const cookie = await login(h, a.email, a.password);
      const stored = async () =>
        (await h.sql`select 1 from connections where user_id = ${a.userId}`).length;
      const list = await json(await call(h, "/api/connections", { cookie }));
      assert.equal(list.connections.length, 2);
      assert.equal(list.connections[0].accounts, 1);
      assert.ok(!JSON.stringify(list).includes("secret"));

      // SnapTrade: the real portal sends the browser back to our callback.
      const portal = await call(h, "/api/connections/snaptrade/portal", {
        method: "POST",
        cookie,
        body: { access: "trade" },
      });
      assert.equal(portal.status, 200);
      const { url } = await json(portal);
      assert.ok(url.startsWith(`${h.sandbox.url}/snaptrade/portal?`), url);
      const redirect = new URL(await submitHostedForm(url, { broker: "QUESTRADE" }));
      assert.equal(redirect.pathname, "/api/connections/snaptrade/callback");
      assert.equal(redirect.searchParams.get("access"), "trade");
      assert.equal(redirect.searchParams.get("status"), "SUCCESS");
      assert.equal(
        (await call(h, "/api/connections/snaptrade/portal", {
          method: "POST",
          cookie,
          body: { access: "write" },
        })).status,
        400,
      );

      const cb = await call(h, redirect.pathname + redirect.search, { cookie });
      assert.equal(cb.status, 303);
      assert.match(cb.headers.get("location")!, /^\/\?connected=snaptrade&connection=/);
      const snapId = new URL(cb.headers.get("location")!, "http://x").searchParams.get(
        "connection",
      )!;
      const snap = await json(await call(h, `/api/connections/${snapId}`, { cookie }));
      assert.equal(snap.provider, "snaptrade");
      assert.equal(snap.access, "trade");
      assert.equal(snap.status, "active");
      assert.equal(await stored(), 3);
      const failed = await call(h, "/api/connections/snaptrade/callback?status=ERROR", { cookie });
      assert.equal(failed.status, 303);
      assert.match(failed.headers.get("location")!, /^\/connections\?error=/);
      // An authorization SnapTrade does not know for this user: the flow's 404, nothing stored.
      const notFound = await call(
        h,
        "/api/connections/snaptrade/callback?status=SUCCESS&connection_id=no-such-authorization",
        { cookie },
      );
      assert.equal(notFound.status, 303);
      assert.match(notFound.headers.get("location")!, /^\/connections\?error=/);
      assert.equal(await stored(), 3);
      assert.equal(
        (await call(h, "/api/connections/snaptrade/callback?status=SUCCESS&connection_id=x"))
          .status,
        401,
      );

      // Plaid: a Hosted Link token from the real flow; a public token exchanged.
      const linkRes = await call(h, "/api/connections/plaid/link-token", {
        method: "POST",
        cookie,
      });
      assert.equal(linkRes.status, 200);
      const link = await json(linkRes);
      assert.match(link.link_token, /^link-sandbox-/);
      assert.ok(link.hosted_link_url.startsWith(`${h.sandbox.url}/plaid/link/`));
      assert.ok(link.expiration);
      const publicToken = await plaidPublicToken(h);
      const ex = await call(h, "/api/connections/plaid/exchange", {
        method: "POST",
        cookie,
        body: { public_token: publicToken },
      });
      assert.equal(ex.status, 201);
      const plaidId = (await json(ex)).connection_id;
      const plaid = await json(await call(h, `/api/connections/${plaidId}`, { cookie }));
      assert.equal(plaid.provider, "plaid");
      assert.equal(plaid.institution, "First Platypus Bank");
      assert.equal(await stored(), 4);
      // A public token is single use: the second exchange adds nothing.
      const reused = await call(h, "/api/connections/plaid/exchange", {
        method: "POST",
        cookie,
        body: { public_token: publicToken },
      });
      assert.equal(reused.status, 400, `reused public token: ${reused.status}`);
      await reused.body?.cancel();
      assert.equal(await stored(), 4);
      assert.equal(
        (await call(h, "/api/connections/plaid/exchange", { method: "POST", cookie, body: {} }))
          .status,
        400,
      );

      // Alpaca: keys the sandbox accepts connect; keys it rejects are 422 and nothing stored.
      const alp = await call(h, "/api/connections/alpaca", {
        method: "POST",
        cookie,
        body: { key_id: TEST_ALPACA_KEY_ID, secret_key: TEST_ALPACA_SECRET },
      });
      assert.equal(alp.status, 201);
      const alpId = (await json(alp)).connection_id;
      assert.equal(await stored(), 5);
      for (
        const body of [
          { key_id: "PKREJECTED0000000001", secret_key: "not-a-real-secret-0001" },
          // (The connected key with a wrong secret is refused as already connected: see
          // alpaca_duplicate_test.ts.)
          { key_id: DEMO_ALPACA_KEY_ID, secret_key: "the-wrong-secret-00002" },
        ]
      ) {
        const rejected = await call(h, "/api/connections/alpaca", { method: "POST", cookie, body });
        assert.equal(rejected.status, 422, body.key_id);
        assert.doesNotMatch(await rejected.text(), /not-a-real-secret|the-wrong-secret/);
      }
      assert.equal(await stored(), 5);
      assert.equal(
        (await call(h, "/api/connections/alpaca", {
          method: "POST",
          cookie,
          body: { key_id: "x" },
        })).status,
        400,
      );
      assert.doesNotMatch(
        await (await call(h, "/api/connections", { cookie })).text(),
        new RegExp(TEST_ALPACA_SECRET),
      );

      const one = await json(await call(h, `/api/connections/${a.connections[0]}`, { cookie }));
      assert.equal(one.provider, "snaptrade");
      assert.equal((await call(h, "/api/connections/not-a-uuid", { cookie })).status, 404);

      // SnapTrade reconnect: the portal in reconnect mode repairs the same connection.
      const rc = await json(
        await call(h, `/api/connections/${snapId}/reconnect`, { method: "POST", cookie }),
      );
      assert.equal(rc.provider, "snaptrade");
      assert.equal(rc.connection_id, snapId);
      assert.ok(rc.url.startsWith(`${h.sandbox.url}/snaptrade/portal?`));
      const repaired = new URL(await submitHostedForm(rc.url));
      assert.equal(repaired.searchParams.get("reconnect"), snapId);
      const fixed = await call(h, repaired.pathname + repaired.search, { cookie });
      assert.equal(fixed.status, 303);
      assert.equal(
        new URL(fixed.headers.get("location")!, "http://x").searchParams.get("connection"),
        snapId,
      );

      // Plaid reconnect: Hosted Link in update mode, completed through our callback.
      const rp = await json(
        await call(h, `/api/connections/${plaidId}/reconnect`, { method: "POST", cookie }),
      );
      assert.equal(rp.provider, "plaid");
      assert.match(rp.link_token, /^link-sandbox-/);
      assert.ok(rp.url.startsWith(`${h.sandbox.url}/plaid/link/`));
      const relinked = new URL(await submitHostedForm(rp.url));
      assert.equal(relinked.searchParams.get("reconnect"), plaidId);
      const relinkDone = await call(h, relinked.pathname + relinked.search, { cookie });
      assert.equal(
        new URL(relinkDone.headers.get("location")!, "http://x").searchParams.get("connection"),
        plaidId,
      );
      assert.equal(await stored(), 5);

      // Alpaca reconnect: new keys are required; the same account's keys repair it.
      const noKeys = await call(h, `/api/connections/${alpId}/reconnect`, {
        method: "POST",
        cookie,
      });
      assert.equal(noKeys.status, 400);
      const ra = await call(h, `/api/connections/${alpId}/reconnect`, {
        method: "POST",
        cookie,
        body: { key_id: TEST_ALPACA_KEY_ID, secret_key: TEST_ALPACA_SECRET },
      });
      assert.equal(ra.status, 200);
      assert.equal((await json(ra)).connection_id, alpId);
      // Another account's keys are refused before anything is stored.
      const other = await call(h, `/api/connections/${alpId}/reconnect`, {
        method: "POST",
        cookie,
        body: { key_id: DEMO_ALPACA_KEY_ID, secret_key: DEMO_ALPACA_SECRET },
      });
      assert.equal(other.status, 409);
      assert.equal(await stored(), 5);

      // Removal: at the provider, then here.
      const del = await call(h, `/api/connections/${plaidId}`, { method: "DELETE", cookie });
      assert.equal(del.status, 204);
      assert.equal(h.sandbox.calls.counts().by_route["plaid POST /item/remove"], 1);
      assert.equal((await call(h, `/api/connections/${plaidId}`, { cookie })).status, 404);
      assert.equal(
        (await call(h, `/api/connections/${plaidId}`, { method: "DELETE", cookie })).status,
        404,
      );
      assert.equal(await stored(), 4);
    });
  },
);
