/**
 * The benchmarks' SSE pieces: signed-in stream users made in bulk, a raw-HTTP `/api/stream`
 * client that keeps thousands of streams cheap (a sub-process of its own), and a process's CPU
 * and memory from /proc.
 *
 * A client process is driven over its stdin and stdout: it opens its streams, prints one
 * `{"ready":true,...}` line, waits for a line `go <seconds>` on stdin, counts `value` events
 * for that many seconds (delivery latency: its receipt time minus the value's `time`, same
 * machine clock) and prints its result as the last line (a latency histogram in whole
 * milliseconds, so the parent can merge several processes exactly).
 * @module
 */
import { hashPassword, type Sql } from "@meridian/runtime";
import { hashToken, newToken } from "../../services/api/sessions.ts";

/** Users with one session each, for streams. */
export interface StreamUsers {
  ids: string[];
  tokens: string[];
}

/** Inserts `n` users (emails `<prefix><i>@example.com`) with one day-long session each. */
export async function createStreamUsers(sql: Sql, n: number, prefix: string): Promise<StreamUsers> {
  const hash = await hashPassword("bench-password-0");
  const rows = await sql<{ id: string }[]>`
    insert into users (email, password_hash)
    select ${prefix} || g || '@example.com', ${hash} from generate_series(1, ${n}) g
    returning id`;
  const ids = rows.map((r) => r.id);
  const tokens = ids.map(() => newToken());
  const hashes = await Promise.all(tokens.map(hashToken));
  for (let i = 0; i < ids.length; i += 10_000) {
    await sql`insert into sessions (token_hash, user_id, expires_at)
      select h, u::uuid, now() + interval '1 day'
        from unnest(${hashes.slice(i, i + 10_000)}::text[], ${
      ids.slice(i, i + 10_000)
    }::text[]) as t(h, u)`;
  }
  return { ids, tokens };
}

/** What one client process reports. */
export interface SseResult {
  connected: number;
  failed: number;
  /** Streams that ended during the measurement (the server dropped them). */
  ended: number;
  events: number;
  seconds: number;
  /** Delivery latency histogram: whole milliseconds → count. */
  histogram: Record<string, number>;
}

/** The merged result of several client processes. */
export interface SseSummary {
  connected: number;
  failed: number;
  ended: number;
  events: number;
  events_per_s: number;
  delivery_p50_ms: number;
  delivery_p99_ms: number;
  delivery_max_ms: number;
}

const enc = new TextEncoder();
const EVENT_VALUE = enc.encode("event: value");
const EVENT = enc.encode("event:");
const DATA = enc.encode("data: ");
const NL = 10;
/**
 * Streams a client process has opening at once (connected, no response head yet). Opening
 * them all in a burst overflowed the api's listen backlog, and a connection whose handshake
 * was dropped there could hang past the wait for the streams.
 */
const OPENING = 64;

