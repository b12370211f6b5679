/**
 * Alpaca's market-data streams, stocks v2 (`/v2/{feed}`) and crypto (`/v1beta3/crypto/us`, feed
 * `crypto/us`): connected → auth → subscription acknowledgements with the full set, Alpaca's error
 * codes (400–406), one connection per key and feed, a symbol limit across trades + quotes, JSON
 * text frames or msgpack binary frames.
 * @module
 */

import { decode, encode } from "@msgpack/msgpack";
import type { Broker } from "./broker.ts";
import { ASSETS } from "./assets.ts";
import { cryptoMessage, stockMessage, type Tick } from "./data_messages.ts";
import { authenticateData } from "./data_keys.ts";

/** The crypto stream's feed name (`/v1beta3/crypto/us`). */
export const CRYPTO_FEED = "crypto/us";

/** Feeds served; `test` only ever has data for `FAKEPACA`; `crypto/us` only crypto pairs. */
export const DATA_FEEDS = ["iex", "sip", "delayed_sip", "test", CRYPTO_FEED] as const;

/**
 * Distinct symbols (trades ∪ quotes) one connection may hold per feed: the free plan's 30 on
 * `iex` (and the free `test` feed); `sip` and `delayed_sip` have no cap.
 */
export const FEED_SYMBOL_LIMITS: Readonly<Record<string, number>> = {
  iex: 30,
  test: 30,
  sip: Infinity,
  delayed_sip: Infinity,
  [CRYPTO_FEED]: Infinity,
};

/** Channels a stock stream accepts, in the order Alpaca acknowledges them. */
const STOCK_CHANNELS = [
  "trades",
  "quotes",
  "bars",
  "updatedBars",
  "dailyBars",
  "statuses",
  "lulds",
] as const;
/** Channels the crypto stream accepts, in the order Alpaca acknowledges them. */
const CRYPTO_CHANNELS = [
  "trades",
  "quotes",
  "orderbooks",
  "bars",
  "updatedBars",
  "dailyBars",
] as const;
type Channel = typeof STOCK_CHANNELS[number] | typeof CRYPTO_CHANNELS[number];

function channelsOf(feed: string): readonly Channel[] {
  return feed === CRYPTO_FEED ? CRYPTO_CHANNELS : STOCK_CHANNELS;
}

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
  readonly channels: readonly Channel[];
  subs: Partial<Record<Channel, Set<string>>>;
  authTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(readonly socket: WebSocket, readonly feed: string, readonly msgpack: boolean) {
    this.channels = channelsOf(feed);
    this.subs = Object.fromEntries(this.channels.map((c) => [c, new Set<string>()]));
  }

  /** The symbols subscribed on `c` (empty for a channel this feed lacks). */
  on(c: Channel): Set<string> {
    return this.subs[c] ?? new Set();
  }

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
    for (const c of this.channels) msg[c] = [...this.on(c)];
    if (this.feed !== CRYPTO_FEED) {
      // Alpaca subscribes stock corrections and cancel/errors along with trades.
      msg.corrections = [...this.on("trades")];
      msg.cancelErrors = [...this.on("trades")];
    }
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
  /** One cap for every feed instead of {@link FEED_SYMBOL_LIMITS} (tests). */
  symbolLimit?: number;
  authTimeoutMs: number;
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
    const next: Partial<Record<Channel, Set<string>>> = Object.fromEntries(
      conn.channels.map((c) => [c, new Set(conn.on(c))]),
    );
    for (const c of conn.channels) {
      const v = m[c];
      if (v === undefined || v === null) continue;
      if (!Array.isArray(v) || v.some((s) => typeof s !== "string" || s === "")) {
        return conn.error(400);
      }
      for (const s of v as string[]) {
        const sym = s === "*" ? "*" : s.toUpperCase();
        if (add) next[c]?.add(sym);
        else next[c]?.delete(sym);
      }
    }
    // The free plan's limit counts distinct symbols across trades and quotes; bars are free.
    const counted = new Set([...next.trades ?? [], ...next.quotes ?? []]);
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
        for (const s of conn.on(c)) {
          for (const sym of this.#expand(conn, s)) out.add(sym);
        }
      }
    }
    return out;
  }

  #expand(conn: DataConn, s: string): string[] {
    const all = conn.feed === "test"
      ? ["FAKEPACA"]
      : [...ASSETS.values()].filter((a) =>
        conn.feed === CRYPTO_FEED
          ? a.class === "crypto"
          : a.class === "us_equity" && a.symbol !== "FAKEPACA"
      ).map((a) => a.symbol);
    if (s === "*") return all;
    if (conn.feed === "test") return s === "FAKEPACA" ? [s] : [];
    return [s];
  }

  /**
   * Sends this tick's trades (and quotes) to every connection, batched per connection. `ticks`
   * holds the step each symbol took this tick (symbols that did not move are absent), traded at
   * `at` (ms).
   */
  publish(ticks: Map<string, Tick>, at: number): void {
    for (const conn of this.#conns) {
      if (conn.keyId === null) continue;
      const t: unknown = conn.msgpack ? new Date(at) : rfc3339Nanos(at);
      const batch: unknown[] = [];
      const exchange = conn.feed === "iex" || conn.feed === "test" ? "V" : "Q";
      for (const c of ["trades", "quotes"] as const) {
        const seen = new Set<string>();
        for (const s of conn.on(c)) {
          for (const sym of this.#expand(conn, s)) {
            const tick = ticks.get(sym);
            if (seen.has(sym) || !tick) continue;
            seen.add(sym);
            batch.push(
              conn.feed === CRYPTO_FEED
                ? cryptoMessage(c, sym, tick, t)
                : stockMessage(c, sym, tick, exchange, t),
            );
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
