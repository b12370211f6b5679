import assert from "node:assert/strict";
import { createLogger } from "./log.ts";
import { Shutdown } from "./shutdown.ts";

Deno.test("shutdown runs steps newest first, once, and aborts its signal", async () => {
  const order: string[] = [];
  const s = new Shutdown(createLogger("test", "error"), 1_000);
  s.add("database", () => order.push("database"));
  s.add("nats", () => order.push("nats"));
  s.add("http", () => order.push("http"));
  await Promise.all([s.run(), s.run()]);
  assert.deepEqual(order, ["http", "nats", "database"]);
  assert.equal(s.signal.aborted, true);
});

Deno.test("a hanging step cannot hold shutdown past the deadline", async () => {
  const s = new Shutdown(createLogger("test", "error"), 200);
  let later = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  s.add("last", () => (later = true));
  s.add("hangs", () => new Promise((r) => (timer = setTimeout(r, 5_000))));
  const started = Date.now();
  await s.run();
  clearTimeout(timer);
  assert.ok(Date.now() - started < 1_000);
  assert.equal(later, false, "steps after the deadline are skipped");
});
