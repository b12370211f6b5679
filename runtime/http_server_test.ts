import assert from "node:assert/strict";
import { eventually } from "./testing/mod.ts";
import { type HttpHandler, serveDeno, serveNodeHttp } from "./http_server.ts";

for (const [name, serve] of [["Deno.serve", serveDeno], ["node:http", serveNodeHttp]] as const) {
  Deno.test(`${name}: the peer as env, a stream cancelled when its client leaves, shutdown`, async () => {
    let cancelled = false;
    const handler: HttpHandler = (req, info) => {
      if (new URL(req.url).pathname === "/peer") return Response.json(info.remoteAddr.hostname);
      if (req.method === "POST") return req.bytes().then((b) => new Response(b.reverse()));
      const body = new ReadableStream<Uint8Array>({
        start: (c) => c.enqueue(new TextEncoder().encode("data: hi\n\n")),
        cancel: () => void (cancelled = true),
      });
      return new Response(body, { headers: { "content-type": "text/event-stream" } });
    };
    const server = await serve({ port: 0, hostname: "127.0.0.1" }, handler);
    const base = `http://127.0.0.1:${server.port}`;
    assert.equal(await (await fetch(`${base}/peer`)).json(), "127.0.0.1");
    // The app's request is a real Request: every body method reads.
    const echoed = await fetch(`${base}/echo`, { method: "POST", body: "abc" });
    assert.equal(await echoed.text(), "cba");

    const left = new AbortController();
    const stream = await fetch(`${base}/stream`, { signal: left.signal });
    const reader = stream.body!.getReader();
    assert.equal(new TextDecoder().decode((await reader.read()).value), "data: hi\n\n");
    left.abort();
    await reader.cancel().catch(() => {});
    await eventually(() => cancelled, { what: "the stream's cancel" });

    if (name === "Deno.serve") return void await server.shutdown();
    // A stream that never ends does not hold node:http's shutdown past its grace.
    const held = await fetch(`${base}/stream`);
    const heldReader = held.body!.getReader();
    await heldReader.read();
    const t0 = performance.now();
    await server.shutdown(500);
    assert.ok(performance.now() - t0 < 5_000, "shut down");
    await heldReader.cancel().catch(() => {});
  });
}
