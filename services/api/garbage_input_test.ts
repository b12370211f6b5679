/** Garbage bodies, queries and paths never answer 5xx. */
import assert from "node:assert/strict";
import { call, connectSnaptrade, login, sanitize, withHarness } from "./testing/harness.ts";
import { seedUser } from "./testing/seed.ts";

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
