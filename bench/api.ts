/**
 * Api benchmark.
 * - GET /api/holdings for a signed-in user with 200 positions, side by side with a bare Hono
 *   route served by the same process: closed-loop throughput (64 in flight) and open-loop
 *   latency at 1,000 req/s for 10 s (p50/p99 from each request's scheduled send time).
 * - SSE: 5,000 concurrent /api/stream connections (5,000 users) on one api instance, each
 *   receiving one `value` event a second published on NATS; delivery latency, and the api
 *   process's CPU and memory.
 * The api runs in its own process (this file with `--serve`); the load generators in others
 * (`--load`, `--sse`).
 *
 *   deno run -A bench/api.ts
 * @module
 */
import { Hono } from "hono";
import { connect } from "@nats-io/transport-node";
import { provisionAll } from "@meridian/runtime";
import { freePort, startNats, testDatabase, waitForPort } from "@meridian/runtime/testing";
import { encode, PortfolioValue, subjects } from "@meridian/proto";
import { benchApiApp } from "./lib/api_app.ts";
import { type LoadResult, runJson, runLoad, writeResult } from "./lib/load.ts";
import {
  createStreamUsers,
  mergeSse,
  procStats,
  runSseClients,
  SseClientProcess,
} from "./lib/sse.ts";
import { seedUser } from "../services/api/testing/seed.ts";
import { hashToken, newToken } from "../services/api/sessions.ts";

const deno = Deno.execPath();
const self = new URL(import.meta.url).pathname;

// ---- HTTP load generator (own process) ----
function load(url: string, cookie: string, mode: string, n: number, rate: number, conc: number) {
  const path = new URL(url).pathname;
  // As a browser asks: gzip accepted (the body is taken as sent; a browser inflates it on
  // its own core).
  const headers = `Cookie: ${cookie}\r\nAccept-Encoding: gzip\r\n`;
  return runLoad({
    url,
    mode: mode as "closed" | "open",
    n,
    rate,
    conc,
    warmup: Math.max(conc, 16),
    send: (client) => client.get(path, headers),
  });
}

// ---- the api under test (own process) ----
async function serve(port: number, dbUrl: string, natsUrl: string) {
  const app = await benchApiApp("api-bench", port, dbUrl, natsUrl);
  const root = new Hono();
  // The comparison: a bare Hono route in the same process, on the same server.
  root.get("/bare", (c) => c.json({ ok: true }));
  root.route("/", app);
  Deno.serve({ port, hostname: "127.0.0.1", onListen: () => {} }, root.fetch);
}

