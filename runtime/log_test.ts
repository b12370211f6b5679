import assert from "node:assert/strict";
import { createLogger, registerSecret, setLogSink } from "./log.ts";

Deno.test("secret-looking keys and registered values never reach the output", () => {
  const lines: string[] = [];
  const previous = setLogSink((l) => lines.push(l));
  try {
    registerSecret("canary-user-secret-5f1e");
    const log = createLogger("test");
    log.info("calling provider with canary-user-secret-5f1e", {
      userSecret: "abc",
      access_token: "access-sandbox-1",
      nested: { Authorization: "Bearer x", note: "value canary-user-secret-5f1e here" },
      error: new Error("boom canary-user-secret-5f1e"),
      count: 3,
    });
    const out = lines.join("\n");
    assert.doesNotMatch(out, /canary-user-secret-5f1e|access-sandbox-1|Bearer x|"abc"/);
    const entry = JSON.parse(lines[0]);
    assert.equal(entry.count, 3);
    assert.equal(entry.service, "test");
    assert.equal(entry.userSecret, "[redacted]");
  } finally {
    setLogSink(previous);
  }
});

Deno.test("levels below the threshold are dropped", () => {
  const lines: string[] = [];
  const previous = setLogSink((l) => lines.push(l));
  try {
    const log = createLogger("test", "warn");
    log.info("quiet");
    log.warn("loud");
    assert.equal(lines.length, 1);
  } finally {
    setLogSink(previous);
  }
});