function startsWith(buf: Uint8Array, at: number, end: number, prefix: Uint8Array): boolean {
  if (end - at < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (buf[at + i] !== prefix[i]) return false;
  return true;
}

/**
 * The client process's body: opens `tokens.slice(offset, offset + count)` streams to
 * `127.0.0.1:<port>/api/stream`, then follows the stdin protocol above; exits when done.
 * The response body is scanned line by line on bytes (HTTP chunk-size lines are ignored as
 * lines that are not SSE fields); only the first bytes of a `value` event's data are decoded,
 * for its `time`, so a large value costs the client little.
 */
export async function runSseClients(
  port: number,
  tokensFile: string,
  offset: number,
  count: number,
): Promise<never> {
  const tokens: string[] = JSON.parse(await Deno.readTextFile(tokensFile)).slice(
    offset,
    offset + count,
  );
  const dec = new TextDecoder();
  let connected = 0, failed = 0, ended = 0, events = 0;
  let measuring = false;
  const histogram = new Map<number, number>();
  let opening = 0;
  let slot: (() => void) | undefined;
  const settle = () => {
    opening--;
    slot?.();
    slot = undefined;
  };
  const record = (head: Uint8Array) => {
    if (!measuring) return;
    events++;
    const m = /"time":"([^"]+)"/.exec(dec.decode(head));
    if (!m) return;
    const ms = Math.max(0, Date.now() - Date.parse(m[1]));
    histogram.set(ms, (histogram.get(ms) ?? 0) + 1);
  };
  const client = async (token: string) => {
    let conn: Deno.TcpConn;
    try {
      conn = await Deno.connect({ hostname: "127.0.0.1", port });
    } catch {
      failed++;
      settle();
      return;
    }
    try {
      await conn.write(enc.encode(
        `GET /api/stream HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAccept: text/event-stream\r\n` +
          `Cookie: meridian_session=${token}\r\n\r\n`,
      ));
    } catch {
      failed++;
      settle();
      conn.close();
      return;
    }
    const buf = new Uint8Array(64 * 1024);
    let carry: Uint8Array | null = null;
    let headerSeen = false;
    let afterValue = false;
    try {
      for (;;) {
        const n = await conn.read(buf);
        if (n === null) break;
        let data = buf.subarray(0, n);
        if (carry) {
          const joined = new Uint8Array(carry.length + n);
          joined.set(carry);
          joined.set(data, carry.length);
          data = joined;
          carry = null;
        }
        let pos = 0;
        if (!headerSeen) {
          const text = dec.decode(data.subarray(0, Math.min(data.length, 4096)));
          const end = text.indexOf("\r\n\r\n");
          if (end < 0) {
            carry = data.slice();
            continue;
          }
          headerSeen = true;
          settle();
          if (!text.startsWith("HTTP/1.1 200")) {
            failed++;
            return;
          }
          connected++;
          pos = end + 4; // the head is ASCII: characters are bytes
        }
        for (;;) {
          const nl = data.indexOf(NL, pos);
          if (nl < 0) break;
          if (afterValue && startsWith(data, pos, nl, DATA)) {
            afterValue = false;
            record(data.subarray(pos, Math.min(nl, pos + 200)));
          } else if (startsWith(data, pos, nl, EVENT)) {
            afterValue = startsWith(data, pos, nl, EVENT_VALUE);
          }
          pos = nl + 1;
        }
        if (pos < data.length) carry = data.slice(pos);
      }
      if (measuring) ended++;
    } catch {
      if (measuring) ended++;
    } finally {
      if (!headerSeen) {
        failed++;
        settle();
      }
      try {
        conn.close();
      } catch {
        // closed already
      }
    }
  };
  for (const token of tokens) {
    while (opening >= OPENING) await new Promise<void>((r) => slot = r);
    opening++;
    void client(token);
  }
  const t0 = performance.now();
  while (connected + failed < tokens.length && performance.now() - t0 < 120_000) {
    await new Promise((r) => setTimeout(r, 100));
  }
  console.log(JSON.stringify({ ready: true, connected, failed }));
  const lines = Deno.stdin.readable.pipeThrough(new TextDecoderStream()).getReader();
  let input = "";
  while (!input.includes("\n")) {
    const { value, done } = await lines.read();
    if (done) Deno.exit(1);
    input += value;
  }
  const seconds = Number(/^go (\S+)/.exec(input)?.[1] ?? 10);
  measuring = true;
  await new Promise((r) => setTimeout(r, seconds * 1000));
  measuring = false;
  const result: SseResult = {
    connected,
    failed,
    ended,
    events,
    seconds,
    histogram: Object.fromEntries(histogram),
  };
  console.log(JSON.stringify(result));
  Deno.exit(0);
}

/** One running client process (see {@link runSseClients}). */
export class SseClientProcess {
  readonly child: Deno.ChildProcess;
  #lines: string[] = [];
  #waiters: (() => void)[] = [];
  #ended = false;

