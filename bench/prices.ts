/**
 * Prices benchmark: one `prices` instance republishing the sandbox's Alpaca trades on
 * `prices.<SYMBOL>`, side by side with a raw NATS publish loop, in the same run.
 * - throughput: 500 symbols on a 1 ms sandbox tick (the sandbox pushes as fast as it can);
 *   ticks counted by a subscriber on `prices.*` over a 10 s window after a warm-up, against a
 *   raw loop (one connection publishing PriceTick-sized JSON on `prices.<SYM>` as fast as it
 *   can, flushing periodically) counted by the same kind of subscriber;
 * - lag: 50 symbols on a 10 ms tick (5,000 ticks/s) for 10 s after a warm-up, from each trade's
 *   time (when the sandbox tick started; millisecond precision) to its delivery on
 *   `prices.<SYMBOL>` (same machine clock).
 * For context, the same run also measures what the sandbox pushes on the 1 ms tick to one
 * direct stream client (the most `prices` could receive), each process's CPU over the windows,
 * and how late `prices` answers a metrics scrape while saturated.
 * The sandbox, `prices` and the raw publisher run as their own processes; the subscriber runs
 * here. No `symbols` process: the bench writes the shard's assignment itself.
 *
 *   deno run -A bench/prices.ts
 * @module
 */
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { Kvm } from "@nats-io/kv";
import { decode as msgpackDecode, encode as msgpackEncode } from "@msgpack/msgpack";
import {
  buckets,
  encode,
  kvKeys,
  type PriceTick,
  subjects,
  SymbolAssignment,
} from "@meridian/proto";
import { provisionAll } from "@meridian/runtime";
import {
  freePort,
  type ServiceProcess,
  startNats,
  startServiceProcess,
} from "@meridian/runtime/testing";
import { DEMO_ALPACA_DATA_KEYS } from "@meridian/sandbox/data_keys";
import { shardId } from "../services/prices/credentials.ts";
import { machine, pct, writeResult } from "./lib/load.ts";

const self = new URL(import.meta.url).pathname;
const WARMUP_S = Number(Deno.env.get("BENCH_PRICES_WARMUP_S") ?? 3);
const WINDOW_S = Number(Deno.env.get("BENCH_PRICES_WINDOW_S") ?? 10);
const THROUGHPUT_SYMBOLS = 500;
const LAG_SYMBOLS = 50;
const LAG_INTERVAL_MS = 10;
const FEED = "sip";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const symbolsOf = (n: number) =>
  Array.from({ length: n }, (_, i) => `B${String(i).padStart(3, "0")}`);

/** A PriceTick as `prices` publishes it (the raw loop's payload shape and size). */
function tickPayload(symbol: string): Uint8Array {
  const tick: PriceTick = {
    symbol,
    price: "187.1234",
    size: "100",
    time: new Date().toISOString(),
    feed: FEED,
    delayed: false,
  };
  return new TextEncoder().encode(JSON.stringify(tick));
}

if (Deno.args[0] === "--raw") {
  // The reference: one connection publishing as fast as it can until killed.
  const nc = await connect({ servers: Deno.args[1] });
  const msgs = symbolsOf(THROUGHPUT_SYMBOLS).map((s) => ({
    subject: subjects.price(s),
    data: tickPayload(s),
  }));
  for (let i = 0;; i++) {
    const m = msgs[i % msgs.length];
    nc.publish(m.subject, m.data);
    if (i % 1_000 === 999) await nc.flush();
  }
}

/** Waits until `pred` holds, polling every 100 ms; throws with `what` after `timeoutMs`. */
async function until(
  pred: () => Promise<boolean> | boolean,
  what: string,
  timeoutMs = 60_000,
  context?: () => string,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await pred())) {
    if (Date.now() > end) {
      throw new Error(`timed out waiting for ${what}${context ? `\n${context()}` : ""}`);
    }
    await sleep(100);
  }
}

