/**
 * Alpaca's market-data stream (stocks v2 and crypto v1beta3) on Deno's WebSocket, in msgpack
 * (the official SDK has no streams under Deno): connected → auth → subscribe the trades
 * channel, diffs as the wanted symbols change, reconnects with jittered exponential backoff and
 * resubscribes everything. See providers.md §3.1 for the protocol and its error codes.
 * @module
 */
import { decode, encode } from "@msgpack/msgpack";
import type { PriceFeed, SymbolStream } from "@meridian/proto";
import type { Logger } from "@meridian/runtime";
import type {
  Credential,
  MarketStream,
  StreamEvents,
  StreamState,
  StreamStatus,
} from "../types.ts";
import { decimalString } from "./decimal.ts";

/** Reconnect delays. */
export interface StreamBackoff {
  /** First delay after an ordinary failure (close, 407 slow client, 500, 406). */
  minMs: number;
  /** Cap of ordinary delays. */
  maxMs: number;
  /** Cap of delays after the key was refused (402 auth failed, 409 insufficient subscription). */
  rejectedMs: number;
}

/** Default delays: 250 ms doubling to 30 s; a refused key retries from 5 s up to 60 s. */
export const DEFAULT_BACKOFF: StreamBackoff = { minMs: 250, maxMs: 30_000, rejectedMs: 60_000 };

/** The first delay after a refusal (capped by {@link StreamBackoff.rejectedMs}). */
const REJECTED_FIRST_MS = 5_000;
/** Time from opening the socket to `authenticated` before giving up on the connection. */
const AUTH_DEADLINE_MS = 10_000;
/** A connection streaming this long resets the backoff. */
const STABLE_MS = 30_000;
/** How long close() waits for the socket's close event. */
const CLOSE_WAIT_MS = 2_000;

/** Options of {@link AlpacaStream}. */
export interface AlpacaStreamOptions {
  /** Stream base, e.g. `wss://stream.data.alpaca.markets` or `ws://127.0.0.1:8082/alpaca-data`. */
  url: string;
  credential: Credential;
  kind: SymbolStream;
  /** The stock feed (ignored for crypto). */
  feed: PriceFeed;
  events: StreamEvents;
  log?: Logger;
  /** Reconnect delays (tests shorten them). */
  backoff?: Partial<StreamBackoff>;
}

/** The stream's endpoint: `/v2/{feed}` for stocks, `/v1beta3/crypto/us` for crypto. */
export function streamEndpoint(base: string, kind: SymbolStream, feed: PriceFeed): string {
  const b = base.replace(/\/+$/, "");
  return kind === "crypto" ? `${b}/v1beta3/crypto/us` : `${b}/v2/${feed}`;
}

// deno-lint-ignore no-explicit-any
type Msg = Record<string, any>;

/** A subscribe/unsubscribe sent and not yet answered (acks and errors come in order). */
interface Pending {
  action: "subscribe" | "unsubscribe";
  symbols: string[];
}

/** Why the key was refused, by error code: a sentence a self-hoster can act on. */
const REJECTIONS: Record<number, string> = {
  402: "Alpaca refused the market-data key (402 auth failed): check ALPACA_DATA_KEYS",
  408: "Alpaca has not enabled the v2 stream for this key (408 v2 not enabled): check the account",
  409: "the market-data key's plan does not include this feed (409 insufficient subscription): " +
    "set ALPACA_FEED=iex or upgrade the Alpaca data plan",
};

/** One Alpaca market-data stream connection that reconnects until closed. */
export class AlpacaStream implements MarketStream {
  /** Connection attempts after the first. */
  reconnects = 0;

  readonly #endpoint: string;
  readonly #opts: AlpacaStreamOptions;
  readonly #backoff: StreamBackoff;
  #desired = new Set<string>();
  /** What this connection asked for (acknowledged or in flight). */
  #requested = new Set<string>();
  #subscribed: ReadonlySet<string> = new Set();
  #refused = new Set<string>();
  #pending: Pending[] = [];
  #status: StreamStatus = { state: "connecting" };
  #socket: WebSocket | null = null;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #authTimer: ReturnType<typeof setTimeout> | undefined;
  #failures = 0;
  #rejections = 0;
  #streamingSince = 0;
  #closed = false;

  constructor(opts: AlpacaStreamOptions) {
    this.#opts = opts;
    this.#endpoint = streamEndpoint(opts.url, opts.kind, opts.feed);
    this.#backoff = { ...DEFAULT_BACKOFF, ...opts.backoff };
    this.#connect();
  }

