/**
 * Relay benchmark: verified SnapTrade webhooks with the durable outbox write before each 200,
 * side by side with a bare Hono endpoint, in the same run.
 * - throughput: closed loop, 64 connections in flight, distinct signed webhooks;
 * - latency: open loop at 1,000 webhooks/s for 10 s, p50/p99 from each request's scheduled
 *   send time (no coordinated omission).
 * The load generator (raw keep-alive HTTP/1.1, `bench/lib/load.ts`) runs in its own process
 * (this file with `--load`).
 *
 *   deno run -A bench/relay.ts
 * @module
 */
import { Hono } from "hono";
import { provisionAll } from "@meridian/runtime";
import { freePort, startNats, waitForPort } from "@meridian/runtime/testing";
import { connect } from "@nats-io/transport-node";
import { BENCH_CONSUMER_KEY as KEY, webhookLoad as load } from "./lib/webhook_load.ts";
import { type LoadResult, machine, runJson, writeResult } from "./lib/load.ts";

const deno = Deno.execPath();
const self = new URL(import.meta.url).pathname;

if (Deno.args[0] === "--load") {
  const [, url, mode, n, rate, conc] = Deno.args;
  console.log(JSON.stringify(await load(url, mode as "closed" | "open", +n, +rate, +conc)));
  Deno.exit(0);
}

if (Deno.args[0] === "--bare") {
  // The comparison: a Hono endpoint that reads the body and answers 200, nothing else.
  const app = new Hono();
  app.post("/webhooks/snaptrade", async (c) => {
    await c.req.arrayBuffer();
    return c.json({ status: "accepted" });
  });
  Deno.serve({ port: +Deno.args[1], hostname: "127.0.0.1", onListen: () => {} }, app.fetch);
} else {
  const loadBefore = Deno.loadavg();
  const nats = await startNats();
  const nc = await connect({ servers: nats.url });
  await provisionAll({ nc });
  await nc.close();
  const dir = await Deno.makeTempDir({ prefix: "relay-bench-" });
  const relayPort = freePort();
  const barePort = freePort();
  const relay = new Deno.Command(deno, {
    args: ["run", "-A", new URL("../services/relay/main.ts", import.meta.url).pathname],
    env: {
      NATS_URL: nats.url,
      RELAY_PORT: String(relayPort),
      METRICS_PORT: "0",
      RELAY_OUTBOX_PATH: `${dir}/outbox.sqlite`,
      SNAPTRADE_CONSUMER_KEY: KEY,
      LOG_LEVEL: "error",
    },
    stdout: "null",
  }).spawn();
  const bare = new Deno.Command(deno, {
    args: ["run", "-A", self, "--bare", String(barePort)],
    stdout: "null",
  }).spawn();
  await waitForPort(relayPort, 30_000);
  await waitForPort(barePort, 30_000);
  const N = Number(Deno.env.get("BENCH_RELAY_N") ?? 20_000);
  const targets = {
    relay: `http://127.0.0.1:${relayPort}/webhooks/snaptrade`,
    bare: `http://127.0.0.1:${barePort}/webhooks/snaptrade`,
  };
  const results: Record<string, { throughput: LoadResult; at_1000_per_s: LoadResult }> = {};
  for (const [name, url] of Object.entries(targets)) {
    const throughput = await runJson(self, ["--load", url, "closed", String(N), "0", "64"]);
    const at1000 = await runJson(self, ["--load", url, "open", "10000", "1000", "0"]);
    results[name] = { throughput, at_1000_per_s: at1000 };
  }
  relay.kill("SIGTERM");
  bare.kill("SIGTERM");
  await relay.status;
  await bare.status;
  await nats.close();
  await Deno.remove(dir, { recursive: true });

  const row = (name: string) => {
    const r = results[name];
    return `| ${name.padEnd(28)} | ${String(r.throughput.rps).padStart(8)} | ${
      String(r.at_1000_per_s.p50_ms).padStart(8)
    } | ${String(r.at_1000_per_s.p99_ms).padStart(8)} | ${
      String(r.at_1000_per_s.max_ms).padStart(8)
    } |`;
  };
  console.log("| endpoint                     |  req/s   | p50 ms   | p99 ms   | max ms   |");
  console.log("|------------------------------|----------|----------|----------|----------|");
  console.log(row("relay").replace("relay".padEnd(28), "relay (verify + outbox fsync)"));
  console.log(row("bare").replace("bare".padEnd(28), "bare Hono"));
  const summary = {
    benchmark: "relay",
    at: new Date().toISOString(),
    machine: { ...machine(), loadavg_before: loadBefore },
    notes:
      "throughput: closed loop, 64 in flight; latency: open loop 1,000/s for 10 s from scheduled send time; outbox synchronous=FULL with group commit",
    targets: { verified_webhooks_per_s: 5000, p99_ms_at_1000_per_s: 25 },
    results,
    met: {
      throughput: results.relay.throughput.rps >= 5000,
      p99: results.relay.at_1000_per_s.p99_ms <= 25,
    },
  };
  await writeResult("relay", summary);
  console.log(JSON.stringify(summary.met));
}
