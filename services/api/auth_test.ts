/** Sign-up, sign-in, sessions and cookies, the throttle, forwarded headers from trusted proxies only, and CSRF. */
import assert from "node:assert/strict";
import { DEFAULT_POLICY } from "./login_throttle.ts";
import {
  call,
  type Harness,
  json,
  login,
  sanitize,
  sessionFrom,
  withHarness,
} from "./testing/harness.ts";
import { seedUser } from "./testing/seed.ts";

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
    // The error reads as sentences: what to fix, not zod's codes.
    assert.equal(
      badBody.error,
      "Your email address must be a valid email address. Use a password of at least 10 characters.",
    );
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

/** A sign-in attempt from `peer`, as the throttle sees it. */
const signIn = (h: Harness) => (email: string, password: string, peer: string) =>
  call(h, "/api/auth/login", { method: "POST", peer, body: { email, password } });

/** The statuses of requests sent at once. */
const statuses = async (responses: Promise<Response>[]) =>
  await Promise.all(responses.map(async (r) => {
    const res = await r;
    await res.body?.cancel();
    return res.status;
  }));

Deno.test(
  "sign-in limits hold against parallel attempts, with growing delays and no lockout",
  sanitize,
  async () => {
    await withHarness(async (h) => {
      const a = await seedUser(h.sql, "a@example.com");
      const attempt = signIn(h);

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
      const attempt = signIn(h);
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