/** Counts messages on `prices.*` on its own connection. */
async function counter(url: string) {
  const nc = await connect({ servers: url });
  let n = 0;
  const sub = nc.subscribe(subjects.priceAll, {
    callback: () => {
      n++;
    },
  });
  await nc.flush();
  return {
    count: () => n,
    async close() {
      sub.unsubscribe();
      await nc.close();
    },
  };
}

/** CPU seconds (user + system) a process used so far, from /proc; undefined elsewhere. */
function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
  } catch {
    return undefined;
  }
}

/** Processes whose CPU share a window reports, by name. */
type Pids = Record<string, number | undefined>;

/**
 * Counts over `WINDOW_S` after `WARMUP_S`: messages per second and each of `pids`' CPU use in %
 * of one core.
 */
async function measure(count: () => number, pids: Pids = {}) {
  await sleep(WARMUP_S * 1000);
  const cpu0 = Object.entries(pids).map(([k, pid]) => [k, pid && cpuSeconds(pid)] as const);
  const [n0, t0] = [count(), performance.now()];
  await sleep(WINDOW_S * 1000);
  const [n1, t1] = [count(), performance.now()];
  const s = (t1 - t0) / 1000;
  const cpu: Record<string, number | null> = {};
  for (const [k, c0] of cpu0) {
    const c1 = pids[k] && cpuSeconds(pids[k]!);
    cpu[k] = c0 !== undefined && c1 !== undefined ? Math.round(((c1 - c0) / s) * 100) : null;
  }
  return {
    seconds: +s.toFixed(2),
    messages: n1 - n0,
    per_s: Math.round((n1 - n0) / s),
    cpu_percent: cpu,
  };
}

/** Waits until nothing more arrives (a backlog drained after the tick slowed down). */
async function quiet(count: () => number): Promise<void> {
  let last = -1;
  await until(
    async () => {
      const n = count();
      const settled = n === last;
      last = n;
      await sleep(400);
      return settled;
    },
    "the stream to go quiet",
    120_000,
  );
}

/**
 * Trades per second the sandbox pushes to one data-stream client at a 1 ms tick: a WebSocket in
 * msgpack, as `prices` connects, that only decodes and counts.
 */
async function sandboxCeiling(base: string, symbols: string[], pids: Pids) {
  const k = DEMO_ALPACA_DATA_KEYS[1];
  // Deno's WebSocket takes handshake headers (non-standard); the DOM typing does not know it.
  const ws = new WebSocket(`${base.replace("http", "ws")}/alpaca-data/v2/${FEED}`, {
    headers: { "Content-Type": "application/msgpack" },
  } as unknown as string[]);
  ws.binaryType = "arraybuffer";
  let trades = 0;
  let acked = false;
  ws.onmessage = (e) => {
    for (const m of msgpackDecode(new Uint8Array(e.data as ArrayBuffer)) as { T: string }[]) {
      if (m.T === "t") trades++;
      else if (m.T === "subscription") acked = true;
    }
  };
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = reject;
  });
  ws.send(msgpackEncode({ action: "auth", key: k.keyId, secret: k.secret }));
  ws.send(msgpackEncode({ action: "subscribe", trades: symbols }));
  await until(() => acked, "the sandbox to acknowledge the subscription", 10_000);
  await ticksEvery(1);
  const r = await measure(() => trades, pids);
  await ticksEvery(60_000);
  const closed = new Promise((resolve) => ws.onclose = resolve);
  ws.close();
  await closed;
  return r;
}

const loadBefore = Deno.loadavg();
const nats = await startNats();
const nc: NatsConnection = await connect({ servers: nats.url });
await provisionAll({ nc });
const assignments = await new Kvm(nc).open(buckets.symbolAssignments.name);

const [key] = DEMO_ALPACA_DATA_KEYS;
const shard = shardId(FEED, key.keyId);
async function assign(symbols: string[]): Promise<void> {
  await assignments.put(
    kvKeys.shardAssignment(shard),
    encode(SymbolAssignment, {
      target: shard,
      stocks: symbols,
      crypto: [],
      leader: "bench",
      updated_at: new Date().toISOString(),
    }),
  );
}

