/**
 * Bounded waits on a shared limiter and the per-key limiter, on fake time: a person waiting on
 * a provider call is told when to come back instead of queueing behind everyone, and one key
 * cannot take more than its share.
 */
import assert from "node:assert/strict";
import FakeTimers from "@sinonjs/fake-timers";
import { providerCall } from "./call.ts";
import { INTERACTIVE } from "./config.ts";
import { isPlaidAuthFailure } from "./plaid/client.ts";
import { KeyedLimiter, RateLimitedError, RateLimiter } from "./rate_limit.ts";

type FakeClock = ReturnType<typeof FakeTimers.install>;

/** Runs `fn` with Date and timers faked from t = 0. */
async function onFakeTime(fn: (clock: FakeClock) => Promise<void>) {
  const clock = FakeTimers.install({ now: 0 });
  try {
    await fn(clock);
  } finally {
    clock.uninstall();
  }
}

/** Settles `p` into what happened, so a test can look without awaiting it. */
function track(p: Promise<void>) {
  const out: { state: "pending" | "granted" | "refused"; error?: unknown } = { state: "pending" };
  p.then(() => out.state = "granted", (e) => {
    out.state = "refused";
    out.error = e;
  });
  return out;
}

function refusedFor(e: unknown, scope: "user" | "provider", ms: number) {
  assert.ok(e instanceof RateLimitedError, String(e));
  assert.equal(e.scope, scope);
  assert.equal(e.retryAfterMs, ms);
}

Deno.test("a bounded acquire on a full window fails at once, takes no slot, says when", async () => {
  await onFakeTime(async (clock) => {
    const l = new RateLimiter(3, 1000);
    for (let i = 0; i < 3; i++) await l.acquire();
    await clock.tickAsync(400);
    // The first grant leaves the window at t = 1000, 600 ms from now.
    await assert.rejects(
      l.acquire({ maxWaitMs: 500 }),
      (e) => (refusedFor(e, "provider", 600), true),
    );
    assert.equal(l.inWindow(), 3, "the refused call took no slot");
    // Within the bound it waits as before.
    const within = track(l.acquire({ maxWaitMs: 600 }));
    await clock.tickAsync(599);
    assert.equal(within.state, "pending");
    await clock.tickAsync(1);
    assert.equal(within.state, "granted");
  });
});

Deno.test("a bounded acquire counts everyone queued ahead of it", async () => {
  await onFakeTime(async (clock) => {
    const l = new RateLimiter(2, 1000);
    await l.acquire();
    await l.acquire();
    // Two background callers wait (unbounded) for the slots freeing at t = 1000.
    const background = [track(l.acquire()), track(l.acquire())];
    // So the next slot is at t = 2000: beyond a 1500 ms bound, within a 2000 ms one.
    await assert.rejects(
      l.acquire({ maxWaitMs: 1500 }),
      (e) => (refusedFor(e, "provider", 2000), true),
    );
    const patient = track(l.acquire({ maxWaitMs: 2000 }));
    await clock.tickAsync(1000);
    assert.deepEqual(background.map((b) => b.state), ["granted", "granted"]);
    assert.equal(patient.state, "pending");
    await clock.tickAsync(1000);
    assert.equal(patient.state, "granted");
  });
});

Deno.test("a pause that pushes a bounded waiter past its bound refuses it at once", async () => {
  await onFakeTime(async (clock) => {
    const l = new RateLimiter(1, 1000);
    await l.acquire();
    const bounded = track(l.acquire({ maxWaitMs: 1500 })); // planned for t = 1000
    const unbounded = track(l.acquire()); // planned for t = 2000
    await clock.tickAsync(100);
    l.pause(5000); // a provider's Retry-After: nothing before t = 5100
    await clock.tickAsync(0);
    assert.equal(bounded.state, "refused");
    refusedFor(bounded.error, "provider", 5000);
    assert.equal(unbounded.state, "pending");
    await clock.tickAsync(4999);
    assert.equal(unbounded.state, "pending");
    await clock.tickAsync(1);
    assert.equal(unbounded.state, "granted", "the background caller still gets its slot");
  });
});

