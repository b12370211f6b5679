import assert from "node:assert/strict";
import { WebhookEventId, webhookEventId } from "@meridian/proto";
import { plaidJwt, plaidKey } from "./test_signing.ts";
import { type PlaidJwk, PlaidVerifier, TokenBucket, type Verdict } from "./verify.ts";

const b64url = (o: unknown) =>
  btoa(JSON.stringify(o)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");

/** A JWT header naming `kid`, with no valid signature: enough to make the relay look it up. */
const claimKid = (kid: string) =>
  new Headers({ "Plaid-Verification": `${b64url({ alg: "ES256", kid })}.e30.c2ln` });

const body = new TextEncoder().encode("{}");

/** A key endpoint that counts its calls and knows `keys`. */
function countingFetcher(keys: PlaidJwk[] = []) {
  const calls: string[] = [];
  const fetch = (kid: string) => {
    calls.push(kid);
    return Promise.resolve(keys.find((k) => k.kid === kid) ?? null);
  };
  return { calls, fetch };
}

const refused = (v: Verdict) => (v.ok ? null : v);

Deno.test("event ids: one rule maps any provider id to a safe, distinct, stable key", () => {
  for (const id of ["0b7c4f5e-9a53-4c1e-8d7a-3c2f1e0d9b8a", "a".repeat(64), "x".repeat(128)]) {
    assert.equal(webhookEventId(id), id, "a safe id is kept");
  }
  const tricky = [
    "a\u0000x",
    "a\u0000y",
    "a\u0000",
    "a",
    "\ud800",
    "\ud801",
    "\ufffd",
    "\ud83d\ude00",
    "with space",
    "line\nbreak",
    "x".repeat(129),
    "~not-a-hash",
    "é",
    "e\u0301",
  ];
  const keys = tricky.map(webhookEventId);
  assert.equal(new Set(keys).size, tricky.length, "distinct ids get distinct keys");
  for (const [i, key] of keys.entries()) {
    assert.ok(WebhookEventId.safeParse(key).success, `key of ${JSON.stringify(tricky[i])}`);
    assert.equal(webhookEventId(key), key, "the rule is idempotent");
    assert.equal(webhookEventId(tricky[i]), key, "and stable");
  }
  // The ids that differ only after a NUL no longer collapse (NATS headers cut them there).
  assert.notEqual(webhookEventId("a\u0000x"), webhookEventId("a\u0000y"));
});

Deno.test("token bucket: a burst, then the refill rate; the wait is exact", () => {
  const b = new TokenBucket(3, 12);
  for (let i = 0; i < 3; i++) assert.equal(b.take(1_000), 0);
  assert.equal(b.take(1_000), 5_000, "12 per minute: one every 5 s");
  assert.equal(b.take(3_500), 2_500);
  assert.equal(b.take(6_000), 0);
  assert.ok(b.take(6_000) > 0);
  // A clock that steps back refills nothing.
  assert.ok(b.take(0) > 0);
  for (let i = 0; i < 3; i++) assert.equal(b.take(600_000), 0, "refilled up to the burst");
  assert.ok(b.take(600_000) > 0);
});

Deno.test("Plaid: unknown kids cost at most the key-fetch budget; beyond it 503 with Retry-After", async () => {
  const f = countingFetcher();
  const v = new PlaidVerifier(f.fetch, { burst: 5, perMinute: 12 });
  const t0 = 1_800_000_000_000;
  const first = await Promise.all(
    Array.from({ length: 200 }, (_, i) => v.verify(claimKid(`kid-${i}`), body, t0)),
  );
  assert.equal(f.calls.length, 5, "200 unsigned requests with new kids: 5 key fetches");
  const statuses = first.map((r) => refused(r)!.status);
  assert.equal(statuses.filter((s) => s === 401).length, 5);
  const spent = first.map(refused).filter((r) => r!.status === 503);
  assert.equal(spent.length, 195);
  for (const r of spent) {
    assert.equal(r!.reason, "key_budget");
    assert.equal(r!.retryAfterS, 5);
  }
  // The same kids again: the known-unknown ones cost nothing, the others wait for the budget.
  await Promise.all(
    Array.from({ length: 200 }, (_, i) => v.verify(claimKid(`kid-${i}`), body, t0)),
  );
  assert.equal(f.calls.length, 5);
  // A minute later: 12 more fetches at most (the burst is capped at 5 at any instant).
  let fetched = 0;
  for (let s = 1; s <= 60; s++) {
    await Promise.all(
      Array.from(
        { length: 20 },
        (_, i) => v.verify(claimKid(`late-${s}-${i}`), body, t0 + s * 1000),
      ),
    );
    fetched = f.calls.length - 5;
  }
  assert.ok(fetched >= 11 && fetched <= 13, `fetched ${fetched} in a minute`);
});

Deno.test("Plaid: a malformed kid is refused before any fetch", async () => {
  const f = countingFetcher();
  const v = new PlaidVerifier(f.fetch);
  for (const kid of ["", "a b", "../keys", "a".repeat(129), "k\u0000", "clé", "{}", "a/b"]) {
    const r = refused(await v.verify(claimKid(kid), body, Date.now()));
    assert.equal(r?.status, 401, JSON.stringify(kid));
  }
  const numeric = new Headers({
    "Plaid-Verification": `${b64url({ alg: "ES256", kid: 7 })}.e30.c2ln`,
  });
  assert.equal(refused(await v.verify(numeric, body, Date.now()))?.status, 401);
  assert.deepEqual(f.calls, []);
});

Deno.test("Plaid: known keys cost no fetch; cached keys are refreshed at most once per interval", async () => {
  const good = await plaidKey();
  const f = countingFetcher([good.jwk as PlaidJwk]);
  const v = new PlaidVerifier(f.fetch, { burst: 5, perMinute: 60, refreshIntervalMs: 600_000 });
  const t0 = Date.now();
  const signed = async (at: number) => {
    const jwt = await plaidJwt(body, good, { iat: Math.floor(at / 1000) });
    return await v.verify(new Headers({ "Plaid-Verification": jwt }), body, at);
  };
  assert.equal((await signed(t0)).ok, true);
  for (let i = 0; i < 20; i++) assert.equal((await signed(t0)).ok, true);
  assert.deepEqual(f.calls, [good.kid], "fetched once, then cached");

  const goodFetches = () => f.calls.filter((k) => k === good.kid).length;
  // Unknown kids for five minutes: no refresh, as the key was fetched less than 10 min ago.
  for (let s = 0; s < 300; s += 10) await v.verify(claimKid(`new-${s}`), body, t0 + s * 1000);
  assert.equal(goodFetches(), 1);
  // After the interval, the next unknown kid refreshes it, once.
  for (let s = 601; s < 700; s += 10) await v.verify(claimKid(`later-${s}`), body, t0 + s * 1000);
  assert.equal(goodFetches(), 2);
});