  setSymbols(symbols: Iterable<string>): void {
    this.#desired = new Set(symbols);
    for (const s of [...this.#refused]) if (!this.#desired.has(s)) this.#refused.delete(s);
    if (this.#status.state === "streaming") this.#sync();
  }

  subscribed(): ReadonlySet<string> {
    return this.#subscribed;
  }

  refused(): ReadonlySet<string> {
    return this.#refused;
  }

  status(): StreamStatus {
    return this.#status;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    clearTimeout(this.#authTimer);
    const socket = this.#socket;
    this.#socket = null;
    this.#setStatus({ state: "closed" });
    if (socket && socket.readyState !== WebSocket.CLOSED) {
      let guard: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        socket.addEventListener("close", () => resolve());
        guard = setTimeout(resolve, CLOSE_WAIT_MS);
        try {
          socket.close();
        } catch { /* already closing */ }
      });
      clearTimeout(guard);
    }
  }

  // ---- connection lifecycle ----

  #connect(): void {
    if (this.#closed) return;
    this.#requested = new Set();
    this.#pending = [];
    this.#subscribed = new Set();
    this.#setStatus({ state: "connecting" });
    let socket: WebSocket;
    try {
      // Deno's WebSocket takes handshake headers (non-standard); msgpack framing both ways.
      socket = new WebSocket(this.#endpoint, {
        headers: { "Content-Type": "application/msgpack" },
      } as unknown as string[]);
    } catch (e) {
      this.#retry("backoff", `cannot open ${this.#endpoint}: ${errorText(e)}`);
      return;
    }
    socket.binaryType = "arraybuffer";
    this.#socket = socket;
    this.#authTimer = setTimeout(() => {
      if (this.#socket !== socket || this.#status.state === "streaming") return;
      this.#drop(socket, "backoff", "Alpaca did not authenticate within 10 s; reconnecting");
    }, AUTH_DEADLINE_MS);
    socket.onmessage = (ev) => {
      if (this.#socket !== socket) return;
      let frame: unknown;
      try {
        frame = typeof ev.data === "string"
          ? JSON.parse(ev.data)
          : decode(new Uint8Array(ev.data as ArrayBuffer));
      } catch (e) {
        this.#opts.log?.warn("undecodable market-data frame", { error: errorText(e) });
        return;
      }
      for (const m of Array.isArray(frame) ? frame : [frame]) {
        if (this.#socket !== socket) return; // a message above dropped the connection
        if (m && typeof m === "object") this.#message(socket, m as Msg);
      }
    };
    socket.onerror = () => {
      // Deno follows an error with a close event; the close handler reconnects.
    };
    socket.onclose = (ev) => {
      if (this.#socket !== socket) return;
      const detail = ev.code ? ` (code ${ev.code})` : "";
      this.#drop(socket, "backoff", `the market-data connection closed${detail}; reconnecting`);
    };
  }

  /** Forgets `socket`, closes it and schedules a reconnect in state `state`. */
  #drop(socket: WebSocket, state: "backoff" | "rejected", reason: string): void {
    if (this.#socket !== socket) return;
    this.#socket = null;
    clearTimeout(this.#authTimer);
    try {
      socket.close();
    } catch { /* already closed */ }
    this.#retry(state, reason);
  }

  #retry(state: "backoff" | "rejected", reason: string): void {
    if (this.#closed) return;
    if (this.#streamingSince > 0 && Date.now() - this.#streamingSince >= STABLE_MS) {
      this.#failures = 0;
    }
    this.#streamingSince = 0;
    let delay: number;
    if (state === "rejected") {
      const base = Math.max(this.#backoff.minMs, REJECTED_FIRST_MS * 2 ** this.#rejections);
      delay = Math.min(this.#backoff.rejectedMs, base);
      this.#rejections = Math.min(this.#rejections + 1, 16);
    } else {
      delay = Math.min(this.#backoff.maxMs, this.#backoff.minMs * 2 ** this.#failures);
      this.#failures = Math.min(this.#failures + 1, 16);
    }
    delay = Math.round(delay * (0.8 + Math.random() * 0.4)); // ±20 % jitter
    this.#setStatus({ state, reason });
    const log = this.#opts.log;
    if (state === "rejected") log?.error("market-data stream refused", { reason, retry_ms: delay });
    else log?.warn("market-data stream down", { reason, retry_ms: delay });
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.reconnects++;
      this.#connect();
    }, delay);
  }

  // ---- protocol ----

  #message(socket: WebSocket, m: Msg): void {
    switch (m.T) {
      case "t":
        return this.#trade(m);
      case "success":
        if (m.msg === "connected") {
          this.#setStatus({ state: "authenticating" });
          this.#send(socket, {
            action: "auth",
            key: this.#opts.credential.keyId,
            secret: this.#opts.credential.secret,
          });
        } else if (m.msg === "authenticated") {
          clearTimeout(this.#authTimer);
          this.#rejections = 0;
          this.#streamingSince = Date.now();
          this.#setStatus({ state: "streaming" });
          this.#sync();
        }
        return;
      case "subscription":
        this.#pending.shift();
        this.#subscribed = new Set(Array.isArray(m.trades) ? m.trades.map(String) : []);
        return;
      case "error":
        return this.#error(socket, Number(m.code), String(m.msg ?? ""));
      default:
        return; // quotes, bars, statuses…: not ours
    }
  }

  #trade(m: Msg): void {
    let trade;
    try {
      const time = m.t instanceof Date ? m.t : new Date(String(m.t));
      if (typeof m.S !== "string" || Number.isNaN(time.getTime())) throw new Error("bad trade");
      trade = { symbol: m.S, price: decimalString(m.p), size: decimalString(m.s), time };
    } catch (e) {
      this.#opts.log?.warn("malformed trade skipped", { error: errorText(e) });
      return;
    }
    try {
      this.#opts.events.onTrade(trade);
    } catch (e) {
      this.#opts.log?.error("onTrade failed", { error: errorText(e) });
    }
  }

  #error(socket: WebSocket, code: number, msg: string): void {
    const rejection = REJECTIONS[code];
    if (rejection) return this.#drop(socket, "rejected", rejection);
    switch (code) {
      case 405: {
        const p = this.#pending.shift();
        if (p?.action !== "subscribe") return;
        for (const s of p.symbols) {
          this.#requested.delete(s);
          this.#refused.add(s);
        }
        this.#opts.log?.warn("symbols refused (405 symbol limit exceeded)", {
          symbols: p.symbols.length,
        });
        try {
          this.#opts.events.onRefused?.([...p.symbols]);
        } catch (e) {
          this.#opts.log?.error("onRefused failed", { error: errorText(e) });
        }
        return;
      }
      case 406:
        return this.#drop(
          socket,
          "backoff",
          "another connection uses this market-data key on this feed (406 connection limit " +
            "exceeded); retrying. Give each prices instance its own key in ALPACA_DATA_KEYS",
        );
      case 404:
      case 407:
      case 500:
        return this.#drop(
          socket,
          "backoff",
          `Alpaca closed the stream (${code} ${msg}); reconnecting`,
        );
      case 400:
      case 401:
        this.#pending.shift();
        this.#opts.log?.warn("market-data stream error", { code, msg });
        return;
      default:
        this.#opts.log?.warn("market-data stream error", { code, msg });
    }
  }

  /** Sends the difference between what is wanted and what this connection asked for. */
  #sync(): void {
    const socket = this.#socket;
    if (!socket || this.#status.state !== "streaming") return;
    const removed = [...this.#requested].filter((s) => !this.#desired.has(s));
    const added = [...this.#desired].filter((s) =>
      !this.#requested.has(s) && !this.#refused.has(s)
    );
    // Unsubscribe first: it frees room under the plan's symbol limit.
    if (removed.length > 0) {
      for (const s of removed) this.#requested.delete(s);
      this.#request(socket, { action: "unsubscribe", symbols: removed });
    }
    if (added.length > 0) {
      for (const s of added) this.#requested.add(s);
      this.#request(socket, { action: "subscribe", symbols: added });
    }
  }

  #request(socket: WebSocket, p: Pending): void {
    this.#pending.push(p);
    this.#send(socket, { action: p.action, trades: p.symbols });
  }

  #send(socket: WebSocket, msg: Msg): void {
    if (socket.readyState !== WebSocket.OPEN) return;
    try {
      socket.send(encode(msg));
    } catch (e) {
      this.#opts.log?.warn("market-data send failed", { error: errorText(e) });
    }
  }

  #setStatus(status: StreamStatus): void {
    this.#status = status;
    try {
      this.#opts.events.onStatus?.(status);
    } catch (e) {
      this.#opts.log?.error("onStatus failed", { error: errorText(e) });
    }
  }
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The state names, for callers that enumerate them (metrics labels). */
export const STREAM_STATES: readonly StreamState[] = [
  "connecting",
  "authenticating",
  "streaming",
  "backoff",
  "rejected",
  "closed",
];