  /** Starts `script` (a bench file that calls runSseClients for `args`) as its own process. */
  constructor(script: string, args: string[]) {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", script, ...args],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
      env: { NO_COLOR: "1" },
    }).spawn();
    this.child = child;
    void (async () => {
      let buf = "";
      for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
        buf += chunk;
        let nl: number;
        while ((nl = buf.indexOf("\n")) >= 0) {
          this.#lines.push(buf.slice(0, nl));
          buf = buf.slice(nl + 1);
          for (const w of this.#waiters.splice(0)) w();
        }
      }
      this.#ended = true;
      for (const w of this.#waiters.splice(0)) w();
    })();
  }

  async #line(): Promise<string> {
    for (;;) {
      if (this.#lines.length) return this.#lines.shift()!;
      if (this.#ended) throw new Error("the SSE client process exited early");
      await new Promise<void>((r) => this.#waiters.push(r));
    }
  }

  /** Waits for the streams to be open. */
  async ready(): Promise<{ connected: number; failed: number }> {
    return JSON.parse(await this.#line());
  }

  /** Starts the measurement of `seconds`. */
  async go(seconds: number): Promise<void> {
    const w = this.child.stdin.getWriter();
    await w.write(enc.encode(`go ${seconds}\n`));
    w.releaseLock();
  }

  /** The measurement's result (after {@link go}); the process then exits. */
  async result(): Promise<SseResult> {
    const r = JSON.parse(await this.#line()) as SseResult;
    await this.child.status;
    return r;
  }

  /** Kills the process if it still runs. */
  async kill(): Promise<void> {
    try {
      this.child.kill("SIGKILL");
    } catch {
      // gone
    }
    await this.child.status;
  }
}

/** Merges client results (their latency histograms exactly). */
export function mergeSse(results: SseResult[]): SseSummary {
  const hist = new Map<number, number>();
  let connected = 0, failed = 0, ended = 0, events = 0, seconds = 0;
  for (const r of results) {
    connected += r.connected;
    failed += r.failed;
    ended += r.ended;
    events += r.events;
    seconds = Math.max(seconds, r.seconds);
    for (const [k, v] of Object.entries(r.histogram)) {
      hist.set(Number(k), (hist.get(Number(k)) ?? 0) + v);
    }
  }
  const keys = [...hist.keys()].sort((a, b) => a - b);
  const total = keys.reduce((s, k) => s + hist.get(k)!, 0);
  const q = (p: number) => {
    if (!total) return NaN;
    const want = Math.min(total - 1, Math.floor(total * p));
    let seen = 0;
    for (const k of keys) {
      seen += hist.get(k)!;
      if (seen > want) return k;
    }
    return keys[keys.length - 1];
  };
  return {
    connected,
    failed,
    ended,
    events,
    events_per_s: seconds ? Math.round(events / seconds) : 0,
    delivery_p50_ms: q(0.5),
    delivery_p99_ms: q(0.99),
    delivery_max_ms: keys.length ? keys[keys.length - 1] : NaN,
  };
}

/** A process's CPU seconds (user + system) so far and its resident memory, from /proc. */
export function procStats(pid: number): { cpu_s: number; rss_mb: number } {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]); // utime + stime
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return { cpu_s: ticks / 100, rss_mb: +(rssKb / 1024).toFixed(1) };
}

/**
 * Raises `pid`'s open-file limit to `n` (prlimit; raising the hard limit needs root). Returns
 * the soft limit in force afterwards.
 */
export async function raiseFileLimit(pid: number, n: number): Promise<number> {
  try {
    await new Deno.Command("prlimit", {
      args: [`--pid=${pid}`, `--nofile=${n}:${n}`],
      stdout: "null",
      stderr: "null",
    }).output();
  } catch {
    // no prlimit here
  }
  try {
    const limits = Deno.readTextFileSync(`/proc/${pid}/limits`);
    const m = /Max open files\s+(\d+|unlimited)/.exec(limits);
    return m ? (m[1] === "unlimited" ? Infinity : Number(m[1])) : NaN;
  } catch {
    return NaN;
  }
}