if (Deno.args[0] === "--load") {
  const [, url, cookie, mode, n, rate, conc] = Deno.args;
  console.log(JSON.stringify(await load(url, cookie, mode, +n, +rate, +conc)));
  Deno.exit(0);
} else if (Deno.args[0] === "--sse") {
  await runSseClients(+Deno.args[1], Deno.args[2], +Deno.args[3], +Deno.args[4]);
} else if (Deno.args[0] === "--serve") {
  await serve(+Deno.args[1], Deno.args[2], Deno.args[3]);
} else {
  const STREAMS = Number(Deno.env.get("BENCH_API_STREAMS") ?? 5000);
  const SSE_SECONDS = Number(Deno.env.get("BENCH_API_SSE_S") ?? 20);
  const N = Number(Deno.env.get("BENCH_API_N") ?? 20_000);
  const db = await testDatabase();
  const nats = await startNats();
  const nc = await connect({ servers: nats.url });
  await provisionAll({ nc });

  // One user with 200 positions (plus a second connection's 2), signed in.
  const user = await seedUser(db.sql, "bench@example.com", { positions: 200 });
  const token = newToken();
  await db.sql`insert into sessions (token_hash, user_id, expires_at)
               values (${await hashToken(token)}, ${user.userId}, now() + interval '1 day')`;
  const cookie = `meridian_session=${token}`;

  // 5,000 users with one session each for the streams.
  const { ids, tokens } = await createStreamUsers(db.sql, STREAMS, "sse");
  const tokensFile = await Deno.makeTempFile({ suffix: ".json" });
  await Deno.writeTextFile(tokensFile, JSON.stringify(tokens));

  const port = freePort();
  const server = new Deno.Command(deno, {
    args: ["run", "-A", self, "--serve", String(port), db.url, nats.url],
    stdout: "inherit",
    stderr: "inherit",
    env: { NO_COLOR: "1" },
  }).spawn();
  await waitForPort(port, 60_000);
  const base = `http://127.0.0.1:${port}`;
  const check = await fetch(`${base}/api/holdings`, { headers: { cookie } });
  const view = await check.json();
  if (check.status !== 200 || view.positions.length < 200) {
    throw new Error(`holdings check failed: ${check.status}`);
  }

  const http: Record<string, { throughput: LoadResult; at_1000_per_s: LoadResult }> = {};
  for (const [name, path] of [["holdings", "/api/holdings"], ["bare", "/bare"]] as const) {
    const throughput = await runJson(self, [
      "--load",
      base + path,
      cookie,
      "closed",
      String(N),
      "0",
      "64",
    ]);
    const at1000 = await runJson(self, [
      "--load",
      base + path,
      cookie,
      "open",
      "10000",
      "1000",
      "0",
    ]);
    http[name] = { throughput, at_1000_per_s: at1000 };
  }

  // SSE: open the streams, then publish one value per user per second.
  const sseProc = new SseClientProcess(self, [
    "--sse",
    String(port),
    tokensFile,
    "0",
    String(STREAMS),
  ]);
  const opened = await sseProc.ready();
  console.error(`sse: ${opened.connected} connected, ${opened.failed} failed`);
  const idle = procStats(server.pid);
  const before = procStats(server.pid);
  const t0 = performance.now();
  let seq = 0;
  let peakRss = before.rss_mb;
  const publishing = (async () => {
    const until = t0 + (SSE_SECONDS + 1) * 1000;
    while (performance.now() < until) {
      const tick = performance.now();
      seq++;
      for (let i = 0; i < ids.length; i++) {
        nc.publish(
          subjects.portfolioValue(ids[i]),
          encode(PortfolioValue, {
            user_id: ids[i],
            time: new Date().toISOString(),
            seq,
            currency: "USD",
            total: "100000.00",
            positions_value: "100000.00",
            cash: "0",
            totals: [],
            accounts: [],
            day_change: { amount: "0", percent: null, covered: 0, positions: 0 },
            unrealized_pl: { amount: "0", cost_basis: "0", covered: 0, positions: 0 },
            prices: {
              as_of: null,
              live: 0,
              delayed: 0,
              stale: 0,
              provider: 0,
              unpriced: 0,
              market: "unknown",
            },
            fx: { date: null, unconverted: [] },
            quotes: {},
          }),
        );
        // Spread the second's messages instead of one burst.
        if (i % 250 === 249) await new Promise((r) => setTimeout(r, 40));
      }
      await nc.flush();
      peakRss = Math.max(peakRss, procStats(server.pid).rss_mb);
      const rest = 1000 - (performance.now() - tick);
      if (rest > 0) await new Promise((r) => setTimeout(r, rest));
    }
  })();
  await sseProc.go(SSE_SECONDS);
  const sseResult = mergeSse([await sseProc.result()]);
  await publishing;
  const after = procStats(server.pid);
  const wall = (performance.now() - t0) / 1000;
  const sseSummary = {
    ...sseResult,
    seconds: SSE_SECONDS,
    server_cpu_percent_of_one_core: +(((after.cpu_s - before.cpu_s) / wall) * 100).toFixed(1),
    server_rss_mb_streams_open: idle.rss_mb,
    server_rss_mb_peak: peakRss,
  };

  server.kill("SIGTERM");
  await server.status;
  await nc.close();
  await nats.close();
  await db.close();
  await Deno.remove(tokensFile);

  const row = (label: string, r: { throughput: LoadResult; at_1000_per_s: LoadResult }) =>
    `| ${label.padEnd(34)} | ${String(r.throughput.rps).padStart(8)} | ${
      String(r.at_1000_per_s.rps).padStart(9)
    } | ${String(r.at_1000_per_s.p50_ms).padStart(7)} | ${
      String(r.at_1000_per_s.p99_ms).padStart(7)
    } | ${String(r.at_1000_per_s.max_ms).padStart(8)} |`;
  console.log(
    "| endpoint                           | max req/s | @1000/s  | p50 ms  | p99 ms  | max ms   |",
  );
  console.log(
    "|------------------------------------|----------|-----------|---------|---------|----------|",
  );
  console.log(row("GET /api/holdings (200 positions)", http.holdings));
  console.log(row("bare Hono route (same process)", http.bare));
  console.log("");
  console.log(
    "| SSE streams | connected | events/s | delivery p50 | p99 ms | api CPU % (1 core) | RSS open → peak MB |",
  );
  console.log(
    "|-------------|-----------|----------|--------------|--------|--------------------|--------------------|",
  );
  console.log(
    `| ${String(STREAMS).padEnd(11)} | ${String(sseSummary.connected).padStart(9)} | ${
      String(sseSummary.events_per_s).padStart(8)
    } | ${String(sseSummary.delivery_p50_ms).padStart(12)} | ${
      String(sseSummary.delivery_p99_ms).padStart(6)
    } | ${String(sseSummary.server_cpu_percent_of_one_core).padStart(18)} | ${
      `${sseSummary.server_rss_mb_streams_open} → ${sseSummary.server_rss_mb_peak}`.padStart(18)
    } |`,
  );
  const summary = {
    benchmark: "api",
    at: new Date().toISOString(),
    machine: { cpus: navigator.hardwareConcurrency, deno: Deno.version.deno },
    notes:
      "api and bare route in one process; load generators in separate processes; all on the same 2 shared cores as PostgreSQL and NATS. throughput: closed loop, 64 in flight; latency: open loop 1,000/s for 10 s from scheduled send time. SSE: one user per stream, one portfolio.value message per user per second through NATS.",
    targets: { holdings_req_per_s: 5000, holdings_p99_ms_at_1000_per_s: 20 },
    http,
    sse: sseSummary,
    met: {
      throughput: http.holdings.throughput.rps >= 5000,
      p99: http.holdings.at_1000_per_s.p99_ms <= 20,
      sse_all_connected: sseSummary.connected === STREAMS,
    },
  };
  await writeResult("api", summary);
  console.log(JSON.stringify(summary.met));
}