const sandboxPort = freePort();
const sandboxUrl = `http://127.0.0.1:${sandboxPort}`;
const processes: ServiceProcess[] = [];
const sandbox = startServiceProcess(new URL("../services/sandbox/main.ts", import.meta.url), {
  SANDBOX_MODE: "test",
  SANDBOX_PORT: String(sandboxPort),
  SANDBOX_URL: sandboxUrl,
  LOG_LEVEL: "warn",
});
processes.push(sandbox);
async function ticksEvery(ms: number): Promise<void> {
  const res = await fetch(`${sandboxUrl}/_admin/alpaca/ticks`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ interval_ms: ms }),
  });
  const body = await res.json();
  if (!res.ok) throw new Error(`sandbox tick interval: ${res.status} ${JSON.stringify(body)}`);
}

let raw: Deno.ChildProcess | undefined;
try {
  await until(
    async () => (await sandbox.readyz()) === 200,
    "the sandbox to be ready",
    60_000,
    () => sandbox.output(),
  );
  const natsPid = Number((await Deno.readTextFile(`${nats.dir}/nats.pid`)).trim()) || undefined;
  // No trades until the bench asks for them (the demo's 1 s tick would only add noise).
  await ticksEvery(60_000);

  // The source's ceiling, for context: what the sandbox pushes on the 1 ms tick to one direct
  // stream client that only counts (another data key, before prices subscribes anything).
  const ceiling = await sandboxCeiling(sandboxUrl, symbolsOf(THROUGHPUT_SYMBOLS), {
    sandbox: sandbox.child.pid,
    nats: natsPid,
    bench: Deno.pid,
  });

  await assign(symbolsOf(THROUGHPUT_SYMBOLS));
  const prices = startServiceProcess(new URL("../services/prices/main.ts", import.meta.url), {
    PROVIDERS: "sandbox",
    SANDBOX_URL: sandboxUrl,
    NATS_URL: nats.url,
    ALPACA_FEED: FEED,
    ALPACA_DATA_KEYS: `${key.keyId}:${key.secret}`,
    PRICES_POLL_S: "3600",
    LOG_LEVEL: "warn",
  });
  processes.push(prices);
  const streamed = () => prices.metric("meridian_prices_streamed_symbols");
  // The ops listener of a busy process can take longer than ServiceProcess.metric's 1 s
  // deadline: the bench scrapes itself, with more patience, and keeps the slowest scrape.
  let slowestScrapeMs = 0;
  const metric = async (series: string) => {
    const t0 = performance.now();
    try {
      const r = await fetch(`http://127.0.0.1:${prices.metricsPort}/metrics`, {
        signal: AbortSignal.timeout(15_000),
      });
      const line = (await r.text()).split("\n").find((l) => l.startsWith(series + " "));
      return line === undefined ? undefined : Number(line.slice(series.length + 1));
    } catch {
      return undefined;
    } finally {
      slowestScrapeMs = Math.max(slowestScrapeMs, performance.now() - t0);
    }
  };
  const ticksIn = () => metric('meridian_prices_ticks_in_total{stream="stocks"}');
  const ticksOut = () => metric('meridian_prices_ticks_out_total{source="stream"}');
  const pricesLog = () =>
    `prices alive: ${prices.alive()}; its log:\n${prices.output().slice(-4000)}`;
  const alive = () => {
    if (!prices.alive()) throw new Error(`the prices process exited\n${pricesLog()}`);
    return true;
  };
  await until(
    async () => alive() && (await prices.readyz()) === 200,
    "prices to be ready",
    60_000,
    pricesLog,
  );
  await until(
    async () => alive() && (await streamed()) === THROUGHPUT_SYMBOLS,
    `prices to stream ${THROUGHPUT_SYMBOLS} symbols`,
    60_000,
    pricesLog,
  );

  // Throughput: prices republishing the sandbox's 1 ms tick over 500 symbols.
  const sub = await counter(nats.url);
  // Scrapes wait for the idle phases: saturated, prices answers its ops listener late.
  const [inBefore, outBefore] = [await ticksIn(), await ticksOut()];
  await ticksEvery(1);
  // One scrape in the window, only to time the ops listener under load (slowest scrape).
  const probe = sleep((WARMUP_S + 1) * 1000).then(ticksIn);
  const republished = await measure(sub.count, {
    sandbox: sandbox.child.pid,
    prices: prices.child.pid,
    nats: natsPid,
    bench: Deno.pid,
  });
  await ticksEvery(60_000);
  await probe;
  await quiet(sub.count);
  const phase = {
    ticks_in: (await ticksIn() ?? NaN) - (inBefore ?? 0),
    ticks_out: (await ticksOut() ?? NaN) - (outBefore ?? 0),
    received: sub.count(),
  };

  // Reference, same run: a raw publish loop, counted the same way (prices idle).
  const before = sub.count();
  raw = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", self, "--raw", nats.url],
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  await until(() => sub.count() > before, "the raw publisher's first message", 30_000);
  const rawRate = await measure(sub.count, {
    raw_publisher: raw.pid,
    nats: natsPid,
    bench: Deno.pid,
  });
  raw.kill("SIGKILL");
  await raw.status;
  raw = undefined;
  await quiet(sub.count);
  await sub.close();

  // Lag at 5,000 ticks/s: 50 symbols on a 10 ms tick.
  await assign(symbolsOf(LAG_SYMBOLS));
  await until(
    async () => alive() && (await streamed()) === LAG_SYMBOLS,
    `prices to stream ${LAG_SYMBOLS} symbols`,
    60_000,
    pricesLog,
  );
  const lagNc = await connect({ servers: nats.url });
  const decoder = new TextDecoder();
  let measuring = false;
  let received = 0;
  const lags: number[] = [];
  const lagSub = lagNc.subscribe(subjects.priceAll, {
    callback: (_e, m) => {
      received++;
      if (!measuring) return;
      const tick = JSON.parse(decoder.decode(m.data)) as PriceTick;
      lags.push(Date.now() - Date.parse(tick.time));
    },
  });
  await lagNc.flush();
  await ticksEvery(LAG_INTERVAL_MS);
  await sleep(WARMUP_S * 1000);
  const in0 = await ticksIn();
  const l0 = performance.now();
  measuring = true;
  await sleep(WINDOW_S * 1000);
  measuring = false;
  const lagSeconds = (performance.now() - l0) / 1000;
  const in1 = await ticksIn();
  await ticksEvery(60_000);
  lagSub.unsubscribe();
  await lagNc.close();
  const outTotal = await ticksOut();
  lags.sort((a, b) => a - b);

  const results = {
    throughput: {
      symbols: THROUGHPUT_SYMBOLS,
      sandbox_tick_ms: 1,
      window_s: republished.seconds,
      sandbox_push_ceiling_per_s: ceiling.per_s,
      cpu_percent_of_one_core: {
        prices_run: republished.cpu_percent,
        raw_run: rawRate.cpu_percent,
        sandbox_ceiling_run: ceiling.cpu_percent,
      },
      prices_ticks_per_s: republished.per_s,
      whole_phase_totals: phase,
      raw_nats_ticks_per_s: rawRate.per_s,
      ratio_of_raw: +(republished.per_s / rawRate.per_s).toFixed(3),
    },
    lag_at_5000_per_s: {
      symbols: LAG_SYMBOLS,
      sandbox_tick_ms: LAG_INTERVAL_MS,
      window_s: +lagSeconds.toFixed(2),
      samples: lags.length,
      achieved_per_s: Math.round(lags.length / lagSeconds),
      ticks_in_per_s: in0 !== undefined && in1 !== undefined
        ? Math.round((in1 - in0) / lagSeconds)
        : null,
      p50_ms: pct(lags, 0.5),
      p99_ms: pct(lags, 0.99),
      max_ms: lags[lags.length - 1] ?? NaN,
    },
    prices_ticks_out_total: outTotal ?? null,
    prices_slowest_metrics_scrape_ms: Math.round(slowestScrapeMs),
  };

  const t = results.throughput;
  const l = results.lag_at_5000_per_s;
  const cell = (v: unknown, w = 10) => String(v).padStart(w);
  console.log("| throughput (500 symbols, 1 ms tick) | ticks/s    |");
  console.log("|-------------------------------------|------------|");
  console.log(`| prices republished on prices.*      | ${cell(t.prices_ticks_per_s)} |`);
  console.log(`| raw NATS publish loop               | ${cell(t.raw_nats_ticks_per_s)} |`);
  console.log(`| sandbox push ceiling (direct client)| ${cell(t.sandbox_push_ceiling_per_s)} |`);
  console.log(
    `| prices / raw                        | ${cell(`${(t.ratio_of_raw * 100).toFixed(1)} %`)} |`,
  );
  const cpus = (c: Record<string, number | null>) =>
    Object.entries(c).map(([k, v]) => `${k} ${v ?? "?"} %`).join(", ");
  console.log(`cpu (% of one core), prices run: ${cpus(republished.cpu_percent)}`);
  console.log(`cpu (% of one core), raw run: ${cpus(rawRate.cpu_percent)}`);
  console.log(`cpu (% of one core), sandbox ceiling run: ${cpus(ceiling.cpu_percent)}`);
  console.log(
    `whole throughput phase: prices took in ${phase.ticks_in} trades, published ${phase.ticks_out}, the subscriber got ${phase.received}`,
  );
  console.log(`slowest /metrics scrape of prices: ${results.prices_slowest_metrics_scrape_ms} ms`);
  console.log("");
  console.log(
    "| lag (50 symbols, 10 ms tick)        | ticks/s    | p50 ms   | p99 ms   | max ms   |",
  );
  console.log(
    "|-------------------------------------|------------|----------|----------|----------|",
  );
  console.log(
    `| sandbox trade → prices.<SYMBOL>     | ${cell(l.achieved_per_s)} | ${cell(l.p50_ms, 8)} | ${
      cell(l.p99_ms, 8)
    } | ${cell(l.max_ms, 8)} |`,
  );

  const summary = {
    benchmark: "prices",
    at: new Date().toISOString(),
    machine: { ...machine(), loadavg_before: loadBefore },
    notes:
      `one prices process (sip feed, one data key), the sandbox and the raw publisher each in their own process, the counting subscriber in the bench process, NATS alongside; all on the same shared cores. throughput: ${WINDOW_S} s window after ${WARMUP_S} s warm-up; raw: one connection publishing precomputed PriceTick JSON on prices.<SYM> (500 subjects), flushing every 1,000 messages. sandbox_push_ceiling: what the sandbox pushes on the same tick to one direct msgpack stream client that only decodes and counts (the most prices could receive). cpu: each process's user+system CPU over the window, from /proc. lag: Date.now() at delivery minus the tick's time (the sandbox tick's start, millisecond precision, so up to ~1 ms of rounding).`,
    targets: { ratio_of_raw: 0.5, p99_ms_at_5000_per_s: 20 },
    results,
    met: { throughput: t.ratio_of_raw >= 0.5, p99: l.p99_ms <= 20 },
  };
  await writeResult("prices", summary);
  console.log(JSON.stringify(summary.met));
} finally {
  if (raw) {
    try {
      raw.kill("SIGKILL");
    } catch {
      // gone
    }
    await raw.status;
  }
  for (const p of processes.reverse()) await p.kill("SIGTERM");
  await nc.close().catch(() => {});
  await nats.close();
}
