import assert from "node:assert/strict";
import { jetstreamManager } from "@nats-io/jetstream";
import { encode, PortfolioPending, subjects, SyncProgress } from "@meridian/proto";
import {
  DEMO_ALPACA_KEY_ID,
  DEMO_ALPACA_SECRET,
  TEST_ALPACA_KEY_ID,
  TEST_ALPACA_SECRET,
} from "../sandbox/mod.ts";
import { submitHostedForm } from "../sync/html_form.ts";
import {
  call,
  connectAlpaca,
  connectSnaptrade,
  type Harness,
  login,
  plaidPublicToken,
  sessionFrom,
  startHarness,
} from "./testing/harness.ts";
import { seedUser } from "./testing/seed.ts";
import { DEFAULT_POLICY } from "./login_throttle.ts";
import { eventually } from "@meridian/runtime/testing";

async function json(res: Response) {
  return JSON.parse(await res.text());
}

async function withHarness(
  fn: (h: Harness) => Promise<void>,
  opts?: Parameters<typeof startHarness>[0],
) {
  const h = await startHarness(opts);
  try {
    await fn(h);
  } finally {
    await h.close();
  }
}

const sanitize = { sanitizeOps: false, sanitizeResources: false };

Deno.test("signup, login, me, logout, cookie flags and rotation", sanitize, async () => {
  await withHarness(async (h) => {
    const r0 = await call(h, "/api/auth/signup", {
      method: "POST",
      body: { email: "Owner@Example.com", password: "a long enough password" },
    });
    assert.equal(r0.status, 202);
    assert.deepEqual(await json(r0), { status: "accepted", next: "sign_in" });
    assert.equal(r0.headers.get("set-cookie"), null, "sign-up starts no session");
    const r1 = await call(h, "/api/auth/login", {
      method: "POST",
      body: { email: "owner@example.com", password: "a long enough password" },
    });
    assert.equal(r1.status, 200);
    const owner = await json(r1);
    assert.equal(owner.user.role, "owner");
    assert.equal(owner.user.email, "owner@example.com");
    const set = r1.headers.get("set-cookie")!;
    assert.match(set, /^meridian_session=[A-Za-z0-9_-]{43};/);
    assert.match(set, /HttpOnly/);
    assert.match(set, /SameSite=Lax/);
    assert.match(set, /Path=\//);
    assert.doesNotMatch(set, /Domain=/i);
    assert.doesNotMatch(set, /Secure/);
    const cookie = sessionFrom(r1);
    // Only the hash is stored.
    const token = cookie.split("=")[1];
    const stored = await h.sql`select token_hash from sessions`;
    assert.equal(stored.length, 1);
    assert.notEqual(stored[0].token_hash, token);
    assert.equal(stored[0].token_hash.length, 64);

    const me = await call(h, "/api/me", { cookie });
    assert.equal(me.status, 200);
    const meBody = await json(me);
    assert.equal(meBody.user.email, "owner@example.com");
    assert.equal(meBody.portfolio_mode, "none");

    const r2 = await call(h, "/api/auth/signup", {
      method: "POST",
      body: { email: "member@example.com", password: "another long password" },
    });
    assert.equal(r2.status, 202);
    const member = await call(h, "/api/auth/login", {
      method: "POST",
      body: { email: "member@example.com", password: "another long password" },
    });
    assert.equal((await json(member)).user.role, "member");

    // A taken email gets the very answer a new one gets: nothing tells them apart.
    const dup = await call(h, "/api/auth/signup", {
      method: "POST",
      body: { email: "member@example.com", password: "somebody else's password" },
    });
    assert.equal(dup.status, 202);
    assert.deepEqual(await json(dup), { status: "accepted", next: "sign_in" });
    assert.equal(dup.headers.get("set-cookie"), null);
    const takeover = await call(h, "/api/auth/login", {
      method: "POST",
      body: { email: "member@example.com", password: "somebody else's password" },
    });
    assert.equal(takeover.status, 401, "the existing account's password is unchanged");

    const bad = await call(h, "/api/auth/signup", {
      method: "POST",
      body: { email: "not-an-email", password: "short" },
    });
    assert.equal(bad.status, 400);
    const badBody = await json(bad);
    assert.equal(badBody.error, "invalid request");
    assert.ok(badBody.issues.length >= 2);

    // Login rotates: the new cookie works, the one sent along no longer does.
    const r3 = await call(h, "/api/auth/login", {
      method: "POST",
      cookie,
      body: { email: "owner@example.com", password: "a long enough password" },
    });
    assert.equal(r3.status, 200);
    const cookie2 = sessionFrom(r3);
    assert.notEqual(cookie2, cookie);
    assert.equal((await call(h, "/api/me", { cookie })).status, 401);
    assert.equal((await call(h, "/api/me", { cookie: cookie2 })).status, 200);

    const out = await call(h, "/api/auth/logout", { method: "POST", cookie: cookie2 });
    assert.equal(out.status, 204);
    assert.match(out.headers.get("set-cookie")!, /Max-Age=0/);
    assert.equal((await call(h, "/api/me", { cookie: cookie2 })).status, 401);
    assert.equal((await call(h, "/api/me")).status, 401);
    assert.equal((await call(h, "/api/me", { cookie: "meridian_session=garbage" })).status, 401);

    const wrong = await call(h, "/api/auth/login", {
      method: "POST",
      body: { email: "owner@example.com", password: "nope nope nope" },
    });
    assert.equal(wrong.status, 401);
    const nobody = await call(h, "/api/auth/login", {
      method: "POST",
      body: { email: "nobody@example.com", password: "nope nope nope" },
    });
    assert.equal(nobody.status, 401);
  });
});

Deno.test("over HTTPS the cookie is __Host- prefixed and Secure", sanitize, async () => {
  await withHarness(async (h) => {
    const a = await seedUser(h.sql, "s@example.com");
    const res = await call(h, "/api/auth/login", {
      method: "POST",
      body: { email: a.email, password: a.password },
    });
    assert.equal(res.status, 200);
    const set = res.headers.get("set-cookie")!;
    assert.match(set, /^__Host-meridian_session=/);
    assert.match(set, /; Secure/);
    assert.match(set, /Path=\//);
    assert.doesNotMatch(set, /Domain=/i);
    const cookie = sessionFrom(res);
    assert.equal((await call(h, "/api/me", { cookie })).status, 200);
    // The unprefixed cookie is not accepted where cookies are Secure.
    const plain = cookie.replace("__Host-", "");
    assert.equal((await call(h, "/api/me", { cookie: plain })).status, 401);
  }, { config: { PUBLIC_URL: "https://meridian.example" } });
});

Deno.test(
  "X-Forwarded-Proto and X-Forwarded-For count only from TRUSTED_PROXIES",
  sanitize,
  async () => {
    await withHarness(async (h) => {
      const a = await seedUser(h.sql, "p@example.com");
      const login = (peer: string) =>
        call(h, "/api/auth/login", {
          method: "POST",
          peer,
          headers: { "x-forwarded-proto": "https", "x-forwarded-for": "203.0.113.50" },
          body: { email: a.email, password: a.password },
        });
      // A forged header from an untrusted peer: plain HTTP, so no Secure cookie.
      const forged = await login("198.51.100.7");
      assert.match(forged.headers.get("set-cookie")!, /^meridian_session=/);
      // The proxy's header is believed.
      const proxied = await login("127.0.0.1");
      assert.match(proxied.headers.get("set-cookie")!, /^__Host-meridian_session=.*; Secure/);

      // The throttle keys on the forwarded address only behind the proxy.
      for (let i = 0; i < 40; i++) {
        const r = await call(h, "/api/auth/login", {
          method: "POST",
          peer: "198.51.100.8",
          headers: { "x-forwarded-for": `203.0.113.${i}` },
          body: { email: `n${i}@example.com`, password: "wrong password" },
        });
        await r.body?.cancel();
        if (i >= 5) {
          assert.equal(r.status, 429, "one untrusted peer is one address however it forges");
        }
      }
    }, {
      config: { PUBLIC_URL: "http://127.0.0.1:8080", TRUSTED_PROXIES: "loopback" },
      throttle: { ...DEFAULT_POLICY, addressMax: 5 },
    });
  },
);

Deno.test("sign-up closed after the owner when ALLOW_SIGNUP is false", sanitize, async () => {
  await withHarness(async (h) => {
    const first = await call(h, "/api/auth/signup", {
      method: "POST",
      body: { email: "owner@example.com", password: "a long enough password" },
    });
    assert.equal(first.status, 202);
    const second = await call(h, "/api/auth/signup", {
      method: "POST",
      body: { email: "late@example.com", password: "a long enough password" },
    });
    assert.equal(second.status, 403);
  }, { config: { ALLOW_SIGNUP: false } });
});

Deno.test("sessions end after idle and absolute timeouts", sanitize, async () => {
  await withHarness(async (h) => {
    const a = await seedUser(h.sql, "a@example.com");
    let cookie = await login(h, a.email, a.password);
    h.clock.now += 6 * 24 * 3600_000;
    assert.equal((await call(h, "/api/me", { cookie })).status, 200);
    h.clock.now += 6 * 24 * 3600_000; // sliding: 6 days after the last use
    assert.equal((await call(h, "/api/me", { cookie })).status, 200);
    h.clock.now += 8 * 24 * 3600_000; // idle 8 days
    assert.equal((await call(h, "/api/me", { cookie })).status, 401);

    cookie = await login(h, a.email, a.password);
    for (let d = 0; d < 4; d++) {
      h.clock.now += 6 * 24 * 3600_000;
      assert.equal((await call(h, "/api/me", { cookie })).status, 200);
    }
    h.clock.now += 6 * 24 * 3600_000 + 1; // 30 days after login: the absolute lifetime is over
    assert.equal((await call(h, "/api/me", { cookie })).status, 401);
  });
});

Deno.test(
  "sign-in limits hold against parallel attempts, with growing delays and no lockout",
  sanitize,
  async () => {
    await withHarness(async (h) => {
      const a = await seedUser(h.sql, "a@example.com");
      const attempt = (email: string, password: string, peer: string) =>
        call(h, "/api/auth/login", { method: "POST", peer, body: { email, password } });
      const statuses = async (responses: Promise<Response>[]) =>
        await Promise.all(responses.map(async (r) => {
          const res = await r;
          await res.body?.cancel();
          return res.status;
        }));

      // 100 wrong passwords at once for one account from one address: five are checked.
      const burst = await statuses(
        Array.from({ length: 100 }, () => attempt(a.email, "wrong password", "10.0.0.1")),
      );
      assert.equal(burst.filter((s) => s === 401).length, DEFAULT_POLICY.freeFailures);
      assert.equal(burst.filter((s) => s === 429).length, 100 - DEFAULT_POLICY.freeFailures);

      // Growing delays for that account from that address: 1 s, then 2 s, then 4 s.
      for (const delay of [1, 2, 4]) {
        const held = await attempt(a.email, "wrong password", "10.0.0.1");
        assert.equal(held.status, 429);
        assert.equal(Number(held.headers.get("retry-after")), delay);
        assert.equal((await json(held)).retry_after_s, delay);
        h.clock.now += delay * 1000;
        assert.equal((await attempt(a.email, "wrong password", "10.0.0.1")).status, 401);
      }
      // The owner, elsewhere, is not locked out by any of it.
      assert.equal((await attempt(a.email, a.password, "10.0.0.2")).status, 200);
      // At the attacked address the right password still waits its turn, then resets the count.
      h.clock.now += 8_000;
      assert.equal((await attempt(a.email, a.password, "10.0.0.1")).status, 200);
      for (let i = 0; i < DEFAULT_POLICY.freeFailures; i++) {
        assert.equal((await attempt(a.email, "wrong password", "10.0.0.1")).status, 401);
      }
    }, { throttle: { ...DEFAULT_POLICY, addressMax: 1_000 } });
  },
);

Deno.test(
  "sign-in and sign-up share a per-address limit that parallel attempts cannot race",
  sanitize,
  async () => {
    await withHarness(async (h) => {
      const attempt = (email: string, password: string, peer: string) =>
        call(h, "/api/auth/login", { method: "POST", peer, body: { email, password } });
      const statuses = async (responses: Promise<Response>[]) =>
        await Promise.all(responses.map(async (r) => {
          const res = await r;
          await res.body?.cancel();
          return res.status;
        }));
      // 100 attempts at once from one address, each for another account: the address's limit.
      const spray = await statuses(
        Array.from({ length: 100 }, (_, i) => attempt(`x${i}@example.com`, "wrong", "10.0.0.9")),
      );
      assert.equal(spray.filter((s) => s === 401).length, DEFAULT_POLICY.addressMax);
      const limited = await attempt("y@example.com", "whatever12", "10.0.0.9");
      assert.equal(limited.status, 429);
      const retry = Number(limited.headers.get("retry-after"));
      assert.ok(retry >= 1 && retry <= DEFAULT_POLICY.addressWindowS, `Retry-After ${retry}`);
      // Sign-ups from that address share its limit.
      const signup = await call(h, "/api/auth/signup", {
        method: "POST",
        peer: "10.0.0.9",
        body: { email: "new@example.com", password: "a long enough password" },
      });
      assert.equal(signup.status, 429);
      // Another address is unaffected; the window passes.
      assert.equal((await attempt("z@example.com", "whatever12", "10.0.0.3")).status, 401);
      h.clock.now += DEFAULT_POLICY.addressWindowS * 1000;
      assert.equal((await attempt("y@example.com", "whatever12", "10.0.0.9")).status, 401);
    }, { throttle: DEFAULT_POLICY });
  },
);
Deno.test("cross-site state changes are refused", sanitize, async () => {
  await withHarness(async (h) => {
    const a = await seedUser(h.sql, "a@example.com");
    const cookie = await login(h, a.email, a.password);
    const evil = await call(h, "/api/holdings/refresh", {
      method: "POST",
      cookie,
      headers: { origin: "https://evil.example" },
      body: {},
    });
    assert.equal(evil.status, 403);
    // A forged Origin with a matching Host is still not PUBLIC_URL's origin.
    const forged = await call(h, "/api/holdings/refresh", {
      method: "POST",
      cookie,
      headers: { origin: "http://evil.example", host: "evil.example" },
      body: {},
    });
    assert.equal(forged.status, 403);
    assert.match((await json(forged)).error, /PUBLIC_URL/);
    const site = await call(h, `/api/connections/${a.connections[0]}`, {
      method: "DELETE",
      cookie,
      headers: { "sec-fetch-site": "cross-site" },
    });
    assert.equal(site.status, 403);
    assert.equal((await h.sql`select 1 from connections where id = ${a.connections[0]}`).length, 1);
  });
});

Deno.test(
  "refresh while NATS is down answers 503 at once and spends no cooldown",
  sanitize,
  async () => {
    await withHarness(async (h) => {
      const a = await seedUser(h.sql, "a@example.com", { pending: true });
      const cookie = await login(h, a.email, a.password);
      await h.natsServer.stop();
      await eventually(() => !h.nats.connected(), { what: "the api to see NATS gone" });
      const down = await call(h, "/api/holdings/refresh", { method: "POST", cookie });
      assert.equal(down.status, 503);
      assert.ok(Number(down.headers.get("retry-after")) > 0);
      assert.match((await json(down)).error, /unavailable/);
      assert.equal((await h.sql`select 1 from refresh_cooldowns`).length, 0);
      await h.natsServer.restart();
      await eventually(() => h.nats.connected(), { what: "NATS back" });
      const up = await call(h, "/api/holdings/refresh", { method: "POST", cookie });
      assert.equal(up.status, 202, await up.text());
    });
  },
);

Deno.test("holdings, pending updates, refresh with cooldown", sanitize, async () => {
  await withHarness(async (h) => {
    const a = await seedUser(h.sql, "a@example.com", { pending: true });
    const cookie = await login(h, a.email, a.password);
    const holdings = await json(await call(h, "/api/holdings", { cookie }));
    assert.equal(holdings.user_id, a.userId);
    assert.equal(holdings.accounts.length, 2);
    const aapl = holdings.positions.find((p: { symbol: string }) => p.symbol === "AAPL");
    assert.equal(aapl.quantity, "20");
    assert.equal(aapl.accounts.length, 2);
    // Day change from the stored previous closes, as exact decimal strings: Plaid knows AAPL
    // (10 × (100.25 − 99.875)) and VTI (11 × (100.25 − 101)), SnapTrade knows none.
    assert.equal(aapl.day_change, "3.75");
    assert.equal(aapl.day_change_percent, "0.38");
    assert.equal(aapl.day_change_unknown_accounts, 1);
    const vti = holdings.positions.find((p: { symbol: string }) => p.symbol === "VTI");
    assert.equal(vti.day_change, "-8.25");
    assert.equal(vti.day_change_percent, "-0.74");
    const plaidAapl = holdings.accounts[1].positions.find((p: { symbol: string }) =>
      p.symbol === "AAPL"
    );
    assert.equal(plaidAapl.previous_close, "99.875");
    assert.equal(plaidAapl.day_change, "3.75");
    assert.equal(holdings.accounts[0].positions[0].day_change, null);
    const [usd] = holdings.totals;
    assert.equal(usd.day_change, "-4.5");
    assert.equal(usd.day_change_percent, "-0.21"); // −4.5 ÷ 2109.75
    assert.deepEqual(usd.day_change_coverage, { known: 2, of: 5 });
    const snap = holdings.providers.find((p: { provider: string }) => p.provider === "snaptrade");
    assert.equal(snap.has_pending_updates, true);
    assert.ok(snap.last_synced);
    assert.equal(holdings.cash[0].amount, "2001");

    const pending = await json(await call(h, "/api/pending-updates", { cookie }));
    assert.equal(pending.has_pending_updates, true);
    assert.equal(pending.connections[0].connection_id, a.connections[0]);

    const me = await json(await call(h, "/api/me", { cookie }));
    assert.equal(me.portfolio_mode, "hybrid");

    const r1 = await call(h, "/api/holdings/refresh", { method: "POST", cookie, body: {} });
    assert.equal(r1.status, 202);
    const accepted = await json(r1);
    assert.equal(accepted.status, "accepted");
    assert.deepEqual(accepted.connections.map((c: { connection_id: string }) => c.connection_id), [
      a.connections[0],
    ]);
    const jsm = await jetstreamManager(h.nats.nc);
    const info = await jsm.streams.info("SYNC");
    assert.equal(info.state.messages, 1);

    const r2 = await call(h, "/api/holdings/refresh", { method: "POST", cookie });
    assert.equal(r2.status, 429);
    const wait = Number(r2.headers.get("retry-after"));
    assert.ok(wait > 0 && wait <= 60);
    // Even when nothing is flagged any more, a refresh inside the cooldown is 429.
    await h.sql`delete from pending_updates`;
    const r3 = await call(h, "/api/holdings/refresh", { method: "POST", cookie });
    assert.equal(r3.status, 429);
    h.clock.now += 61_000;
    const r4 = await call(h, "/api/holdings/refresh", { method: "POST", cookie });
    assert.equal(r4.status, 200);
    assert.equal((await json(r4)).status, "up_to_date");

    const bad = await call(h, "/api/holdings/refresh", {
      method: "POST",
      cookie,
      body: { connection_ids: ["not-a-uuid"] },
    });
    assert.equal(bad.status, 400);
    const malformed = await call(h, "/api/holdings/refresh", {
      method: "POST",
      cookie,
      body: "{oops",
    });
    assert.equal(malformed.status, 400);
    const wrongType = await call(h, "/api/holdings/refresh", {
      method: "POST",
      cookie,
      body: "{}",
      headers: { "content-type": "text/plain" },
    });
    assert.equal(wrongType.status, 415);
    const huge = await call(h, "/api/holdings/refresh", {
      method: "POST",
      cookie,
      body: JSON.stringify({ x: "a".repeat(100_000) }),
    });
    assert.equal(huge.status, 413);
    const unknown = await call(h, "/api/holdings/refresh", {
      method: "POST",
      cookie,
      body: { connection_ids: [crypto.randomUUID()] },
    });
    assert.equal(unknown.status, 404);
  });
});

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
          { key_id: TEST_ALPACA_KEY_ID, secret_key: "the-wrong-secret-00002" },
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

Deno.test("accounts, transactions (filters, paging), syncs, history", sanitize, async () => {
  await withHarness(async (h) => {
    const a = await seedUser(h.sql, "a@example.com");
    const cookie = await login(h, a.email, a.password);
    const accounts = await json(await call(h, "/api/accounts", { cookie }));
    assert.equal(accounts.accounts.length, 2);
    assert.equal(
      (await json(await call(h, `/api/accounts/${a.accounts[0]}`, { cookie }))).id,
      a.accounts[0],
    );

    const all = await json(await call(h, "/api/transactions?limit=4", { cookie }));
    assert.equal(all.transactions.length, 4);
    assert.ok(all.next_cursor);
    const rest = await json(
      await call(h, `/api/transactions?limit=4&cursor=${all.next_cursor}`, { cookie }),
    );
    assert.equal(rest.transactions.length, 2);
    assert.equal(rest.next_cursor, null);
    const ids = new Set(
      [...all.transactions, ...rest.transactions].map((t: { id: string }) => t.id),
    );
    assert.equal(ids.size, 6);
    const divs = await json(await call(h, "/api/transactions?type=dividend", { cookie }));
    assert.equal(divs.transactions.length, 2);
    const byAcct = await json(
      await call(h, `/api/transactions?account_id=${a.accounts[0]}`, { cookie }),
    );
    assert.equal(byAcct.transactions.length, 3);
    const range = await json(
      await call(h, "/api/transactions?from=2026-02-01&to=2026-02-28", { cookie }),
    );
    assert.equal(range.transactions.length, 2);
    assert.equal(range.transactions[0].trade_date, "2026-02-15");
    assert.equal(
      (await json(await call(h, `/api/transactions/${a.transactions[0]}`, { cookie }))).id,
      a.transactions[0],
    );
    for (
      const q of [
        "type=gift",
        "limit=0",
        "limit=abc",
        "from=yesterday",
        "cursor=%%%",
        "cursor=abcdef",
        "from=2026-03-01&to=2026-01-01",
        "bogus=1",
      ]
    ) {
      const r = await call(h, `/api/transactions?${q}`, { cookie });
      assert.equal(r.status, 400, q);
      assert.ok((await json(r)).issues, q);
    }

    const syncs = await json(await call(h, "/api/syncs", { cookie }));
    assert.equal(syncs.syncs.length, 2);
    assert.equal(
      (await json(await call(h, `/api/syncs/${a.syncs[0]}`, { cookie }))).id,
      a.syncs[0],
    );

    const hist = await json(await call(h, "/api/portfolio/history?range=1d", { cookie }));
    assert.equal(hist.kind, "intraday");
    assert.equal(hist.points.length, 1);
    assert.equal(hist.latest.total, "9450.75");
    assert.equal(hist.day_change, undefined); // day change is in /api/holdings only
    assert.equal((await call(h, "/api/portfolio/history?range=5y", { cookie })).status, 400);

    const doc = await json(await call(h, "/api/openapi.json"));
    assert.equal(doc.openapi, "3.0.3");
    assert.ok(doc.paths["/api/holdings"].get.responses["200"]);
    assert.ok(doc.paths["/api/transactions"].get.parameters.length >= 5);
    assert.equal(doc.paths["/api/orders"], undefined);
    assert.equal((await call(h, "/api/orders", { cookie })).status, 404);
  });
});

Deno.test(
  "tenant isolation: user B gets 404 for every one of A's ids, and none of A's data",
  sanitize,
  async () => {
    await withHarness(async (h) => {
      const a = await seedUser(h.sql, "a@example.com", { pending: true });
      const b = await seedUser(h.sql, "b@example.com");
      // A also has connections made through the real flows (the seeded ones are rows only).
      const cookieA = await login(h, a.email, a.password);
      const realOfA = [
        await connectSnaptrade(h, cookieA),
        await connectAlpaca(h, cookieA, { keyId: TEST_ALPACA_KEY_ID, secret: TEST_ALPACA_SECRET }),
      ];
      const [{ external_id: authorizationOfA }] = await h.sql<{ external_id: string }[]>`
        select external_id from connections where id = ${realOfA[0]}`;
      const cookie = await login(h, b.email, b.password);
      const secretsOfA = [
        a.userId,
        a.email,
        authorizationOfA,
        ...a.connections,
        ...realOfA,
        ...a.accounts,
        ...a.transactions,
        ...a.syncs,
        ...a.positions,
      ];
      const leaks = (text: string) => secretsOfA.filter((s) => text.includes(s));

      const attempts: [string, string, unknown?][] = [];
      for (const id of [...a.connections, ...realOfA]) {
        attempts.push(["GET", `/api/connections/${id}`]);
        attempts.push(["DELETE", `/api/connections/${id}`]);
        attempts.push(["POST", `/api/connections/${id}/reconnect`, {}]);
        attempts.push(["POST", "/api/holdings/refresh", { connection_ids: [id] }]);
        attempts.push(["GET", `/api/syncs?connection_id=${id}`]);
      }
      for (const id of a.accounts) {
        attempts.push(["GET", `/api/accounts/${id}`]);
        attempts.push(["GET", `/api/transactions?account_id=${id}`]);
      }
      for (const id of a.transactions) attempts.push(["GET", `/api/transactions/${id}`]);
      for (const id of a.syncs) attempts.push(["GET", `/api/syncs/${id}`]);
      for (const id of [...a.positions, a.userId]) {
        attempts.push(["GET", `/api/accounts/${id}`]);
        attempts.push(["GET", `/api/connections/${id}`]);
      }
      for (const [method, path, body] of attempts) {
        const res = await call(h, path, { method, cookie, body });
        const text = await res.text();
        assert.equal(res.status, 404, `${method} ${path}: ${res.status} ${text}`);
        assert.deepEqual(leaks(text), [], `${method} ${path} leaked`);
      }
      // The callbacks with A's connection to repair, or A's SnapTrade authorization.
      for (const id of [...a.connections, ...realOfA]) {
        const res = await call(
          h,
          `/api/connections/snaptrade/callback?status=SUCCESS&connection_id=${authorizationOfA}&reconnect=${id}`,
          { cookie },
        );
        assert.match(res.headers.get("location")!, /error=/);
      }
      const stolen = await call(
        h,
        `/api/connections/snaptrade/callback?status=SUCCESS&connection_id=${authorizationOfA}`,
        { cookie },
      );
      assert.match(stolen.headers.get("location")!, /^\/connections\?error=/);
      // A's Alpaca account, even with its keys, is not B's to connect.
      const alpacaOfA = await call(h, "/api/connections/alpaca", {
        method: "POST",
        cookie,
        body: { key_id: TEST_ALPACA_KEY_ID, secret_key: TEST_ALPACA_SECRET },
      });
      assert.equal(alpacaOfA.status, 409);
      assert.deepEqual(leaks(await alpacaOfA.text()), []);
      // Nothing of A was changed, and nothing of A's became B's.
      assert.equal((await h.sql`select 1 from connections where user_id = ${a.userId}`).length, 4);
      assert.equal((await h.sql`select 1 from connections where user_id = ${b.userId}`).length, 2);
      assert.equal(
        (await h.sql`select 1 from pending_updates where user_id = ${a.userId}`).length,
        1,
      );

      // Every list route answers only B's data.
      for (
        const path of [
          "/api/me",
          "/api/holdings",
          "/api/pending-updates",
          "/api/connections",
          "/api/accounts",
          "/api/transactions",
          "/api/syncs",
          "/api/portfolio/history?range=all",
        ]
      ) {
        const res = await call(h, path, { cookie });
        assert.equal(res.status, 200, path);
        assert.deepEqual(leaks(await res.text()), [], path);
      }

      // The stream: A's events never reach B, whatever Last-Event-ID B sends.
      const res = await call(h, "/api/stream", {
        cookie,
        headers: { "last-event-id": `${h.app.hub.epoch}-1` },
      });
      const reader = res.body!.getReader();
      const received: string[] = [];
      const reading = (async () => {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          received.push(new TextDecoder().decode(value));
        }
      })();
      await eventually(() => h.app.hub.clients > 0, { what: "B's stream to open" });
      h.nats.nc.publish(
        subjects.portfolioPending(a.userId),
        encode(PortfolioPending, {
          user_id: a.userId,
          at: new Date().toISOString(),
          connections: [{
            connection_id: a.connections[0],
            provider: "snaptrade",
            since: new Date().toISOString(),
          }],
        }),
      );
      h.nats.nc.publish(
        subjects.syncProgress(b.userId),
        encode(SyncProgress, {
          user_id: b.userId,
          request_id: crypto.randomUUID(),
          sync_run_id: null,
          connection_id: b.connections[0],
          provider: "snaptrade",
          phase: "started",
          at: new Date().toISOString(),
        }),
      );
      // A message on B's subject that claims to be A's is dropped.
      h.nats.nc.publish(
        subjects.portfolioPending(b.userId),
        encode(PortfolioPending, {
          user_id: a.userId,
          at: new Date().toISOString(),
          connections: [],
        }),
      );
      await h.nats.nc.flush();
      // B's own event was published last on one connection: once it is here, A's are past.
      await eventually(() => received.join("").includes("event: sync"), { what: "B's event" });
      await reader.cancel();
      await reading.catch(() => {});
      const text = received.join("");
      assert.match(text, /event: sync/);
      assert.deepEqual(leaks(text), []);
    });
  },
);

async function readEvents(res: Response, until: (text: string) => boolean, timeoutMs = 5000) {
  const reader = res.body!.getReader();
  let text = "";
  const deadline = Date.now() + timeoutMs;
  while (!until(text)) {
    if (Date.now() > deadline) break;
    const r = await Promise.race([
      reader.read(),
      new Promise<{ done: true; value: undefined }>((ok) =>
        setTimeout(() => ok({ done: true, value: undefined }), 200)
      ),
    ]);
    if (r.value) text += new TextDecoder().decode(r.value);
  }
  await reader.cancel().catch(() => {});
  return text;
}

Deno.test(
  "stream: events with ids, resume with Last-Event-ID, snapshot when too far behind",
  sanitize,
  async () => {
    await withHarness(async (h) => {
      const a = await seedUser(h.sql, "a@example.com", { pending: true });
      const cookie = await login(h, a.email, a.password);
      assert.equal((await call(h, "/api/stream")).status, 401);
      const first = await call(h, "/api/stream", { cookie });
      assert.equal(first.status, 200);
      assert.match(first.headers.get("content-type")!, /text\/event-stream/);
      const pending = (n: number) =>
        h.nats.nc.publish(
          subjects.portfolioPending(a.userId),
          encode(PortfolioPending, {
            user_id: a.userId,
            at: new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString(),
            connections: [{
              connection_id: a.connections[0],
              provider: "snaptrade",
              since: new Date().toISOString(),
            }],
          }),
        );
      const reading = readEvents(first, (t) => (t.match(/event: pending/g) ?? []).length >= 3);
      await eventually(() => h.app.hub.clients > 0, { what: "the stream to open" });
      for (let i = 0; i < 3; i++) pending(i);
      const text = await reading;
      assert.match(text, /^retry: \d+/);
      const ids = [...text.matchAll(/^id: (.+)$/gm)].map((m) => m[1]);
      assert.equal(ids.length, 3);
      assert.equal(new Set(ids).size, 3);
      // One shape per signal: the event is the view GET /api/pending-updates answers.
      const event = JSON.parse(/event: pending\ndata: (.+)\n/.exec(text)![1]);
      assert.deepEqual(event, await json(await call(h, "/api/pending-updates", { cookie })));
      assert.ok(event.connections[0].institution.length > 0);

      // Resume after the first: exactly the two that followed.
      const resumed = await call(h, "/api/stream", {
        cookie,
        headers: { "last-event-id": ids[0] },
      });
      const again = await readEvents(
        resumed,
        (t) => (t.match(/event: pending/g) ?? []).length >= 2,
        1500,
      );
      assert.deepEqual([...again.matchAll(/^id: (.+)$/gm)].map((m) => m[1]), ids.slice(1));

      // An id from another process (or far behind): a snapshot with the pending state.
      const stale = await call(h, "/api/stream", {
        cookie,
        headers: { "last-event-id": "zzzz-5" },
      });
      const snap = await readEvents(stale, (t) => t.includes("event: snapshot"));
      assert.match(snap, /event: snapshot/);
      const data = JSON.parse(/event: snapshot\ndata: (.+)\n/.exec(snap)![1]);
      assert.equal(data.pending.has_pending_updates, true);

      // Invalid payloads are dropped, not forwarded.
      const s3 = await call(h, "/api/stream", { cookie });
      const r3 = readEvents(s3, () => false, 800);
      await eventually(() => h.app.hub.clients > 0, { what: "the stream to open" });
      h.nats.nc.publish(subjects.portfolioPending(a.userId), new TextEncoder().encode("{not json"));
      assert.doesNotMatch(await r3, /event: pending/);
    });
  },
);

Deno.test("dashboard is served with a CSP, and 404s stay JSON under /api", sanitize, async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/index.html`, "<!doctype html><title>Meridian</title>");
  await Deno.writeTextFile(`${dir}/app-ABCDEFGH.js`, "console.log(1)");
  const { createApp } = await import("./app.ts");
  await withHarness(async (h) => {
    const app = createApp({
      sql: h.sql,
      js: h.js,
      log: (await import("@meridian/runtime")).createLogger("t", "error"),
      config: {
        PUBLIC_URL: "http://127.0.0.1:8080",
        ALLOW_SIGNUP: true,
        REFRESH_COOLDOWN_S: 60,
        HOLDINGS_TTL_H: 24,
      },
      connections: {} as never,
      webDist: dir,
    });
    const index = await app.request("/connections");
    assert.equal(index.status, 200);
    assert.match(index.headers.get("content-security-policy")!, /default-src 'self'/);
    assert.match(await index.text(), /Meridian/);
    const js = await app.request("/app-ABCDEFGH.js");
    assert.match(js.headers.get("content-type")!, /javascript/);
    assert.match(js.headers.get("cache-control")!, /immutable/);
    assert.equal((await app.request("/../../etc/passwd")).status, 200); // normalised to index
    assert.equal((await app.request("/missing.js")).status, 404);
    assert.equal((await app.request("/api/nothing")).status, 401);
    await app.hub.close();
  });
});

Deno.test("garbage input never answers 5xx", sanitize, async () => {
  await withHarness(async (h) => {
    const a = await seedUser(h.sql, "a@example.com");
    const cookie = await login(h, a.email, a.password);
    // Reconnecting goes through the real portal flow, so it needs a real connection.
    const snap = await connectSnaptrade(h, cookie);
    const bodies: (string | undefined)[] = [
      undefined,
      "",
      "null",
      "[]",
      '"x"',
      "1e999",
      "{",
      '{"__proto__":{"x":1}}',
      "[".repeat(5000) + "]".repeat(5000),
      '{"email":1,"password":[]}',
      '{"connection_ids":"x"}',
      '{"access":null,"broker":"../../"}',
      '{"key_id":"x".repeat(1000)}',
      "\u0000\uffff",
    ];
    const posts = [
      "/api/auth/signup",
      "/api/auth/login",
      "/api/auth/logout",
      "/api/holdings/refresh",
      "/api/connections/snaptrade/portal",
      "/api/connections/plaid/link-token",
      "/api/connections/plaid/exchange",
      "/api/connections/alpaca",
      `/api/connections/${snap}/reconnect`,
    ];
    for (const path of posts) {
      for (const body of bodies) {
        for (const c of [cookie, undefined]) {
          const res = await call(h, path, { method: "POST", cookie: c, body });
          await res.body?.cancel();
          assert.ok(
            res.status < 500,
            `POST ${path} ${JSON.stringify(body)?.slice(0, 40)}: ${res.status}`,
          );
        }
      }
    }
    const gets = [
      "/api/accounts/%ZZ",
      "/api/accounts/" + "a".repeat(5000),
      "/api/transactions?limit=1e9",
      "/api/transactions?from=2026-13-45",
      "/api/transactions?account_id=%00",
      "/api/transactions?cursor=" + "A".repeat(500),
      "/api/syncs?limit=-1",
      "/api/portfolio/history?range[]=1d",
      "/api/connections/snaptrade/callback?status=SUCCESS&connection_id=%E0%A4%A",
      "/api/connections/plaid/callback?link_token=" + "x".repeat(1000),
      "/api/connections/%2e%2e/",
      "/api/stream?last_event_id=" + "9".repeat(100),
    ];
    for (const path of gets) {
      for (const c of [cookie, undefined]) {
        const res = await call(h, path, { cookie: c });
        await res.body?.cancel();
        assert.ok(res.status < 500, `GET ${path.slice(0, 60)}: ${res.status}`);
      }
    }
    for (const method of ["PUT", "PATCH", "DELETE"]) {
      const res = await call(h, "/api/holdings", { method, cookie });
      await res.body?.cancel();
      assert.ok(res.status < 500 && res.status >= 400, `${method}: ${res.status}`);
    }
  });
});

Deno.test(
  "holdings: a sync shows at once when its event arrives, within a second otherwise",
  sanitize,
  async () => {
    await withHarness(async (h) => {
      const a = await seedUser(h.sql, "a@example.com");
      const cookie = await login(h, a.email, a.password);
      const quantity = async () => {
        const res = await call(h, "/api/holdings", { cookie });
        const view = await json(res);
        return view.positions.find((p: { symbol: string }) => p.symbol === "VTI").quantity;
      };
      assert.equal(await quantity(), "22"); // 11 in each of two accounts
      const first = await call(h, "/api/holdings", {
        cookie,
        headers: { "accept-encoding": "gzip" },
      });
      assert.equal(first.headers.get("content-encoding"), "gzip");
      const etag = first.headers.get("etag")!;
      await first.body?.cancel();
      const notModified = await call(h, "/api/holdings", {
        cookie,
        headers: { "if-none-match": etag },
      });
      assert.equal(notModified.status, 304);

      // A sync writes (and bumps the version) and announces itself: visible at once.
      const sync = async (q: string) => {
        await h.sql.begin(async (tx) => {
          await tx`update positions set quantity = ${q} where user_id = ${a.userId} and symbol = 'VTI'`;
          await tx`update users set holdings_version = holdings_version + 1 where id = ${a.userId}`;
        });
      };
      await sync("99");
      // The cache listens before anyone else: once another listener has the event, the next
      // read must be fresh, with no wait.
      let heard = false;
      h.app.hub.onEvent((userId, event) => heard ||= userId === a.userId && event === "sync");
      h.nats.nc.publish(
        subjects.syncProgress(a.userId),
        encode(SyncProgress, {
          user_id: a.userId,
          request_id: crypto.randomUUID(),
          sync_run_id: null,
          connection_id: a.connections[0],
          provider: "snaptrade",
          phase: "succeeded",
          at: new Date().toISOString(),
        }),
      );
      await h.nats.nc.flush();
      await eventually(() => heard, { what: "the sync event" });
      assert.equal(await quantity(), "198");

      // Written by another instance's sync with no event here: visible within a second.
      await sync("7");
      await eventually(async () => await quantity() === "14", {
        what: "the other instance's sync",
      });
      const changed = await call(h, "/api/holdings", {
        cookie,
        headers: { "if-none-match": etag },
      });
      assert.equal(changed.status, 200);
      await changed.body?.cancel();
    });
  },
);
