/**
 * Test helpers: serve the Alpaca imitation on a real port with a tiny Hono app (as the sandbox
 * app mounts it) and a queued WebSocket client that speaks JSON or msgpack.
 * @module
 */

import assert from "node:assert/strict";
import { Hono } from "hono";
import { decode, encode } from "@msgpack/msgpack";
import { CallLog } from "../calls.ts";
import { type AlpacaSandboxOptions, createAlpacaSandbox } from "./mod.ts";

/** A served sandbox. */
export function serveAlpaca(opts: Partial<AlpacaSandboxOptions> = {}) {
  const calls = new CallLog();
  const sb = createAlpacaSandbox({ calls, tradeIntervalMs: 20, fillDelayMs: 5, ...opts });
  const app = new Hono();
  app.get("/alpaca/stream", (c) => sb.handleTradingStream(c.req.raw));
  app.get("/alpaca-data/v2/:feed", (c) => sb.handleDataStream(c.req.raw, c.req.param("feed")));
  app.get(
    "/alpaca-data/v1beta3/crypto/:loc",
    (c) => sb.handleDataStream(c.req.raw, `crypto/${c.req.param("loc")}`),
  );
  app.route("/alpaca-data", sb.dataRest);
  app.route("/alpaca", sb.rest);
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, app.fetch);
  const base = `http://127.0.0.1:${server.addr.port}`;
  return {
    sb,
    calls,
    base,
    ws: base.replace("http", "ws"),
    async close() {
      sb.close();
      await server.shutdown();
    },
  };
}

// deno-lint-ignore no-explicit-any
type Msg = any;

/** A WebSocket client with a receive queue. */
export class WsClient {
  readonly socket: WebSocket;
  #queue: Msg[] = [];
  #waiters: ((m: Msg) => void)[] = [];
  /** Frame kinds received so far ("text" / "binary"). */
  readonly frameKinds = new Set<string>();
  readonly opened: Promise<void>;
  readonly closed: Promise<void>;

  constructor(url: string, readonly msgpack = false, headers: Record<string, string> = {}) {
    const h = { ...headers, ...(msgpack ? { "Content-Type": "application/msgpack" } : {}) };
    // Deno's WebSocket takes handshake headers (non-standard); the DOM typing does not know it.
    this.socket = new WebSocket(url, { headers: h } as unknown as string[]);
    this.socket.binaryType = "arraybuffer";
    this.opened = new Promise((resolve, reject) => {
      this.socket.onopen = () => resolve();
      this.socket.onerror = (e) => reject(e);
    });
    this.closed = new Promise((resolve) => {
      this.socket.addEventListener("close", () => resolve());
    });
    this.socket.onmessage = (ev) => {
      this.frameKinds.add(typeof ev.data === "string" ? "text" : "binary");
      const m = typeof ev.data === "string"
        ? JSON.parse(ev.data)
        : decode(new Uint8Array(ev.data as ArrayBuffer));
      const w = this.#waiters.shift();
      if (w) w(m);
      else this.#queue.push(m);
    };
  }

  /** How many received messages nobody has read yet. */
  get queued(): number {
    return this.#queue.length;
  }

  /** The next server message (a frame, already decoded). */
  next(): Promise<Msg> {
    const m = this.#queue.shift();
    if (m !== undefined) return Promise.resolve(m);
    // A guard so a broken server fails the test instead of hanging it (not a timing assertion).
    return new Promise((resolve, reject) => {
      const guard = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        reject(new Error("no message within 10 s"));
      }, 10_000);
      const waiter = (msg: Msg) => {
        clearTimeout(guard);
        resolve(msg);
      };
      this.#waiters.push(waiter);
    });
  }

  /** The next frame matching `pred`, skipping others (e.g. data batches). */
  async nextWhere(pred: (m: Msg) => boolean): Promise<Msg> {
    for (;;) {
      const m = await this.next();
      if (pred(m)) return m;
    }
  }

  /** Sends an object as JSON text or msgpack binary. */
  send(obj: unknown): void {
    this.socket.send(this.msgpack ? encode(obj) : JSON.stringify(obj));
  }

  /** Closes and waits for the close. */
  async close(): Promise<void> {
    if (this.socket.readyState !== WebSocket.CLOSED) this.socket.close();
    await this.closed;
  }
}

/** A data-stream control frame of type `T`. */
export const control = (T: string) => (m: Msg) =>
  Array.isArray(m) && m.length === 1 && m[0].T === T;

/** Opens a data-stream connection and reads its `connected` greeting. */
export async function connectData(
  url: string,
  msgpack = false,
  headers: Record<string, string> = {},
): Promise<WsClient> {
  const c = new WsClient(url, msgpack, headers);
  await c.opened;
  assert.deepEqual(await c.next(), [{ T: "success", msg: "connected" }]);
  return c;
}
