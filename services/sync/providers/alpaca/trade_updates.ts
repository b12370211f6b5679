/**
 * Alpaca's trading stream (`/stream`, `trade_updates`) on Deno's WebSocket: authenticate with
 * the account's key pair, listen, and report each order update. JSON frames, text or binary
 * (paper sends binary). The SDK's own stream client needs `ws` and cannot run here. A closed
 * stream is not reopened here: its owner (the order follower) decides when to open another.
 * @module
 */
import { obj, str } from "../../normalise/json.ts";
import type { OrderUpdateHandlers, OrderUpdates } from "../types.ts";
import { alpacaOrder } from "./trading.ts";
import type { AlpacaCredentials } from "./mod.ts";

/** How long authenticating and listening may take. */
const HANDSHAKE_MS = 10_000;

const decoder = new TextDecoder();

/** Opens the trading stream at `url` for `creds`. */
export function alpacaTradeUpdates(
  url: string,
  creds: AlpacaCredentials,
  handlers: OrderUpdateHandlers,
): OrderUpdates {
  let closed = false;
  let resolveReady!: () => void;
  const ready = new Promise<void>((r) => resolveReady = r);
  const socket = new WebSocket(url);
  socket.binaryType = "arraybuffer";
  const end = (reason: string) => {
    if (closed) return;
    closed = true;
    clearTimeout(handshake);
    resolveReady();
    try {
      socket.close();
    } catch {
      // already closed
    }
    handlers.onClose(reason);
  };
  const handshake = setTimeout(
    () => end("Alpaca did not start the trading stream in time"),
    HANDSHAKE_MS,
  );
  const send = (msg: unknown) => {
    if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(msg));
  };
  socket.onopen = () =>
    send({ action: "authenticate", data: { key_id: creds.keyId, secret_key: creds.secret } });
  socket.onmessage = (ev) => {
    let msg: Record<string, unknown>;
    try {
      const text = typeof ev.data === "string" ? ev.data : decoder.decode(ev.data as ArrayBuffer);
      msg = obj(JSON.parse(text));
    } catch {
      return;
    }
    const data = obj(msg.data);
    switch (msg.stream) {
      case "authorization":
        if (str(data.status) !== "authorized") {
          return end("Alpaca refused the key for the trading stream");
        }
        return send({ action: "listen", data: { streams: ["trade_updates"] } });
      case "listening":
        clearTimeout(handshake);
        return resolveReady();
      case "trade_updates": {
        const order = obj(data.order);
        handlers.onUpdate({
          ...alpacaOrder(order),
          client_order_id: str(order.client_order_id) ?? str(order.clientOrderId),
        });
        return;
      }
    }
    if (msg.action === "error") {
      end(`Alpaca's trading stream: ${str(data.error_message) ?? "error"}`);
    }
  };
  socket.onerror = () => {};
  socket.onclose = () => end("the trading stream closed");
  return { ready, close: () => end("closed") };
}
