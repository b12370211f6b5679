/**
 * runtime/nats.ts on a three-node cluster (three local nats-server processes): replicas from
 * NATS_REPLICAS, a refused count, and what a node's death does to a client, a durable
 * consumer and a lease.
 * @module
 */
import assert from "node:assert/strict";
import { AckPolicy, jetstreamManager } from "@nats-io/jetstream";
import { buckets, consumers, streams } from "@meridian/proto";
import { eventually, startNats, startNatsCluster } from "./testing/mod.ts";
import { createLogger } from "./log.ts";
import {
  connectNats,
  consumeOptions,
  natsServers,
  provisionAll,
  ReplicaCountError,
} from "./nats.ts";
import { instanceId, Lease, LeaseBoard } from "./lease.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const log = createLogger("test", "error");

Deno.test("NATS_URL: one server or a list, credentials from the first URL that has them", () => {
  assert.deepEqual(natsServers("nats://127.0.0.1:4222"), {
    servers: ["127.0.0.1:4222"],
    user: undefined,
    pass: undefined,
  });
  assert.deepEqual(natsServers("nats://svc:p%40ss@nats-1:4222, nats://nats-2,nats://nats-3:4223"), {
    servers: ["nats-1:4222", "nats-2:4222", "nats-3:4223"],
    user: "svc",
    pass: "p@ss",
  });
});

Deno.test(
  "provisioning: R1 raised to R3 everywhere, idempotent; R5 and a lone server refused",
  opts,
  async () => {
    const cluster = await startNatsCluster();
    const handle = await connectNats({ url: cluster.url, name: "t", log });
    const single = await startNats();
    const lone = await connectNats({ url: single.url, name: "t", log });
    try {
      await provisionAll(handle);
      const jsm = await jetstreamManager(handle.nc);
      const names = [
        ...Object.values(streams).map((s) => s.name),
        ...Object.values(buckets).map((b) => `KV_${b.name}`),
      ];
      for (const n of names) assert.equal((await jsm.streams.info(n)).config.num_replicas, 1, n);

      await provisionAll(handle, { replicas: 3 });
      await provisionAll(handle, { replicas: 3 });
      for (const n of names) {
        assert.equal((await jsm.streams.info(n)).config.num_replicas, 3, n);
        await eventually(async () => {
          const { cluster } = await jsm.streams.info(n);
          return cluster?.leader && cluster.replicas?.length === 2;
        }, { timeoutMs: 10_000, what: `${n}: a leader and two followers` });
      }
      const memory = await jsm.streams.info(`KV_${buckets.portfolioValues.name}`);
      assert.equal(memory.config.storage, "memory", "the derived bucket kept its storage");
      for (const c of Object.values(consumers)) {
        const info = await jsm.consumers.info(c.stream, c.durable);
        await eventually(
          async () =>
            (await jsm.consumers.info(c.stream, c.durable)).cluster?.replicas?.length === 2,
          { timeoutMs: 10_000, what: `consumer ${c.durable} on three nodes` },
        );
        assert.equal(info.config.max_deliver, c.maxDeliver);
      }

      const refused = await provisionAll(handle, { replicas: 5, placementWaitMs: 500 }).then(
        () => null,
        (e) => e,
      );
      assert.ok(refused instanceof ReplicaCountError, String(refused));
      assert.match(refused.message, /^NATS_REPLICAS=5, but the NATS cluster cannot place 5 copies/);
      await assert.rejects(
        provisionAll(lone, { replicas: 3 }),
        (e: Error) =>
          e instanceof ReplicaCountError &&
          /^NATS_REPLICAS=3, but the NATS server is not part of a cluster/.test(e.message),
      );
    } finally {
      await handle.nc.close();
      await lone.nc.close();
      await single.close();
      await cluster.close();
    }
  },
);

