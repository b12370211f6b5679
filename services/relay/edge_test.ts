import assert from "node:assert/strict";
import { eventually } from "@meridian/runtime/testing";
import { Edge } from "./edge.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** An HTTP server as the relay runs one behind its edge, recording each request's client. */
function upstream(clientOf: (info: Deno.ServeHandlerInfo) => string | null) {
  const clients: (string | null)[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (req, info) => {
      clients.push(clientOf(info));
      const body = await req.bytes();
      return Response.json({ bytes: body.length });
    },
  );
  return { server, clients };
}

/** Resolves with everything the peer sent once it closes, or null if it is still open at `until`. */
async function readUntilClosed(conn: Deno.Conn, until: number): Promise<string | null> {
  const buf = new Uint8Array(4096);
  let got = "";
  for (;;) {
    const left = until - Date.now();
    if (left <= 0) return null;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const n = await Promise.race([
      conn.read(buf).catch(() => null),
      new Promise<"open">((r) => timer = setTimeout(() => r("open"), left)),
    ]);
    clearTimeout(timer);
    if (n === "open") return null;
    if (n === null) return got;
    got += dec.decode(buf.subarray(0, n));
  }
}

/** Sends `text` one byte every `everyMs` until `stop` is set or the write fails. */
async function dribble(conn: Deno.Conn, text: string, everyMs: number, stop: { done: boolean }) {
  for (let i = 0; !stop.done; i = (i + 1) % text.length) {
    try {
      await conn.write(enc.encode(text[i]));
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

Deno.test("edge: a request head dribbled byte by byte is cut off at its deadline; Deno.serve alone keeps it", async () => {
  const up = upstream(() => null);
  const edge = new Edge({ hostname: "127.0.0.1", port: 0 }, up.server.addr, {
    headDeadlineMs: 1_000,
  });
  const viaEdge = await Deno.connect({ hostname: "127.0.0.1", port: edge.addr.port });
  const bare = await Deno.connect({ hostname: "127.0.0.1", port: up.server.addr.port });
  const stop = { done: false };
  const head = "POST /webhooks/plaid HTTP/1.1\r\nHost: relay\r\nX-Slow: " + "a".repeat(1000);
  const dribbling = [dribble(viaEdge, head, 100, stop), dribble(bare, head, 100, stop)];
  try {
    const until = Date.now() + 4_000;
    const edgeAnswer = await readUntilClosed(viaEdge, until);
    assert.ok(edgeAnswer !== null, "the edge closed the connection");
    assert.match(edgeAnswer, /^HTTP\/1\.1 408 /);
    // The same client straight to Deno.serve: still open well past the deadline (hyper has no
    // header timer), which is why the relay listens through the edge.
    assert.equal(await readUntilClosed(bare, until), null, "Deno.serve closed it by itself");
    assert.equal(up.clients.length, 0);
  } finally {
    stop.done = true;
    await Promise.all(dribbling);
    viaEdge.close();
    bare.close();
    await edge.close();
    await up.server.shutdown();
  }
});

Deno.test("edge: a silent connection is closed at the head deadline, an idle keep-alive one at the idle timeout", async () => {
  const up = upstream(() => null);
  const edge = new Edge({ hostname: "127.0.0.1", port: 0 }, up.server.addr, {
    headDeadlineMs: 500,
    idleTimeoutMs: 1_500,
  });
  const silent = await Deno.connect({ hostname: "127.0.0.1", port: edge.addr.port });
  const kept = await Deno.connect({ hostname: "127.0.0.1", port: edge.addr.port });
  try {
    // Three requests on one keep-alive connection pass through, each answered.
    const buf = new Uint8Array(4096);
    for (let i = 0; i < 3; i++) {
      await kept.write(
        enc.encode(`POST /x HTTP/1.1\r\nHost: relay\r\nContent-Length: 3\r\n\r\nabc`),
      );
      const n = await kept.read(buf);
      assert.match(dec.decode(buf.subarray(0, n!)), /^HTTP\/1\.1 200 [^]*\{"bytes":3\}$/);
    }
    const start = Date.now();
    assert.match((await readUntilClosed(silent, start + 5_000)) ?? "", /^HTTP\/1\.1 408 /);
    // The answered connection outlives the head deadline: it waits for the idle timeout.
    assert.equal(await readUntilClosed(kept, start + 800), null);
    assert.equal(await readUntilClosed(kept, start + 5_000), "");
  } finally {
    silent.close();
    kept.close();
    await edge.close();
    await up.server.shutdown();
  }
});

Deno.test("edge: a client over its connection limit gets 429; the server learns each request's client", async () => {
  const up = upstream((info) => edge.peerOf(info));
  // Loopback clients are unlimited by default; here they count, to exercise the limit.
  const edge = new Edge({ hostname: "127.0.0.1", port: 0 }, up.server.addr, {
    maxConnectionsPerClient: 2,
    unlimited: () => false,
  });
  const conns: Deno.Conn[] = [];
  try {
    for (let i = 0; i < 3; i++) {
      conns.push(await Deno.connect({ hostname: "127.0.0.1", port: edge.addr.port }));
    }
    const third = await readUntilClosed(conns[2], Date.now() + 5_000);
    assert.match(third ?? "", /^HTTP\/1\.1 429 [^]*Retry-After: 1/);
    const buf = new Uint8Array(4096);
    await conns[0].write(enc.encode("GET /x HTTP/1.1\r\nHost: relay\r\n\r\n"));
    assert.match(dec.decode(buf.subarray(0, (await conns[0].read(buf))!)), /^HTTP\/1\.1 200 /);
    assert.deepEqual(up.clients, ["127.0.0.1"]);
    // A slot frees when a connection closes.
    conns[1].close();
    conns.splice(1, 2);
    await eventually(async () => {
      const c = await Deno.connect({ hostname: "127.0.0.1", port: edge.addr.port });
      await c.write(enc.encode("GET /x HTTP/1.1\r\nHost: relay\r\nConnection: close\r\n\r\n"));
      const answer = (await readUntilClosed(c, Date.now() + 5_000)) ?? "";
      c.close();
      return answer.startsWith("HTTP/1.1 200");
    }, { what: "a connection accepted again" });
  } finally {
    for (const c of conns) c.close();
    await edge.close();
    await up.server.shutdown();
  }
});

Deno.test("edge: a body after 100 Continue is not taken for a head", async () => {
  const up = upstream(() => null);
  const edge = new Edge({ hostname: "127.0.0.1", port: 0 }, up.server.addr, {
    maxHeadBytes: 1024,
  });
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: edge.addr.port });
  try {
    const size = 200_000;
    await conn.write(enc.encode(
      `POST /x HTTP/1.1\r\nHost: relay\r\nExpect: 100-continue\r\nContent-Length: ${size}\r\n` +
        "Connection: close\r\n\r\n",
    ));
    const buf = new Uint8Array(4096);
    const interim = dec.decode(buf.subarray(0, (await conn.read(buf))!));
    assert.match(interim, /^HTTP\/1\.1 100 /);
    const body = new Uint8Array(size).fill(0x61);
    for (let at = 0; at < size;) at += await conn.write(body.subarray(at));
    const answer = await readUntilClosed(conn, Date.now() + 10_000);
    assert.match(answer ?? "", new RegExp(`^HTTP/1\\.1 200 [^]*\\{"bytes":${size}\\}$`));
  } finally {
    conn.close();
    await edge.close();
    await up.server.shutdown();
  }
});

Deno.test("edge: the rest of a body the server did not read is cut off once it has answered", async () => {
  // Answers at once without reading the body, as the relay does for a refused request.
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () => Response.json({ error: "refused" }, { status: 429 }),
  );
  const edge = new Edge({ hostname: "127.0.0.1", port: 0 }, server.addr, {
    headDeadlineMs: 60_000,
  });
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: edge.addr.port });
  const stop = { done: false };
  try {
    await conn.write(enc.encode(
      "POST /x HTTP/1.1\r\nHost: relay\r\nContent-Length: 100000000\r\n\r\n{",
    ));
    // The rest of the body, with empty lines in it, as if it were the next request's head.
    const dribbling = dribble(conn, '"a":1}\n\n{"b":2}', 50, stop);
    const answer = await readUntilClosed(conn, Date.now() + 10_000);
    assert.match(answer ?? "", /^HTTP\/1\.1 429 /, "answered, then closed");
    stop.done = true;
    await dribbling;
  } finally {
    stop.done = true;
    conn.close();
    await edge.close();
    await server.shutdown();
  }
});
