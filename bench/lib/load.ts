/**
 * The benchmarks' shared HTTP load generator: a raw keep-alive HTTP/1.1 client, closed-loop
 * (throughput) and open-loop (latency from each request's scheduled send time, so no
 * coordinated omission) drivers, percentiles, and the sub-process and result-file plumbing.
 * @module
 */

/** What one load run reports. */
export interface LoadResult {
  requests: number;
  ok: number;
  seconds: number;
  rps: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
}

/** The `p` quantile (0..1) of ascending `sorted`. */
export function pct(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * A minimal keep-alive HTTP/1.1 client over raw TCP: fetch's per-response JS overhead (and
 * decompression) would make the generator, not the server, the bottleneck on two cores.
 * Responses must carry Content-Length (no chunked bodies).
 */
export class RawClient {
  #conn: Deno.TcpConn | null = null;
  #buf = new Uint8Array(256 * 1024);
  #have = 0;
  constructor(private readonly host: string, private readonly port: number) {}

  async #fill(): Promise<void> {
    if (this.#have === this.#buf.length) {
      const bigger = new Uint8Array(this.#buf.length * 2);
      bigger.set(this.#buf);
      this.#buf = bigger;
    }
    const n = await this.#conn!.read(this.#buf.subarray(this.#have));
    if (n === null) throw new Error("connection closed");
    this.#have += n;
  }

  /** Sends one request (`headers`: CRLF-terminated lines) and reads the whole response. */
  async request(method: string, path: string, headers: string, body?: Uint8Array): Promise<number> {
    this.#conn ??= await Deno.connect({ hostname: this.host, port: this.port });
    const head = `${method} ${path} HTTP/1.1\r\nHost: ${this.host}\r\n${headers}` +
      (body ? `Content-Length: ${body.byteLength}\r\n\r\n` : "\r\n");
    if (body) {
      const h = encoder.encode(head);
      const msg = new Uint8Array(h.byteLength + body.byteLength);
      msg.set(h);
      msg.set(body, h.byteLength);
      await this.#conn.write(msg);
    } else await this.#conn.write(encoder.encode(head));
    let end = -1;
    while (end < 0) {
      await this.#fill();
      const text = decoder.decode(this.#buf.subarray(0, Math.min(this.#have, 4096)));
      end = text.indexOf("\r\n\r\n");
      if (end >= 0) {
        const head = text.slice(0, end);
        const status = Number(head.slice(9, 12));
        const m = /\r\ncontent-length: *(\d+)/i.exec(head);
        const total = end + 4 + (m ? Number(m[1]) : 0);
        while (this.#have < total) await this.#fill();
        this.#buf.copyWithin(0, total, this.#have);
        this.#have -= total;
        return status;
      }
    }
    return 0;
  }

  /** Sends one GET and reads the whole response; returns the status. */
  get(path: string, headers: string): Promise<number> {
    return this.request("GET", path, headers);
  }
}

/** How to drive one load run. */
export interface LoadOptions {
  /** Where requests go (host and port; the path is the sender's business). */
  url: string;
  /** "closed": `conc` requests in flight back to back; "open": `rate` per second. */
  mode: "closed" | "open";
  n: number;
  rate: number;
  conc: number;
  /** Requests sent (and discarded) first to warm up connections and the JIT. */
  warmup: number;
  /** Sends request `i` (`-1` during warm-up) on `client`; returns the status. */
  send: (client: RawClient, i: number) => Promise<number>;
}

/** Runs one load pattern and summarises it (a request is ok when answered 200). */
export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const u = new URL(o.url);
  const lat: number[] = [];
  let ok = 0;
  const pool: RawClient[] = [];
  const take = () => pool.pop() ?? new RawClient(u.hostname, Number(u.port));
  const one = async (i: number, scheduled: number) => {
    const client = take();
    try {
      if ((await o.send(client, i)) === 200) ok++;
      pool.push(client);
    } catch {
      // counted as not ok; the connection is dropped
    }
    lat.push(performance.now() - scheduled);
  };
  await Promise.all(Array.from({ length: o.warmup }, () => one(-1, performance.now())));
  lat.length = 0;
  ok = 0;
  const t0 = performance.now();
  if (o.mode === "closed") {
    let next = 0;
    await Promise.all(Array.from({ length: o.conc }, async () => {
      while (next < o.n) await one(next++, performance.now());
    }));
  } else {
    const inflight: Promise<void>[] = [];
    const interval = 1000 / o.rate;
    for (let i = 0; i < o.n; i++) {
      const scheduled = t0 + i * interval;
      const wait = scheduled - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      inflight.push(one(i, scheduled));
    }
    await Promise.all(inflight);
  }
  const seconds = (performance.now() - t0) / 1000;
  lat.sort((a, b) => a - b);
  return {
    requests: o.n,
    ok,
    seconds: +seconds.toFixed(2),
    rps: Math.round(o.n / seconds),
    p50_ms: +pct(lat, 0.5).toFixed(2),
    p99_ms: +pct(lat, 0.99).toFixed(2),
    max_ms: +lat[lat.length - 1].toFixed(2),
  };
}

/** Runs `script` with `args` in its own Deno process; returns its last stdout line as JSON. */
export async function runJson<T = LoadResult>(script: string, args: string[]): Promise<T> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script, ...args],
    stdout: "piped",
    stderr: "inherit",
    env: { NO_COLOR: "1" },
  }).output();
  return JSON.parse(decoder.decode(out.stdout).trim().split("\n").pop()!);
}

/** Writes `bench/results/<area>.json`. */
export async function writeResult(area: string, summary: unknown): Promise<void> {
  await Deno.mkdir(new URL("../results/", import.meta.url), { recursive: true });
  await Deno.writeTextFile(
    new URL(`../results/${area}.json`, import.meta.url),
    JSON.stringify(summary, null, 2) + "\n",
  );
}

/** The CPUs and Deno version a result was measured with, plus the load average then. */
export function machine() {
  let loadavg: number[] | undefined;
  try {
    loadavg = Deno.loadavg();
  } catch {
    // not available here
  }
  return { cpus: navigator.hardwareConcurrency, deno: Deno.version.deno, loadavg };
}
