/**
 * The relay's public TCP listener, in front of its HTTP server. Deno.serve never times out a
 * request head (hyper runs without a header timer: `edge_test.ts` shows a connection that
 * dribbles header bytes, or sends none, staying open), so every slow client would hold a
 * socket for as long as it likes. The edge passes bytes through to the HTTP server on
 * loopback and closes a connection that
 * - takes longer than the head deadline to send a request head (408),
 * - sits idle between requests longer than the idle timeout,
 * - keeps sending the rest of a body after its answer (hyper would read it to the end at
 *   whatever pace the client likes),
 * - would be one too many open connections from its client address (429 `Retry-After`).
 * Bodies are the HTTP server's business (the relay routes give them a deadline of their own).
 * It finds request heads without parsing HTTP: a head ends at its first empty line, and the
 * next head starts with the client's first byte after a (final) response began, so it must
 * start with a request line (a pipelined request sent before the previous answer is cut off).
 * @module
 */
import { counter } from "@meridian/runtime";

/** Limits of the {@link Edge}. */
export interface EdgeLimits {
  /** Milliseconds to send a whole request head, from the connection or its first byte. */
  headDeadlineMs?: number;
  /** Milliseconds a connection may sit between requests. */
  idleTimeoutMs?: number;
  /** The largest request head. */
  maxHeadBytes?: number;
  /** Open connections per client address. */
  maxConnectionsPerClient?: number;
  /**
   * Clients with no per-client limit, whose requests report no client address (default
   * {@link isLoopback}: this machine, or a local proxy whose own clients are not known here).
   */
  unlimited?: (address: string) => boolean;
}

/** Whether `address` is this machine (a local proxy or tool): not limited per client. */
export function isLoopback(address: string): boolean {
  return /^(127\.|::1$|::ffff:127\.)/.test(address);
}

/** Defaults: Plaid and GitHub give a webhook 10 s in all. */
export const EDGE_LIMITS: Required<EdgeLimits> = {
  headDeadlineMs: 10_000,
  idleTimeoutMs: 30_000,
  maxHeadBytes: 64 * 1024,
  maxConnectionsPerClient: 64,
  unlimited: isLoopback,
};

const closedConnections = counter(
  "meridian_relay_edge_closed_total",
  "Client connections the relay's edge closed, by reason",
  ["reason"],
);

const encoder = new TextEncoder();
const RESPONSES = {
  head_timeout: encoder.encode(
    "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
  ),
  head_too_large: encoder.encode(
    "HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
  ),
  too_many_connections: encoder.encode(
    "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
  ),
};
/** method SP request-target SP HTTP-version (RFC 9112 §3). */
const REQUEST_LINE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+ \S+ HTTP\/\d\.\d$/;
/** `HTTP/1.1 1`: an interim response (100 Continue), after which the body still follows. */
const INTERIM = encoder.encode("HTTP/1.1 1");

/** One client connection and its loopback connection to the HTTP server. */
class Link {
  upstream: Deno.TcpConn | null = null;
  /** "head": waiting for or reading a request head; "body": the head is in. */
  phase: "head" | "body" = "head";
  /** When the current wait started: the connection, a head's first byte, or a response. */
  since: number;
  /** Bytes of the current head so far (0: idle). */
  headBytes = 0;
  /** Characters of the current head line, less CR; 0 at a line start. */
  lineLength = 0;
  /** The current head's first line while it is read, then null. */
  firstLine: string | null = null;
  /** A response has begun on this connection: a wait for the next head is an idle wait. */
  answered = false;
  closed = false;

  constructor(readonly client: Deno.TcpConn, readonly address: string, now: number) {
    this.since = now;
  }

  /**
   * Feeds client bytes while in the head phase. An empty line ends the head (CRLF or bare LF;
   * empty lines before a request line are skipped). Returns false when the head cannot be a
   * request: its first line is not a request line. After a response that is what is left of a
   * body the server did not read (hyper drains it at the client's pace, so it must not be
   * waited for).
   */
  scanHead(bytes: Uint8Array, now: number): boolean {
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i];
      if (this.headBytes === 0 && (b === 0x0d || b === 0x0a)) continue;
      if (this.headBytes === 0) {
        this.since = now;
        this.firstLine = "";
      }
      this.headBytes++;
      if (this.firstLine !== null && b !== 0x0a && b !== 0x0d) {
        this.firstLine += String.fromCharCode(b);
      }
      if (b === 0x0a) {
        if (this.firstLine !== null) {
          if (!REQUEST_LINE.test(this.firstLine)) return false;
          this.firstLine = null;
        }
        if (this.lineLength === 0) {
          this.phase = "body";
          this.headBytes = 0;
          return true;
        }
        this.lineLength = 0;
      } else if (b !== 0x0d) this.lineLength++;
    }
    return true;
  }

  /** A response began: the next client byte starts a new head. */
  responded(now: number): void {
    this.answered = true;
    this.phase = "head";
    this.headBytes = 0;
    this.lineLength = 0;
    this.since = now;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const c of [this.client, this.upstream]) {
      try {
        c?.close();
      } catch {
        // already closed
      }
    }
  }
}

/** The public listener: see the module documentation. */
export class Edge {
  readonly addr: Deno.NetAddr;
  #limits: Required<EdgeLimits>;
  #listener: Deno.TcpListener;
  #links = new Set<Link>();
  #perClient = new Map<string, number>();
  /** The client behind each loopback connection to the HTTP server, by its local port. */
  #clients = new Map<number, string>();
  #sweep: ReturnType<typeof setInterval>;
  #accepting: Promise<void>;
  #closing = false;
  #now: () => number;

