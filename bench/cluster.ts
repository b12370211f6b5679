/**
 * What a three-node NATS cluster costs: the relay against one nats-server (R1) and against
 * three local nats-server processes in cluster mode (R3), in the same run, and JetStream's
 * publish rate at R1 and R3.
 * - relay throughput: closed loop, 64 connections in flight, distinct signed webhooks, and
 *   how fast they reach JetStream WEBHOOKS (forwarded: from the first send until the stream
 *   holds them all);
 * - webhook acknowledgement latency: open loop at 500 webhooks/s for 10 s, p50/p99 from each
 *   request's scheduled send time;
 * - JetStream publishes of 1 KiB: 256 in flight (rate), and one at a time (p50/p99 latency),
 *   to a stream of one replica and of three.
 * The load generator runs in its own process (this file with `--load`). Everything shares the
 * machine's two cores, so the cluster's three servers compete with the relay and the load.
 *
 *   deno run -A bench/cluster.ts
 * @module
 */
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { provisionAll } from "@meridian/runtime";
import {
  eventually,
  freePort,
  startNats,
  startNatsCluster,
  waitForPort,
} from "@meridian/runtime/testing";
import { BENCH_CONSUMER_KEY as KEY, webhookLoad as load } from "./lib/webhook_load.ts";
import { type LoadResult, machine, pct, runJson, writeResult } from "./lib/load.ts";

const self = new URL(import.meta.url).pathname;
const N = Number(Deno.env.get("BENCH_CLUSTER_N") ?? 10_000);
const OPEN_RATE = 500;
const OPEN_N = OPEN_RATE * 10;
const PUBLISHES = Number(Deno.env.get("BENCH_CLUSTER_PUBLISHES") ?? 20_000);

/** The relay's figures against one NATS deployment. */
interface RelayFigures {
  throughput: LoadResult;
  forwarded_per_s: number;
  at_500_per_s: LoadResult;
}

async function relayAgainst(natsUrl: string, replicas: number): Promise<RelayFigures> {
  const nc = await connect({ servers: natsUrl.split(",").map((u) => u.replace("nats://", "")) });
  await provisionAll({ nc }, { replicas });
  const jsm = await jetstreamManager(nc);
  const dir = await Deno.makeTempDir({ prefix: "cluster-bench-" });
  const port = freePort();
  const relay = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../services/relay/main.ts", import.meta.url).pathname],
    env: {
      NATS_URL: natsUrl,
      RELAY_PORT: String(port),
      METRICS_PORT: "0",
      RELAY_OUTBOX_PATH: `${dir}/outbox.sqlite`,
      SNAPTRADE_CONSUMER_KEY: KEY,
      LOG_LEVEL: "error",
    },
    stdout: "null",
  }).spawn();
  try {
    await waitForPort(port, 30_000);
    const url = `http://127.0.0.1:${port}/webhooks/snaptrade`;
    const stored = async () => (await jsm.streams.info("WEBHOOKS")).state.messages;
    const before = await stored();
    const t0 = performance.now();
    const throughput = await runJson(self, ["--load", url, "closed", String(N), "0", "64"]);
    await eventually(async () => (await stored()) >= before + N, {
      timeoutMs: 300_000,
      intervalMs: 50,
      what: "every webhook in WEBHOOKS",
    });
    const forwarded = Math.round(N / ((performance.now() - t0) / 1000));
    const at500 = await runJson(self, [
      "--load",
      url,
      "open",
      String(OPEN_N),
      String(OPEN_RATE),
      "0",
    ]);
    return { throughput, forwarded_per_s: forwarded, at_500_per_s: at500 };
  } finally {
    relay.kill("SIGTERM");
    await relay.status;
    await nc.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/** JetStream publishes of 1 KiB to a fresh stream with `replicas` copies. */
async function publishRate(nc: NatsConnection, replicas: number) {
  const jsm = await jetstreamManager(nc);
  const name = `BENCH_R${replicas}`;
  await jsm.streams.add({ name, subjects: [`bench.r${replicas}`], num_replicas: replicas });
  const js = jetstream(nc);
  const subject = `bench.r${replicas}`;
  const payload = new Uint8Array(1024);
  // Pipelined: 256 publishes in flight, each awaited for its PubAck.
  const t0 = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: 256 }, async () => {
    while (next < PUBLISHES) {
      next++;
      await js.publish(subject, payload);
    }
  }));
  const perSecond = Math.round(PUBLISHES / ((performance.now() - t0) / 1000));
  // One at a time: the PubAck's round trip (a quorum's write at R3).
  const latencies: number[] = [];
  for (let i = 0; i < 2_000; i++) {
    const t = performance.now();
    await js.publish(subject, payload);
    latencies.push(performance.now() - t);
  }
  latencies.sort((a, b) => a - b);
  await jsm.streams.delete(name);
  return {
    pipelined_per_s: perSecond,
    one_at_a_time_p50_ms: +pct(latencies, 0.5).toFixed(2),
    one_at_a_time_p99_ms: +pct(latencies, 0.99).toFixed(2),
  };
}

if (Deno.args[0] === "--load") {
  const [, url, mode, n, rate, conc] = Deno.args;
  console.log(JSON.stringify(await load(url, mode as "closed" | "open", +n, +rate, +conc)));
  Deno.exit(0);
}

const loadBefore = Deno.loadavg();
const single = await startNats();
const cluster = await startNatsCluster();
const relay = {
  single_node_r1: await relayAgainst(single.url, 1),
  cluster_r3: await relayAgainst(cluster.url, 3),
};
const clusterNc = await connect({
  servers: cluster.nodes.map((n) => n.url.replace("nats://", "")),
});
const singleNc = await connect({ servers: single.url.replace("nats://", "") });
const publish = {
  single_node_r1: await publishRate(singleNc, 1),
  cluster_r1: await publishRate(clusterNc, 1),
  cluster_r3: await publishRate(clusterNc, 3),
};
await clusterNc.close();
await singleNc.close();
await cluster.close();
await single.close();

const r = (name: keyof typeof relay) => {
  const x = relay[name];
  return `| ${name.padEnd(16)} | ${String(x.throughput.rps).padStart(10)} | ${
    String(x.forwarded_per_s).padStart(13)
  } | ${String(x.at_500_per_s.p50_ms).padStart(8)} | ${
    String(x.at_500_per_s.p99_ms).padStart(8)
  } |`;
};
console.log("| relay against    | acks/s     | forwarded/s   | p50 ms   | p99 ms   |");
console.log("|------------------|------------|---------------|----------|----------|");
console.log(r("single_node_r1"));
console.log(r("cluster_r3"));
console.log("");
console.log("| JetStream publish | pipelined msg/s | one at a time p50 ms | p99 ms |");
console.log("|-------------------|-----------------|----------------------|--------|");
for (const [name, p] of Object.entries(publish)) {
  console.log(
    `| ${name.padEnd(17)} | ${String(p.pipelined_per_s).padStart(15)} | ${
      String(p.one_at_a_time_p50_ms).padStart(20)
    } | ${String(p.one_at_a_time_p99_ms).padStart(6)} |`,
  );
}
await writeResult("cluster", {
  benchmark: "cluster",
  at: new Date().toISOString(),
  machine: { ...machine(), loadavg_before: loadBefore },
  notes: "relay: closed loop 64 in flight for acks/s, forwarded/s until WEBHOOKS holds them " +
    "all; latency: open loop 500/s for 10 s from scheduled send time. Publishes: 1 KiB, 256 " +
    "in flight, then 2,000 one at a time. Three nats-server processes on the same two cores.",
  relay,
  publish,
});
