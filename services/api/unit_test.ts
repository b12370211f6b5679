import assert from "node:assert/strict";
import { ClosedConnectionError, TimeoutError } from "@nats-io/nats-core";
import { isRefusedData, isUnavailable } from "./failures.ts";
import { DEFAULT_POLICY, delayAfter } from "./login_throttle.ts";
import { portfolioMode } from "./mode.ts";
import { cookieName, readToken, sessionCookie } from "./sessions.ts";
import { decodeCursor, encodeCursor } from "./queries.ts";

Deno.test("sign-in delays double after the free failures, up to the cap", () => {
  const p = { ...DEFAULT_POLICY, freeFailures: 3, maxDelayS: 10 };
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7].map((f) => delayAfter(f, p)), [0, 0, 1, 2, 4, 8, 10]);
  assert.equal(delayAfter(1_000, p), 10);
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

Deno.test("failures: dependencies down are 503, values the database refuses are 400", () => {
  assert.ok(isUnavailable(new TimeoutError()));
  assert.ok(isUnavailable(new ClosedConnectionError()));
  assert.ok(isUnavailable(Object.assign(new Error("x"), { code: "ECONNREFUSED" })));
  assert.ok(isUnavailable(Object.assign(new Error("x"), { code: "57P01", severity: "FATAL" })));
  assert.ok(!isUnavailable(new Error("boom")));
  const pgData = (code: string) => Object.assign(new Error("x"), { code, severity: "ERROR" });
  assert.ok(isRefusedData(pgData("22021"))); // a NUL byte in text
  assert.ok(isRefusedData(pgData("22008"))); // a date out of range
  assert.ok(!isRefusedData(pgData("23505"))); // a unique violation is ours to handle
  assert.ok(!isRefusedData(Object.assign(new Error("x"), { code: "22021" }))); // not from PostgreSQL
});

Deno.test("cursors decode only to real dates and ids", () => {
  const id = crypto.randomUUID();
  const enc = (s: string) => btoa(s).replaceAll("+", "-").replaceAll("/", "_").replaceAll("=", "");
  assert.deepEqual(decodeCursor(enc(`2026-01-31|${id}`)), { date: "2026-01-31", id });
  for (const bad of ["0000-01-01", "2023-02-30", "2026-13-01"]) {
    assert.equal(decodeCursor(enc(`${bad}|${id}`)), null, bad);
  }
  assert.equal(decodeCursor(enc("2026-01-31|------------------------------------")), null);
  assert.equal(decodeCursor(enc(`2026-01-31|${id}|x`)), null);
  assert.equal(decodeCursor("!!!"), null);
});