Deno.test(
  "SIGKILLed leaders: the client moves on, a durable consumer delivers all, the lease stays ours",
  opts,
  async () => {
    const cluster = await startNatsCluster();
    const worker = await connectNats({ url: cluster.url, name: "worker", log });
    const other = await connectNats({ url: cluster.url, name: "other", log });
    try {
      await provisionAll(worker, { replicas: 3 });
      const jsm = await jetstreamManager(worker.nc);
      await jsm.streams.add({ name: "CHAOS", subjects: ["chaos.>"], num_replicas: 3 });
      await jsm.consumers.add("CHAOS", {
        durable_name: "w",
        ack_policy: AckPolicy.Explicit,
        ack_wait: 5_000_000_000,
      });
      // The lease as services hold one (runtime/lease.ts), with their 5 s ttl.
      const kv = await worker.kvm.open(buckets.leases.name);
      const ttlMs = 5_000;
      const board = new LeaseBoard(kv, { filter: "chaos.>", ttlMs, log, nc: worker.nc });
      await board.start();
      const lease = new Lease({ kv, board, key: "chaos.lease", holder: instanceId("t"), ttlMs });
      const changes: boolean[] = [];
      lease.onChange((held) => changes.push(held));
      assert.equal(await lease.tryAcquire(), true);

      const seen = new Map<number, number>();
      const c = await worker.js.consumers.get("CHAOS", "w");
      const messages = await c.consume(consumeOptions(16));
      (async () => {
        for await (const m of messages) {
          const n = Number(m.string());
          seen.set(n, (seen.get(n) ?? 0) + 1);
          m.ack();
        }
      })();
      const sent: { n: number; at: number }[] = [];
      let next = 0;
      let publishing = true;
      const publisher = (async () => {
        while (publishing) {
          const n = next++;
          const at = Date.now();
          try {
            await other.js.publish(`chaos.${n % 4}`, String(n), {
              msgID: `m-${n}`,
              timeout: 2_000,
            });
            sent.push({ n, at });
          } catch {
            // not acknowledged: not counted
          }
          await new Promise((r) => setTimeout(r, 20));
        }
      })();

      /** Kills `node`, waits for deliveries to resume, restarts it; ms until they resumed. */
      const killAndRecover = async (node: string) => {
        await eventually(() => seen.size > next / 2, { what: "deliveries flowing" });
        const killedAt = Date.now();
        await cluster.node(node).kill();
        await eventually(() => sent.some((s) => s.at > killedAt && seen.has(s.n)), {
          timeoutMs: 15_000,
          what: `a message sent after ${node}'s death delivered`,
        });
        const resumed = Date.now() - killedAt;
        await cluster.node(node).restart();
        return resumed;
      };
      const consumerLeader = (await jsm.consumers.info("CHAOS", "w")).cluster!.leader!;
      const consumerResumed = await killAndRecover(consumerLeader);
      await cluster.settled();
      const leasesLeader = (await jsm.streams.info(`KV_${buckets.leases.name}`)).cluster!.leader!;
      const leaseRevision = board.revision("chaos.lease")!;
      const leasesResumed = await killAndRecover(leasesLeader);
      publishing = false;
      await publisher;
      await eventually(() => sent.every((s) => seen.has(s.n)), {
        timeoutMs: 15_000,
        what: "every acknowledged message delivered",
      });
      // Renewed through the leases leader's death, or given up while no leader was elected
      // (an election can outlast the 5 s ttl) and won back, as a service retries: nobody
      // else took it, and it is being renewed again.
      await eventually(() => lease.tryAcquire(), { timeoutMs: 15_000, what: "the lease held" });
      await eventually(() => (board.revision("chaos.lease") ?? 0) > leaseRevision + 2, {
        timeoutMs: 10_000,
        what: "renewals after the leases leader's death",
      });
      const redelivered = [...seen.values()].filter((v) => v > 1).length;
      console.log(
        `consumer leader ${consumerLeader} killed: deliveries resumed after ${consumerResumed} ms; ` +
          `leases leader ${leasesLeader} killed: resumed after ${leasesResumed} ms; ` +
          `${sent.length} acknowledged, ${seen.size} delivered, ${redelivered} redelivered; ` +
          `lease held/lost: ${JSON.stringify(changes)}`,
      );
      assert.equal(seen.size, new Set([...seen.keys()]).size);
      messages.stop();
      lease.stop();
      board.stop();
    } finally {
      await worker.nc.close();
      await other.nc.close();
      await cluster.close();
    }
  },
);
