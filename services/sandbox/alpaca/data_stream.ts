/**
 * Alpaca's market-data stream v2 (`/v2/{feed}`): connected → auth → subscription
 * acknowledgements with the full set, Alpaca's error codes (400–406), one connection per key and
 * feed, a symbol limit across trades + quotes, JSON text frames or msgpack binary frames.
 * @module
 */

import { decode, encode } from "@msgpack/msgpack";
import type { Broker } from "./broker.ts";
import type { PriceBook } from "./prices.ts";
import { ASSETS, findAsset } from "./assets.ts";
import { authenticateData } from "./data_keys.ts";

/** Feeds served; `test` only ever has data for `FAKEPACA`. */
export const DATA_FEEDS = ["iex", "sip", "delayed_sip", "test"] as const;

/**
 * Distinct symbols (trades ∪ quotes) one connection may hold per feed: the free plan's 30 on
 * `iex` (and the free `test` feed); `sip` and `delayed_sip` have no cap.
 */
export const FEED_SYMBOL_LIMITS: Readonly<Record<string, number>> = {
  iex: 30,
  test: 30,
  sip: Infinity,
  delayed_sip: Infinity,
};

/** Channels a stock stream accepts, in the order Alpaca acknowledges them. */
const CHANNELS = [
  "trades",
  "quotes",
  "bars",
  "updatedBars",
  "dailyBars",
  "statuses",
  "lulds",
] as const;
type Channel = typeof CHANNELS[number];

const ERRORS: Record<number, string> = {
  400: "invalid syntax",
  401: "not authenticated",
  402: "auth failed",
  403: "already authenticated",
  404: "auth timeout",
  405: "symbol limit exceeded",
  406: "connection limit exceeded",
};

/** One client connection. */
class DataConn {
  keyId: string | null = null;
  subs: Record<Channel, Set<string>> = Object.fromEntries(
    CHANNELS.map((c) => [c, new Set<string>()]),
  ) as Record<Channel, Set<string>>;
  authTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(readonly socket: WebSocket, readonly feed: string, readonly msgpack: boolean) {}

  send(msgs: unknown[]): void {
    if (this.socket.readyState !== WebSocket.OPEN) return;
    try {
      this.socket.send(this.msgpack ? encode(msgs) : JSON.stringify(msgs));
    } catch { /* the peer went away between the check and the send */ }
  }

  error(code: number): void {
    this.send([{ T: "error", code, msg: ERRORS[code] }]);
  }

  ack(): void {
    const msg: Record<string, unknown> = { T: "subscription" };
    for (const c of CHANNELS) msg[c] = [...this.subs[c]];
    // Alpaca subscribes corrections and cancel/errors along with trades.
    msg.corrections = [...this.subs.trades];
    msg.cancelErrors = [...this.subs.trades];
    this.send([msg]);
  }

  close(): void {
    clearTimeout(this.authTimer);
    try {
      this.socket.close();
    } catch { /* already closed */ }
  }
}

/** Options for the data stream hub. */
export interface DataStreamOptions {
  broker: Broker;
  prices: PriceBook;
  /** One cap for every feed instead of {@link FEED_SYMBOL_LIMITS} (tests). */
  symbolLimit?: number;
  authTimeoutMs: number;
  now: () => number;
}

/** All data-stream connections plus the per-tick trade fan-out. */
export class DataStreamHub {
  #conns = new Set<DataConn>();
  #byKey = new Map<string, DataConn>(); // `${feed} ${keyId}` → the one live connection

  constructor(readonly opts: DataStreamOptions) {}

  /** Upgrades `req` (the caller already checked the feed). */
  handle(req: Request, feed: string): Response {
    const msgpack = (req.headers.get("content-type") ?? "").includes("application/msgpack");
    // Headers must be read before the upgrade: the request is closed afterwards.
    const headerKey = req.headers.get("APCA-API-KEY-ID");
    const headerSecret = req.headers.get("APCA-API-SECRET-KEY");
    const { socket, response } = Deno.upgradeWebSocket(req);
    socket.binaryType = "arraybuffer";
    const conn = new DataConn(socket, feed, msgpack);

    socket.onopen = () => {
      this.#conns.add(conn);
      conn.send([{ T: "success", msg: "connected" }]);
      if (headerKey !== null || headerSecret !== null) this.#auth(conn, headerKey, headerSecret);
      else {
        conn.authTimer = setTimeout(() => {
          if (conn.keyId === null) {
            conn.error(404);
            this.#drop(conn);
          }
        }, this.opts.authTimeoutMs);
      }
    };
    socket.onmessage = (ev) => this.#message(conn, ev.data);
    socket.onclose = () => this.#forget(conn);
    socket.onerror = () => this.#forget(conn);
    return response;
  }

  #forget(conn: DataConn): void {
    clearTimeout(conn.authTimer);
    this.#conns.delete(conn);
    if (conn.keyId !== null) {
      const k = `${conn.feed} ${conn.keyId}`;
      if (this.#byKey.get(k) === conn) this.#byKey.delete(k);
    }
  }

