/**
 * The cluster's NATS configuration (deploy/cluster/*.conf) run for real: three local
 * nats-server processes from these very files, only their addresses and store moved to
 * loopback ports and temporary directories, form a cluster with JetStream, hold three copies of
 * everything the services provision, and keep nats.conf's users and permissions.
 * @module
 */
import assert from "node:assert/strict";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { buckets, streams } from "@meridian/proto";
import { inboxPrefix, provisionAll } from "@meridian/runtime";
import {
  eventually,
  findExecutable,
  freePort,
  isAlive,
  run,
  stopAtExit,
  waitForPort,
  whenTestProcessGone,
} from "@meridian/runtime/testing";

const HERE = new URL("./", import.meta.url);
const NODES = ["nats-1", "nats-2", "nats-3"];
const read = (path: string) => Deno.readTextFileSync(new URL(path, HERE));
const BIN = findExecutable("nats-server", ["/usr/sbin", "/usr/local/bin"]);

/** The local server's version, to leave out what it predates (sync_interval: 2.10). */
async function serverVersion(): Promise<number[]> {
  const out = await run(BIN, ["--version"]);
  return (out.match(/v(\d+)\.(\d+)\.(\d+)/) ?? []).slice(1).map(Number);
}

Deno.test("cluster configs: each node names itself and includes the shared file and nats.conf", () => {
  for (const node of NODES) {
    const conf = read(`${node}.conf`);
    assert.match(conf, new RegExp(`^server_name: ${node}$`, "m"));
    assert.match(conf, /^include \.\/cluster\.conf$/m);
  }
  const shared = read("cluster.conf");
  assert.match(shared, /^include \.\.\/nats\/nats\.conf$/m, "the single server's users");
  assert.match(shared, /^\s*sync_interval: \S+$/m, "a stated sync_interval");
  assert.match(shared, /^\s*store_dir: \/data$/m);
  const routes = [...shared.matchAll(/nats-route:\/\/([\w-]+):6222/g)].map((m) => m[1]);
  assert.deepEqual(routes, NODES, "every node routes to all three");
});

Deno.test({
  name:
    "cluster configs: three nats-server processes from them form a cluster with nats.conf's users",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const [major, minor] = await serverVersion();
    const dir = await Deno.makeTempDir({ prefix: "meridian-cluster-conf-" });
    const ports = NODES.map(() => ({ client: freePort(), route: freePort(), http: freePort() }));
    const pids: number[] = [];
    const passwords = {
      NATS_RELAY_PASSWORD: "relay-test-pass",
      NATS_SERVICES_PASSWORD: "services-test-pass",
      NATS_VALUES_PASSWORD: "values-test-pass",
    };
    const unregister = stopAtExit(() => {
      for (const pid of pids) if (isAlive(pid)) Deno.kill(pid, "SIGKILL");
      Deno.removeSync(dir, { recursive: true });
    });
    try {
      for (const [i, node] of NODES.entries()) {
        // The repository's layout (cluster/ beside nats/), as compose.yml mounts it.
        const base = `${dir}/${node}`;
        await Deno.mkdir(`${base}/cluster`, { recursive: true });
        await Deno.mkdir(`${base}/nats`);
        await Deno.copyFile(new URL("../nats/nats.conf", HERE), `${base}/nats/nats.conf`);
        await Deno.copyFile(new URL(`${node}.conf`, HERE), `${base}/cluster/${node}.conf`);
        let shared = read("cluster.conf")
          .replace("listen: 0.0.0.0:4222", `listen: 127.0.0.1:${ports[i].client}`)
          .replace("http: 0.0.0.0:8222", `http: 127.0.0.1:${ports[i].http}`)
          .replace("listen: 0.0.0.0:6222", `listen: 127.0.0.1:${ports[i].route}`)
          .replace("store_dir: /data", `store_dir: "${base}/data"`);
        for (const [k, other] of NODES.entries()) {
          shared = shared.replace(`${other}:6222`, `127.0.0.1:${ports[k].route}`);
        }
        if (major === 2 && minor < 10) shared = shared.replace(/^\s*sync_interval: .*$/m, "");
        await Deno.writeTextFile(`${base}/cluster/cluster.conf`, shared);
        const conf = `${base}/cluster/${node}.conf`;
        const env = Object.entries(passwords).map(([k, v]) => `${k}=${v}`).join(" ");
        await run("sh", ["-c", `${env} "${BIN}" -t -c "${conf}"`]);
        await run("sh", [
          "-c",
          `${env} "${BIN}" -c "${conf}" -P "${base}/pid" >"${base}/log" 2>&1 &`,
        ]);
        await waitForPort(ports[i].client);
        pids.push(Number((await Deno.readTextFile(`${base}/pid`)).trim()));
      }
      await whenTestProcessGone(`kill -9 ${pids.join(" ")}; rm -rf "${dir}"`);

      const servers = ports.map((p) => `127.0.0.1:${p.client}`);
      const services = await connect({ servers, user: "services", pass: "services-test-pass" });
      const relay = await connect({
        servers,
        user: "relay",
        pass: "relay-test-pass",
        inboxPrefix: inboxPrefix("relay"),
      });
      try {
        await eventually(() => provisionAll({ nc: services }, { replicas: 3 }).then(() => true), {
          timeoutMs: 30_000,
          intervalMs: 500,
          what: "the cluster's JetStream holding three copies",
        });
        const jsm = await jetstreamManager(services);
        for (
          const name of [
            ...Object.values(streams).map((s) => s.name),
            ...Object.values(buckets).map((b) => `KV_${b.name}`),
          ]
        ) {
          const info = await eventually(async () => {
            const i = await jsm.streams.info(name);
            return i.cluster?.leader && i.cluster.replicas?.length === 2 ? i : null;
          }, { timeoutMs: 10_000, what: `${name} led, with two followers` });
          const peers = [info.cluster!.leader!, ...info.cluster!.replicas!.map((r) => r.name)];
          assert.deepEqual(peers.sort(), NODES, `${name} on every node`);
        }
        const ack = await jetstream(relay).publish("webhooks.plaid", "{}", { msgID: "c-1" });
        assert.equal(ack.stream, "WEBHOOKS", "the relay user publishes webhooks");
        await assert.rejects(
          jetstream(relay).publish("sync.request.plaid.u1", "{}", { timeout: 1_000 }),
          "and nothing else",
        );
      } finally {
        await relay.close().catch(() => {});
        await services.close();
      }
    } finally {
      for (const pid of pids) if (isAlive(pid)) Deno.kill(pid, "SIGKILL");
      unregister();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
