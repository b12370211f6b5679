import assert from "node:assert/strict";
import { RollingLimit } from "./rolling_limit.ts";

Deno.test("RollingLimit: counts per key, refuses at the limit, frees as the minute rolls", () => {
  const l = new RollingLimit(2);
  assert.deepEqual(l.take("a", 1_000), { allowed: true, remaining: 1, resetSeconds: 60 });
  assert.deepEqual(l.take("a", 31_000), { allowed: true, remaining: 0, resetSeconds: 30 });
  assert.deepEqual(l.take("a", 40_000), { allowed: false, remaining: 0, resetSeconds: 21 });
  assert.equal(l.take("b", 40_000).allowed, true);
  // The first request left the window at 61 000; a refused one was never counted.
  assert.deepEqual(l.take("a", 61_001), { allowed: true, remaining: 0, resetSeconds: 30 });
});

Deno.test("RollingLimit: a shorter window (one trade a second per account)", () => {
  const l = new RollingLimit(1, 1_000);
  assert.deepEqual(l.take("acct", 10_000), { allowed: true, remaining: 0, resetSeconds: 1 });
  assert.deepEqual(l.take("acct", 10_400), { allowed: false, remaining: 0, resetSeconds: 1 });
  assert.equal(l.take("other", 10_400).allowed, true);
  assert.equal(l.take("acct", 11_000).allowed, true, "free once the second has passed");
});