  #drop(conn: DataConn): void {
    this.#forget(conn);
    conn.close();
  }

  #auth(conn: DataConn, key: unknown, secret: unknown): void {
    if (conn.keyId !== null) return conn.error(403);
    const keyId = authenticateData(this.opts.broker, key, secret);
    if (keyId === undefined) {
      conn.error(402);
      return this.#drop(conn);
    }
    const k = `${conn.feed} ${keyId}`;
    const other = this.#byKey.get(k);
    if (other && other !== conn && other.socket.readyState === WebSocket.OPEN) {
      conn.error(406);
      return this.#drop(conn);
    }
    clearTimeout(conn.authTimer);
    conn.keyId = keyId;
    this.#byKey.set(k, conn);
    conn.send([{ T: "success", msg: "authenticated" }]);
  }

  #message(conn: DataConn, raw: unknown): void {
    let msg: unknown;
    try {
      if (typeof raw === "string") msg = JSON.parse(raw);
      else if (raw instanceof ArrayBuffer) msg = decode(new Uint8Array(raw));
      else throw new Error("unsupported frame");
    } catch {
      return conn.error(400);
    }
    if (typeof msg !== "object" || msg === null || Array.isArray(msg)) return conn.error(400);
    const m = msg as Record<string, unknown>;
    switch (m.action) {
      case "auth":
        return this.#auth(conn, m.key, m.secret);
      case "subscribe":
      case "unsubscribe":
        return this.#subscribe(conn, m, m.action === "subscribe");
      default:
        return conn.error(400);
    }
  }

  #subscribe(conn: DataConn, m: Record<string, unknown>, add: boolean): void {
    if (conn.keyId === null) return conn.error(401);
    const next = Object.fromEntries(CHANNELS.map((c) => [c, new Set(conn.subs[c])])) as Record<
      Channel,
      Set<string>
    >;
    for (const c of CHANNELS) {
      const v = m[c];
      if (v === undefined || v === null) continue;
      if (!Array.isArray(v) || v.some((s) => typeof s !== "string" || s === "")) {
        return conn.error(400);
      }
      for (const s of v as string[]) {
        const sym = s === "*" ? "*" : s.toUpperCase();
        if (add) next[c].add(sym);
        else next[c].delete(sym);
      }
    }
    // The free plan's limit counts distinct symbols across trades and quotes; bars are free.
    const counted = new Set([...next.trades, ...next.quotes]);
    const limit = this.opts.symbolLimit ?? FEED_SYMBOL_LIMITS[conn.feed] ?? Infinity;
    if (add && counted.size > limit) return conn.error(405);
    conn.subs = next;
    conn.ack();
  }

  /** Symbols some connection wants trades or quotes for (wildcards expanded). */
  wantedSymbols(): Set<string> {
    const out = new Set<string>();
    for (const conn of this.#conns) {
      if (conn.keyId === null) continue;
      for (const c of ["trades", "quotes"] as const) {
        for (const s of conn.subs[c]) {
          for (const sym of this.#expand(conn, s)) out.add(sym);
        }
      }
    }
    return out;
  }

  #expand(conn: DataConn, s: string): string[] {
    const all = conn.feed === "test"
      ? ["FAKEPACA"]
      : [...ASSETS.values()].filter((a) => a.class === "us_equity" && a.symbol !== "FAKEPACA")
        .map((a) => a.symbol);
    if (s === "*") return all;
    if (conn.feed === "test") return s === "FAKEPACA" ? [s] : [];
    return [s];
  }

  /**
   * Sends this tick's trades (and quotes) to every connection, batched per connection. `ticks`
   * holds the step each symbol took this tick.
   */
  publish(ticks: Map<string, { price: number; tradeId: number; size: number }>): void {
    const now = this.opts.now();
    for (const conn of this.#conns) {
      if (conn.keyId === null) continue;
      const t: unknown = conn.msgpack ? new Date(now) : rfc3339Nanos(now);
      const batch: unknown[] = [];
      const exchange = conn.feed === "iex" || conn.feed === "test" ? "V" : "Q";
      for (const c of ["trades", "quotes"] as const) {
        const seen = new Set<string>();
        for (const s of conn.subs[c]) {
          for (const sym of this.#expand(conn, s)) {
            if (seen.has(sym)) continue;
            seen.add(sym);
            const tick = ticks.get(sym);
            if (!tick) continue;
            const tape = findAsset(sym)?.tape ?? "C";
            if (c === "trades") {
              batch.push({
                T: "t",
                S: sym,
                i: tick.tradeId,
                x: exchange,
                p: tick.price,
                s: tick.size,
                t,
                c: ["@"],
                z: tape,
              });
            } else {
              const tickSize = tick.price >= 1 ? 0.01 : 0.0001;
              const round = (n: number) => Math.round(n * 10_000) / 10_000;
              batch.push({
                T: "q",
                S: sym,
                bx: exchange,
                bp: round(tick.price - tickSize),
                bs: 1 + (tick.size % 7),
                ax: exchange,
                ap: round(tick.price + tickSize),
                as: 1 + ((tick.size * 3) % 5),
                t,
                c: ["R"],
                z: tape,
              });
            }
          }
        }
      }
      if (batch.length > 0) conn.send(batch);
    }
  }

  /** Closes every connection authenticated with `keyId` (a revoked key). */
  dropKey(keyId: string): void {
    for (const conn of [...this.#conns]) if (conn.keyId === keyId) this.#drop(conn);
  }

  /** Closes everything. */
  close(): void {
    for (const conn of [...this.#conns]) this.#drop(conn);
  }
}

/** RFC-3339 with nanoseconds, as Alpaca's JSON frames carry it. */
export function rfc3339Nanos(ms: number): string {
  const iso = new Date(ms).toISOString(); // …:SS.mmmZ
  return `${iso.slice(0, -1)}000000Z`;
}
