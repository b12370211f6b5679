import assert from "node:assert/strict";
import { CONFIG_EXIT_CODE, LinePrefixer, RestartPolicy, shouldRestart } from "./supervisor.ts";

Deno.test("restart backoff doubles to a ceiling and resets after stable running", () => {
  const p = new RestartPolicy(1_000, 30_000, 30_000);
  assert.deepEqual([0, 0, 0, 0, 0, 0, 0].map(() => p.nextDelay(100)), [
    1000,
    2000,
    4000,
    8000,
    16000,
    30000,
    30000,
  ]);
  assert.equal(p.nextDelay(45_000), 1000);
});

Deno.test("configuration errors and shutdown are never restarted", () => {
  assert.equal(shouldRestart(1, false), true);
  assert.equal(shouldRestart(CONFIG_EXIT_CODE, false), false);
  assert.equal(shouldRestart(1, true), false);
});

Deno.test("lines are prefixed whole, across chunk boundaries and multi-byte characters", () => {
  const out: string[] = [];
  const p = new LinePrefixer("[api] ", (l) => out.push(l));
  const bytes = new TextEncoder().encode("hello wor");
  p.push(bytes);
  p.push(new TextEncoder().encode("ld\n€uro"));
  const euro = new TextEncoder().encode("€\n");
  p.push(euro.subarray(0, 1));
  p.push(euro.subarray(1));
  p.push(new TextEncoder().encode("tail"));
  p.flush();
  assert.deepEqual(out, ["[api] hello world", "[api] €uro€", "[api] tail"]);
});
