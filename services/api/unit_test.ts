import assert from "node:assert/strict";
import { LoginLimiter, SlidingLimiter } from "./rate_limit.ts";
import { portfolioMode } from "./mode.ts";
import { cookieName, readToken, sessionCookie } from "./sessions.ts";
import { decodeCursor, encodeCursor } from "./queries.ts";

Deno.test("sliding limiter: Retry-After counts down and the window slides", () => {
  let now = 0;
  const l = new SlidingLimiter({ max: 2, windowMs: 10_000 }, () => now);
  l.hit("k");
  now = 4_000;
  l.hit("k");
  assert.equal(l.retryAfterS("k"), 6);
  now = 10_001;
  assert.equal(l.retryAfterS("k"), 0);
  l.hit("k");
  assert.equal(l.retryAfterS("k"), 4);
});

Deno.test("login limiter: failures lock the account, success resets it", () => {
  let now = 0;
  const l = new LoginLimiter({
    account: { max: 2, windowMs: 60_000 },
    address: { max: 100, windowMs: 60_000 },
    now: () => now,
  });
  l.record("a", "ip", false);
  l.record("a", "ip", true);
  l.record("a", "ip", false);
  assert.equal(l.check("a", "ip"), 0);
  l.record("a", "ip", false);
  assert.ok(l.check("a", "ip") > 0);
  assert.equal(l.check("b", "ip"), 0);
  now += 60_001;
  assert.equal(l.check("a", "ip"), 0);
});

Deno.test("portfolio mode from connections", () => {
  assert.equal(portfolioMode([]), "none");
  assert.equal(portfolioMode([{ access: "trade", status: "active" }]), "brokerage");
  assert.equal(portfolioMode([{ access: "read", status: "error" }]), "aggregation");
  assert.equal(
    portfolioMode([{ access: "read", status: "active" }, { access: "trade", status: "active" }]),
    "hybrid",
  );
  assert.equal(portfolioMode([{ access: "trade", status: "disabled" }]), "none");
});

Deno.test("session cookie attributes and parsing", () => {
  assert.equal(cookieName(true), "__Host-meridian_session");
  const secure = sessionCookie("t".repeat(43), true);
  assert.match(
    secure,
    /^__Host-meridian_session=t{43}; Path=\/; HttpOnly; SameSite=Lax; Max-Age=\d+; Secure$/,
  );
  assert.doesNotMatch(sessionCookie("t".repeat(43), false), /Secure/);
  assert.match(sessionCookie(null, false), /Max-Age=0/);
  assert.equal(readToken(`a=b; meridian_session=${"x".repeat(43)}`, false), "x".repeat(43));
  assert.equal(readToken(`meridian_session=${"x".repeat(43)}`, true), undefined);
  assert.equal(readToken("meridian_session=<script>", false), undefined);
});

Deno.test("transaction cursors round-trip and reject foreign input", () => {
  const id = crypto.randomUUID();
  assert.deepEqual(decodeCursor(encodeCursor("2026-01-15", id)), { date: "2026-01-15", id });
  assert.equal(decodeCursor("bm90IGEgY3Vyc29y"), null);
  assert.equal(decodeCursor("%%%"), null);
});