Deno.test("unbounded callers keep waiting as long as it takes, in order", async () => {
  await onFakeTime(async (clock) => {
    const l = new RateLimiter(2, 1000);
    const order: number[] = [];
    const all = Array.from({ length: 7 }, (_, i) => l.acquire().then(() => order.push(i)));
    await clock.tickAsync(3000);
    await Promise.all(all);
    assert.deepEqual(order, [0, 1, 2, 3, 4, 5, 6]);
    assert.equal(Date.now(), 3000);
  });
});

Deno.test("providerCall with a bound does not sleep out a long Retry-After", async () => {
  await onFakeTime(async () => {
    const l = new RateLimiter(100, 60_000);
    let calls = 0;
    const sleeps: number[] = [];
    await assert.rejects(
      providerCall(
        {
          provider: "plaid",
          limiter: l,
          authFailure: isPlaidAuthFailure,
          maxWaitMs: INTERACTIVE.maxWaitMs,
          sleep: (ms) => (sleeps.push(ms), Promise.resolve()),
        },
        "linkTokenCreate",
        () => {
          calls++;
          return Promise.reject({
            response: { status: 429, headers: { "retry-after": "30" }, data: {} },
          });
        },
      ),
      (e) => {
        assert.ok(e instanceof RateLimitedError);
        assert.equal(e.scope, "provider");
        assert.ok(e.retryAfterMs >= 30_000 && e.retryAfterMs <= 31_000, String(e.retryAfterMs));
        return true;
      },
    );
    assert.equal(calls, 1);
    assert.deepEqual(sleeps, [], "it never slept");
    // Everyone else still honours the provider's Retry-After.
    await assert.rejects(l.acquire({ maxWaitMs: 29_000 }), RateLimitedError);
  });
});

Deno.test("the keyed limiter holds each key to its limit and says when to retry", async () => {
  await onFakeTime(async (clock) => {
    const l = new KeyedLimiter(3, 60_000);
    for (let i = 0; i < 3; i++) {
      l.take("b");
      await clock.tickAsync(1000);
    }
    // b's first grant (t = 0) leaves the window at t = 60 000; it is t = 3000 now.
    assert.throws(() => l.take("b"), (e) => (refusedFor(e, "user", 57_000), true));
    l.take("a"); // another key is not affected
    // Refused attempts are not counted: b is free again as soon as its oldest grant expires.
    for (let i = 0; i < 50; i++) assert.throws(() => l.take("b"), RateLimitedError);
    await clock.tickAsync(57_000);
    l.take("b");
    assert.throws(() => l.take("b"), (e) => (refusedFor(e, "user", 1000), true));
  });
});

Deno.test("the keyed limiter forgets idle keys", async () => {
  await onFakeTime(async (clock) => {
    const l = new KeyedLimiter(1, 1000);
    for (let i = 0; i < 5000; i++) l.take(`user-${i}`);
    await clock.tickAsync(1000);
    // Every earlier key is idle now: new keys sweep them out instead of adding to them.
    for (let i = 0; i < 5000; i++) l.take(`later-${i}`);
    assert.equal(l.size, 5000);
    // A forgotten key is as good as new; a live one is still held to its limit.
    l.take("user-0");
    assert.throws(() => l.take("later-4999"), RateLimitedError);
  });
});

Deno.test("Retry-After seconds round up and are at least one", () => {
  assert.equal(new RateLimitedError("user", 1).retryAfterS, 1);
  assert.equal(new RateLimitedError("user", 1000).retryAfterS, 1);
  assert.equal(new RateLimitedError("provider", 1001).retryAfterS, 2);
  assert.equal(new RateLimitedError("provider", 0).retryAfterS, 1);
});
