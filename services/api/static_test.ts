/** The dashboard's files: CSP, caching, and JSON 404s under /api. */
import assert from "node:assert/strict";
import { sanitize, withHarness } from "./testing/harness.ts";

Deno.test("dashboard is served with a CSP, and 404s stay JSON under /api", sanitize, async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/index.html`, "<!doctype html><title>Meridian</title>");
  await Deno.writeTextFile(`${dir}/app-ABCDEFGH.js`, "console.log(1)");
  const { createApp } = await import("./app.ts");
  await withHarness(async (h) => {
    const app = createApp({
      sql: h.sql,
      js: h.js,
      log: (await import("@meridian/runtime")).createLogger("t", "error"),
      config: {
        PUBLIC_URL: "http://127.0.0.1:8080",
        ALLOW_SIGNUP: true,
        REFRESH_COOLDOWN_S: 60,
        HOLDINGS_TTL_H: 24,
      },
      connections: {} as never,
      webDist: dir,
    });
    const index = await app.request("/connections");
    assert.equal(index.status, 200);
    assert.match(index.headers.get("content-security-policy")!, /default-src 'self'/);
    assert.match(await index.text(), /Meridian/);
    const js = await app.request("/app-ABCDEFGH.js");
    assert.match(js.headers.get("content-type")!, /javascript/);
    assert.match(js.headers.get("cache-control")!, /immutable/);
    assert.equal((await app.request("/../../etc/passwd")).status, 200); // normalised to index
    assert.equal((await app.request("/missing.js")).status, 404);
    assert.equal((await app.request("/api/nothing")).status, 401);
    await app.hub.close();
  });
});