  constructor(
    listen: { hostname: string; port: number },
    private upstream: Deno.NetAddr,
    limits: EdgeLimits = {},
    now: () => number = Date.now,
  ) {
    this.#limits = { ...EDGE_LIMITS, ...limits };
    this.#now = now;
    this.#listener = Deno.listen({ ...listen, transport: "tcp" });
    this.addr = this.#listener.addr;
    const tick = Math.max(50, Math.min(500, this.#limits.headDeadlineMs / 10));
    this.#sweep = setInterval(() => this.#expire(), tick);
    Deno.unrefTimer(this.#sweep);
    this.#accepting = this.#accept();
  }

  /**
   * The peer address behind a request the HTTP server received, given the connection info
   * Deno.serve passed (Hono's `c.env`): null when the request did not come through the edge.
   */
  peerOf(info: unknown): string | null {
    const port = (info as { remoteAddr?: { port?: unknown } } | undefined)?.remoteAddr?.port;
    return (typeof port === "number" ? this.#clients.get(port) : undefined) ?? null;
  }

  /** Stops accepting and closes every connection. */
  async close(): Promise<void> {
    this.#closing = true;
    clearInterval(this.#sweep);
    try {
      this.#listener.close();
    } catch {
      // already closed
    }
    await this.#accepting;
    for (const link of this.#links) link.close();
  }

  async #accept(): Promise<void> {
    for (;;) {
      let conn: Deno.TcpConn;
      try {
        conn = await this.#listener.accept();
      } catch {
        if (this.#closing) return;
        // A failed accept (e.g. out of file descriptors) must not end the listener.
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      void this.#serve(conn);
    }
  }

  async #serve(conn: Deno.TcpConn): Promise<void> {
    const address = conn.remoteAddr.hostname;
    const limited = !this.#limits.unlimited(address);
    const open = this.#perClient.get(address) ?? 0;
    if (limited && open >= this.#limits.maxConnectionsPerClient) {
      closedConnections.labels("too_many_connections").inc();
      await conn.write(RESPONSES.too_many_connections).catch(() => {});
      conn.close();
      return;
    }
    if (limited) this.#perClient.set(address, open + 1);
    const link = new Link(conn, address, this.#now());
    this.#links.add(link);
    let port: number | undefined;
    try {
      link.upstream = await Deno.connect({
        hostname: this.upstream.hostname,
        port: this.upstream.port,
      });
      port = link.upstream.localAddr.port;
      this.#clients.set(port, address);
      if (!link.closed) await Promise.all([this.#fromClient(link), this.#toClient(link)]);
    } catch {
      // Either side went away: nothing to do but close both.
    } finally {
      link.close();
      this.#links.delete(link);
      if (port !== undefined) this.#clients.delete(port);
      if (limited) {
        const n = (this.#perClient.get(address) ?? 1) - 1;
        if (n > 0) this.#perClient.set(address, n);
        else this.#perClient.delete(address);
      }
    }
  }

  async #fromClient(link: Link): Promise<void> {
    const buf = new Uint8Array(16 * 1024);
    for (;;) {
      const n = await link.client.read(buf);
      if (n === null) {
        // The client is done sending; the server still answers what it has.
        await link.upstream!.closeWrite().catch(() => {});
        return;
      }
      const chunk = buf.subarray(0, n);
      if (link.phase === "head") {
        if (!link.scanHead(chunk, this.#now())) return this.#refuse(link, "not_a_request");
        if (link.phase === "head" && link.headBytes > this.#limits.maxHeadBytes) {
          return this.#refuse(link, "head_too_large");
        }
      }
      await writeAll(link.upstream!, chunk);
    }
  }

  async #toClient(link: Link): Promise<void> {
    const buf = new Uint8Array(16 * 1024);
    for (;;) {
      const n = await link.upstream!.read(buf);
      if (n === null) return link.close();
      const chunk = buf.subarray(0, n);
      if (!startsWith(chunk, INTERIM)) link.responded(this.#now());
      await writeAll(link.client, chunk);
    }
  }

  /** Closes connections past their head deadline or idle timeout. */
  #expire(): void {
    const now = this.#now();
    const { headDeadlineMs, idleTimeoutMs } = this.#limits;
    for (const link of this.#links) {
      if (link.phase !== "head" || link.closed) continue;
      const waited = now - link.since;
      // A connection that has not sent its first head is held to the head deadline.
      const idle = link.headBytes === 0 && link.answered;
      if (idle ? waited > idleTimeoutMs : waited > headDeadlineMs) {
        void this.#refuse(link, idle ? "idle" : "head_timeout");
      }
    }
  }

  async #refuse(
    link: Link,
    reason: "head_timeout" | "head_too_large" | "idle" | "not_a_request",
  ): Promise<void> {
    closedConnections.labels(reason).inc();
    // Only a client whose request went unanswered is told why; after an answer (idle, or the
    // rest of an unread body) the connection just ends.
    if ((reason === "head_timeout" || reason === "head_too_large") && !link.closed) {
      await link.client.write(RESPONSES[reason]).catch(() => {});
    }
    link.close();
  }
}

function startsWith(chunk: Uint8Array, prefix: Uint8Array): boolean {
  if (chunk.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (chunk[i] !== prefix[i]) return false;
  return true;
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let at = 0;
  while (at < bytes.length) at += await conn.write(bytes.subarray(at));
}
