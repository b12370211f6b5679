import assert from "node:assert/strict";
import { eventually } from "./testing/mod.ts";
import { type HttpHandler, serveDeno, serveNodeHttp } from "./http_server.ts";
import { type EventSink, readableEventStream } from "./event_stream.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

for (const [name, serve] of [["Deno.serve", serveDeno], ["node:http", serveNodeHttp]] as const) {
  Deno.test(`${name}: an event stream waits for a slow client, drains, and sees it leave`, async () => {
    let sink: EventSink | undefined;
    let drains = 0;
    let gone = false;
    const handler: HttpHandler = (_req, info) => {
      const open = info.openEventStream ?? readableEventStream;
      const stream = open({ "content-type": "text/event-stream", "x-test": "yes" });
      stream.sink.onDrain(() => drains++);
      stream.sink.onClose(() => void (gone = true));
      stream.sink.write(enc.encode("data: hi\n\n"));
      sink = stream.sink;
      return stream.response;
    };
    const server = await serve({ port: 0, hostname: "127.0.0.1" }, handler);
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
    await conn.write(enc.encode("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n"));
    let received = "";
    const buf = new Uint8Array(64 * 1024);
    while (!received.includes("data: hi\n\n")) {
      const n = await conn.read(buf);
      assert.ok(n !== null, "the stream ended early");
      received += dec.decode(buf.subarray(0, n));
    }
    assert.match(received, /^HTTP\/1\.1 200/);
    assert.match(received, /\r\nx-test: yes\r\n/i);
    if (name === "node:http") {
      // Written as it is, without chunk framing: the body ends where the connection closes.
      assert.doesNotMatch(received, /transfer-encoding/i);
      assert.match(received, /\r\nconnection: close\r\n/i);
    }
    assert.ok(sink);

    // The client reads nothing: writes soon report that it must wait.
    const block = new Uint8Array(64 * 1024).fill(0x61);
    let written = 0;
    while (sink.write(block)) {
      written++;
      assert.ok(written < 1024, "the sink never reported a slow client");
    }
    assert.equal(sink.ready, false);
    assert.ok(sink.backlog > 0);

    // It reads again: the sink drains, and a later frame arrives whole.
    let tail = "";
    const reading = (async () => {
      for (;;) {
        const n = await conn.read(buf).catch(() => null);
        if (n === null) return;
        tail = (tail + dec.decode(buf.subarray(0, n))).slice(-64);
      }
    })();
    await eventually(() => drains > 0 && sink!.ready, { what: "the sink to drain" });
    sink.write(enc.encode("data: end\n\n"));
    await eventually(() => tail.includes("data: end\n\n"), { what: "the last frame" });

    conn.close();
    await reading;
    await eventually(() => gone, { what: "the client's leaving to be seen" });
    await server.shutdown(100);
  });
}
