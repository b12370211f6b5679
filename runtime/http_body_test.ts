import assert from "node:assert/strict";
import { BodyError, readBody } from "./http_body.ts";

const enc = new TextEncoder();

/** A request whose body sends `parts` one by one, `gapMs` apart. */
function slowRequest(parts: string[], gapMs: number, headers: Record<string, string> = {}) {
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const body = new ReadableStream<Uint8Array>({
    async pull(c) {
      const next = parts.shift();
      if (next === undefined) return c.close();
      await new Promise((r) => timers.add(setTimeout(r, gapMs)));
      c.enqueue(enc.encode(next));
    },
    cancel() {
      for (const t of timers) clearTimeout(t);
    },
  });
  return new Request("http://x/", { method: "POST", body, headers });
}

Deno.test("readBody: without a deadline a slow body is read whole, as before", async () => {
  const bytes = await readBody(slowRequest(["a", "b", "c"], 20), 10);
  assert.equal(new TextDecoder().decode(bytes), "abc");
});

Deno.test("readBody: a body not in by its deadline is a 408, with or without Content-Length", async () => {
  for (const headers of [{}, { "content-length": "40" }] as Record<string, string>[]) {
    const signal = AbortSignal.timeout(100);
    const started = Date.now();
    const e = await readBody(slowRequest(Array(40).fill("x"), 50, headers), 1000, { signal })
      .then(() => null, (e) => e);
    assert.ok(e instanceof BodyError);
    assert.equal(e.status, 408);
    assert.equal(e.reason, "body_timeout");
    assert.ok(Date.now() - started < 40 * 50, "cut off before the body could finish");
  }
  // In time: the whole body, and the limit still applies.
  const bytes = await readBody(slowRequest(["a", "b"], 5), 10, {
    signal: AbortSignal.timeout(5_000),
  });
  assert.equal(bytes.length, 2);
  const big = await readBody(slowRequest(["abc", "def"], 5), 4, {
    signal: AbortSignal.timeout(5_000),
  })
    .then(() => null, (e) => e);
  assert.equal(big?.status, 413);
});
