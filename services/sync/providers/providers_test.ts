import assert from "node:assert/strict";
import { type Clock, RateLimiter } from "./rate_limit.ts";
import { isAlpacaAuthFailure } from "./alpaca/client.ts";
import { CallRecorder, type ErrorFacts, providerCall, ProviderError } from "./call.ts";
import { isPlaidAuthFailure } from "./plaid/client.ts";
import { isSnaptradeAuthFailure } from "./snaptrade/client.ts";

function fakeClock(): Clock & { t: number } {
  const c = {
    t: 0,
    now: () => c.t,
    sleep: (ms: number) => {
      c.t += ms;
      return Promise.resolve();
    },
  };
  return c;
}

Deno.test("the limiter never grants more than `limit` in any window", async () => {
  const clock = fakeClock();
  const l = new RateLimiter(5, 1000, clock);
  const times: number[] = [];
  for (let i = 0; i < 23; i++) {
    await l.acquire();
    times.push(clock.t);
  }
  for (let i = 5; i < times.length; i++) assert.ok(times[i] - times[i - 5] >= 1000, `grant ${i}`);
  // and it does not wait needlessly: 23 grants need 4 full windows
  assert.ok(times[22] <= 4 * 1001 + 5);
});

Deno.test("providerCall records calls, retries 429 after Retry-After, and hides URLs", async () => {
  const rec = new CallRecorder();
  const l = new RateLimiter(100, 1000);
  const waits: number[] = [];
  let n = 0;
  const out = await providerCall(
    {
      provider: "plaid",
      limiter: l,
      authFailure: isPlaidAuthFailure,
      recorder: rec,
      sleep: (ms) => (waits.push(ms), Promise.resolve()),
    },
    "op",
    () => {
      n++;
      if (n === 1) {
        return Promise.reject({
          response: { status: 429, headers: { "retry-after": "2" }, data: {} },
        });
      }
      return Promise.resolve("ok");
    },
  );
  assert.equal(out, "ok");
  assert.deepEqual(rec.calls.map((c) => c.status), [429, 200]);
  assert.ok(waits[0] >= 2000 && waits[0] < 3100);
  await assert.rejects(
    providerCall(
      { provider: "snaptrade", limiter: l, authFailure: isSnaptradeAuthFailure, recorder: rec },
      "listUserAccounts",
      () =>
        Promise.reject({
          status: 401,
          message: "failed https://x/accounts?userSecret=SECRET123",
          responseBody: { detail: "see https://x/?userSecret=SECRET123", code: "1076" },
        }),
    ),
    (e: unknown) => {
      assert.ok(e instanceof ProviderError);
      assert.equal(e.auth, true);
      assert.ok(!e.message.includes("SECRET123"));
      return true;
    },
  );
  assert.equal(rec.count, 3);
});

Deno.test("each provider says which of its failures mean the person must reconnect", () => {
  const f = (status: number | null, code: string | null = null): ErrorFacts => ({
    status,
    code,
    detail: "",
    retryAfterMs: null,
  });
  for (const facts of [f(401), f(402), f(400, "3003")]) assert.ok(isSnaptradeAuthFailure(facts));
  for (const facts of [f(503, "3002"), f(429), f(404)]) assert.ok(!isSnaptradeAuthFailure(facts));
  for (
    const code of [
      "ITEM_LOGIN_REQUIRED",
      "INVALID_ACCESS_TOKEN",
      "ITEM_NOT_FOUND",
      "ACCESS_NOT_GRANTED",
      "PENDING_EXPIRATION",
      "USER_PERMISSION_REVOKED",
    ]
  ) assert.ok(isPlaidAuthFailure(f(400, code)), code);
  // Plaid says why in its error code, whatever the status.
  for (const facts of [f(401), f(400, "INVALID_INPUT")]) assert.ok(!isPlaidAuthFailure(facts));
  for (const facts of [f(401), f(403)]) assert.ok(isAlpacaAuthFailure(facts));
  for (const facts of [f(404), f(422), f(null)]) assert.ok(!isAlpacaAuthFailure(facts));
});
