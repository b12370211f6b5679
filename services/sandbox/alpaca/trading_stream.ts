/**
 * Alpaca's trading stream (`/stream`): authenticate, listen to `trade_updates`, then receive every
 * order event of that account. JSON text frames, or msgpack binary frames when the upgrade
 * carries `Content-Type: application/msgpack`.
 * @module
 */

import { decode, encode } from "@msgpack/msgpack";
import type { Broker, TradeUpdate } from "./broker.ts";

class TradingConn {
  keyId: string | null = null;
  listening = false;
  constructor(readonly socket: WebSocket, readonly msgpack: boolean) {}

  send(msg: unknown): void {
    if (this.socket.readyState !== WebSocket.OPEN) return;
    try {
      this.socket.send(this.msgpack ? encode(msg) : JSON.stringify(msg));
    } catch { /* peer gone */ }
  }
}

/** Every trading-stream connection, fed by the broker's trade updates. */
export class TradingStreamHub {
  #conns = new Set<TradingConn>();
  #off: () => void;

  constructor(readonly broker: Broker) {
    this.#off = broker.onTradeUpdate((keyId, u) => this.#publish(keyId, u));
  }

  /** Upgrades `req` to a trading-stream connection. */
  handle(req: Request): Response {
    const msgpack = (req.headers.get("content-type") ?? "").includes("application/msgpack");
    const { socket, response } = Deno.upgradeWebSocket(req);
    socket.binaryType = "arraybuffer";
    const conn = new TradingConn(socket, msgpack);
    socket.onopen = () => this.#conns.add(conn);
    socket.onmessage = (ev) => this.#message(conn, ev.data);
    socket.onclose = () => this.#conns.delete(conn);
    socket.onerror = () => this.#conns.delete(conn);
    return response;
  }

  #message(conn: TradingConn, raw: unknown): void {
    let msg: unknown;
    try {
      if (typeof raw === "string") msg = JSON.parse(raw);
      else if (raw instanceof ArrayBuffer) msg = decode(new Uint8Array(raw));
      else throw new Error("unsupported frame");
    } catch {
      return conn.send({ action: "error", data: { error_message: "invalid syntax" } });
    }
    const m = (typeof msg === "object" && msg !== null ? msg : {}) as Record<string, unknown>;
    const data = (typeof m.data === "object" && m.data !== null ? m.data : {}) as Record<
      string,
      unknown
    >;
    if (m.action === "authenticate" || m.action === "auth") {
      const acct = this.broker.authenticate(
        typeof data.key_id === "string" ? data.key_id : null,
        typeof data.secret_key === "string" ? data.secret_key : null,
      );
      conn.keyId = acct ? acct.key_id : null;
      if (!acct) conn.listening = false;
      return conn.send({
        stream: "authorization",
        data: { status: acct ? "authorized" : "unauthorized", action: "authenticate" },
      });
    }
    if (m.action === "listen") {
      if (conn.keyId === null) {
        return conn.send({
          stream: "authorization",
          data: { status: "unauthorized", action: "listen" },
        });
      }
      const streams = Array.isArray(data.streams) ? data.streams : null;
      if (!streams || streams.some((s) => typeof s !== "string")) {
        return conn.send({ action: "error", data: { error_message: "invalid syntax" } });
      }
      conn.listening = streams.includes("trade_updates");
      return conn.send({
        stream: "listening",
        data: { streams: conn.listening ? ["trade_updates"] : [] },
      });
    }
    conn.send({ action: "error", data: { error_message: "invalid syntax" } });
  }

  #publish(keyId: string, u: TradeUpdate): void {
    for (const conn of this.#conns) {
      if (conn.listening && conn.keyId === keyId) conn.send({ stream: "trade_updates", data: u });
    }
  }

  /** Closes every connection of `keyId` (a revoked key). */
  dropKey(keyId: string): void {
    for (const conn of [...this.#conns]) {
      if (conn.keyId !== keyId) continue;
      this.#conns.delete(conn);
      try {
        conn.socket.close();
      } catch { /* already closed */ }
    }
  }

  /** Closes every connection. */
  close(): void {
    this.#off();
    for (const conn of [...this.#conns]) {
      try {
        conn.socket.close();
      } catch { /* already closed */ }
    }
    this.#conns.clear();
  }
}
