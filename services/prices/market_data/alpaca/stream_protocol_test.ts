// The stream against a scripted server: framing both ways and the error codes the sandbox does
// not produce (409, 500).
import assert from "node:assert/strict";
import { decode, encode } from "@msgpack/msgpack";
import { eventually } from "@meridian/runtime/testing";
import type { StreamStatus, Trade } from "../types.ts";
import { AlpacaStream } from "./stream.ts";

const WAIT = { timeoutMs: 5_000, intervalMs: 10 };
const CRED = { keyId: "PKSCRIPT", secret: "scripted-secret-0123456789" };

// deno-lint-ignore no-explicit-any
type Msg = any;

/** A WebSocket server that runs `script` for every connection; records handshakes and frames. */
function scripted(script: (socket: WebSocket, received: Msg[], n: number) => void) {
  const handshakes: (string | null)[] = [];
  const frames: { binary: boolean; msg: Msg }[] = [];
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, (req) => {
    handshakes.push(req.headers.get("content-type"));
    const n = handshakes.length;
    const { socket, response } = Deno.upgradeWebSocket(req);
    socket.binaryType = "arraybuffer";
    const received: Msg[] = [];
    socket.onmessage = (ev) => {
      const binary = typeof ev.data !== "string";
      const msg = binary ? decode(new Uint8Array(ev.data)) : JSON.parse(ev.data);
      frames.push({ binary, msg });
      received.push(msg);
      script(socket, received, n);
    };
    socket.onopen = () => socket.send(encode([{ T: "success", msg: "connected" }]));
    return response;
  });
  return { url: `ws://127.0.0.1:${server.addr.port}`, handshakes, frames, server };
}

function start(url: string) {
  const trades: Trade[] = [];
  const statuses: StreamStatus[] = [];
  const stream = new AlpacaStream({
    url,
    credential: CRED,
    kind: "stocks",
    feed: "sip",
    backoff: { minMs: 20, maxMs: 100, rejectedMs: 100 },
    events: { onTrade: (t) => trades.push(t), onStatus: (s) => statuses.push(s) },
  });
  return { stream, trades, statuses };
}

Deno.test("msgpack handshake and binary client frames; JSON text frames decode too", async () => {
  const srv = scripted((socket, received) => {
    const last = received.at(-1);
    if (last.action === "auth") socket.send(encode([{ T: "success", msg: "authenticated" }]));
    if (last.action === "subscribe") {
      socket.send(JSON.stringify([{ T: "subscription", trades: last.trades }]));
      socket.send(JSON.stringify([
        { T: "q", S: "AAPL", bp: 1, ap: 2 },
        { T: "t", S: "AAPL", p: 1e-7, s: 100, t: "2026-07-15T14:00:00.123456789Z" },
      ]));
      socket.send(encode([{ T: "t", S: "AAPL", p: 187.12, s: 1e21, t: new Date(5_000) }]));
    }
  });
  const { stream, trades } = start(srv.url);
  try {
    stream.setSymbols(["AAPL"]);
    await eventually(() => trades.length === 2, WAIT);
    assert.deepEqual(srv.handshakes, ["application/msgpack"]);
    assert.ok(srv.frames.every((f) => f.binary), "client frames are msgpack binary");
    assert.deepEqual(srv.frames.map((f) => f.msg), [
      { action: "auth", key: CRED.keyId, secret: CRED.secret },
      { action: "subscribe", trades: ["AAPL"] },
    ]);
    assert.deepEqual(trades, [
      {
        symbol: "AAPL",
        price: "0.0000001",
        size: "100",
        time: new Date("2026-07-15T14:00:00.123Z"),
      },
      { symbol: "AAPL", price: "187.12", size: "1000000000000000000000", time: new Date(5_000) },
    ]);
  } finally {
    await stream.close();
    await srv.server.shutdown();
  }
});

Deno.test("409 insufficient subscription: rejected with an actionable reason", async () => {
  const srv = scripted((socket, received) => {
    if (received.at(-1).action === "auth") {
      socket.send(encode([{ T: "error", code: 409, msg: "insufficient subscription" }]));
    }
  });
  const { stream, statuses } = start(srv.url);
  try {
    await eventually(() => stream.status().state === "rejected", WAIT);
    const reason = stream.status().reason ?? "";
    assert.match(reason, /409 insufficient subscription/);
    assert.ok(!reason.includes(CRED.secret));
    assert.ok(statuses.every((s) => !JSON.stringify(s).includes(CRED.secret)));
  } finally {
    await stream.close();
    await srv.server.shutdown();
  }
});

Deno.test("500 internal error: reconnects and resubscribes everything", async () => {
  const srv = scripted((socket, received, n) => {
    const last = received.at(-1);
    if (last.action === "auth") socket.send(encode([{ T: "success", msg: "authenticated" }]));
    if (last.action === "subscribe") {
      socket.send(encode([{ T: "subscription", trades: last.trades }]));
      if (n === 1) socket.send(encode([{ T: "error", code: 500, msg: "internal error" }]));
    }
  });
  const { stream, statuses } = start(srv.url);
  try {
    stream.setSymbols(["AAPL", "MSFT"]);
    await eventually(() => stream.reconnects === 1 && stream.status().state === "streaming", WAIT);
    await eventually(() => stream.subscribed().size === 2, WAIT);
    assert.ok(statuses.some((s) => s.state === "backoff" && s.reason?.includes("500")));
    const subs = srv.frames.filter((f) => f.msg.action === "subscribe").map((f) => f.msg.trades);
    assert.deepEqual(subs, [["AAPL", "MSFT"], ["AAPL", "MSFT"]]);
  } finally {
    await stream.close();
    await srv.server.shutdown();
  }
});
