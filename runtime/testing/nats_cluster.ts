/**
 * A throwaway three-node nats-server cluster with JetStream: each node its own client port,
 * route port and store directory, each killable and restartable on its own.
 * @module
 */
import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { eventually } from "./eventually.ts";
import { startNats, type TestNats } from "./nats_server.ts";
import { freePort } from "./processes.ts";

/** One node of a {@link TestNatsCluster}: a {@link TestNats} with its server name. */
export interface TestNatsNode extends TestNats {
  /** Its `server_name` (`n1`, `n2` …), as stream and consumer infos name their leader. */
  name: string;
}

/** A running test cluster. */
export interface TestNatsCluster {
  nodes: TestNatsNode[];
  /** Every node's URL, comma-separated: a NATS_URL listing the whole cluster. */
  url: string;
  /** The node named `name` (a stream or consumer leader). */
  node(name: string): TestNatsNode;
  /** Resolves once JetStream answers through every node (a meta leader is elected). */
  ready(timeoutMs?: number): Promise<void>;
  /**
   * Resolves once every stream and consumer has a leader and every stream's replicas are
   * current: a restarted node has caught up, so another may go down without losing a quorum.
   */
  settled(timeoutMs?: number): Promise<void>;
  /** Stops every node and removes its data. */
  close(): Promise<void>;
}

/** Options: how many nodes (3), and a config body every node gets (users, limits). */
export interface TestNatsClusterOptions {
  size?: number;
  config?: string;
}

/** Starts a cluster of `size` nodes and waits until JetStream answers on each. */
export async function startNatsCluster(
  opts: TestNatsClusterOptions = {},
): Promise<TestNatsCluster> {
  const size = opts.size ?? 3;
  const routePorts = Array.from({ length: size }, () => freePort());
  const routes = routePorts.map((p) => `nats-route://127.0.0.1:${p}`).join(", ");
  const nodes: TestNatsNode[] = [];
  const close = async () => {
    await Promise.all(nodes.map((n) => n.close()));
  };
  try {
    for (let i = 0; i < size; i++) {
      const name = `n${i + 1}`;
      const server = await startNats({
        config: `server_name: ${name}\n` +
          `cluster { name: meridian-test, listen: "127.0.0.1:${routePorts[i]}", ` +
          `routes: [${routes}] }\n${opts.config ?? ""}`,
      });
      nodes.push({ ...server, name });
    }
    const cluster: TestNatsCluster = {
      nodes,
      url: nodes.map((n) => n.url).join(","),
      node(name) {
        const n = nodes.find((x) => x.name === name);
        if (!n) throw new Error(`no node named ${name}`);
        return n;
      },
      async ready(timeoutMs = 30_000) {
        for (const n of nodes) await jetStreamAnswers(n.url, timeoutMs);
      },
      async settled(timeoutMs = 60_000) {
        await cluster.ready(timeoutMs);
        const nc = await connect({ servers: nodes.map((n) => n.url.replace("nats://", "")) });
        try {
          await eventually(() => allCurrent(nc), {
            timeoutMs,
            intervalMs: 250,
            what: "every stream and consumer led, every stream replica current",
          });
        } finally {
          await nc.close();
        }
      },
      close,
    };
    await cluster.ready();
    return cluster;
  } catch (e) {
    await close();
    throw e;
  }
}

/** Waits until a JetStream account info request through `url` succeeds. */
async function jetStreamAnswers(url: string, timeoutMs: number): Promise<void> {
  const nc = await connect({ servers: url.replace("nats://", "") });
  try {
    await eventually(async () => {
      const jsm = await jetstreamManager(nc, { timeout: 2_000 });
      return Boolean(await jsm.getAccountInfo());
    }, { timeoutMs, intervalMs: 200, what: `JetStream through ${url}` });
  } finally {
    await nc.close();
  }
}

/** True when every stream and consumer has a leader and every stream replica is current. */
async function allCurrent(nc: NatsConnection): Promise<boolean> {
  const jsm = await jetstreamManager(nc, { timeout: 2_000 });
  type Cluster = { leader?: string; replicas?: { current: boolean }[] };
  const led = (what: string, c?: Cluster) => {
    if (!c?.leader) throw new Error(`${what} has no leader`);
  };
  for await (const s of jsm.streams.list()) {
    led(`stream ${s.config.name}`, s.cluster);
    if (!(s.cluster?.replicas ?? []).every((r) => r.current)) {
      throw new Error(`stream ${s.config.name} is catching up`);
    }
    // An idle consumer's followers may report not current for minutes: a leader is enough.
    for await (const c of jsm.consumers.list(s.config.name)) {
      led(`consumer ${s.config.name}/${c.name}`, c.cluster);
    }
  }
  return true;
}
