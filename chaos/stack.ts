/**
 * What the fault tests share: a three-node NATS cluster (three local nats-server processes),
 * a fresh PostgreSQL database, Meridian's services as real processes on the whole cluster with
 * three copies of every stream and bucket, and the nemesis that kills nodes.
 * @module
 */
import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { provisionAll } from "@meridian/runtime";
import {
  type ServiceProcess,
  startNatsCluster,
  startServiceProcess,
  type TestDatabase,
  testDatabase,
  type TestNatsCluster,
} from "@meridian/runtime/testing";

/** The services the fault tests start, by name (`services/<name>/main.ts`). */
export type ServiceName =
  | "relay"
  | "ingress"
  | "sync"
  | "symbols"
  | "prices"
  | "valuation"
  | "api";

/** A running fault-test stack. */
export interface ChaosStack {
  cluster: TestNatsCluster;
  db: TestDatabase;
  /** A client on the whole cluster, for the test's own reads and subscriptions. */
  nc: NatsConnection;
  processes: ServiceProcess[];
  /** Starts one instance of `service` with the stack's environment plus `env`. */
  start(service: ServiceName, env?: Record<string, string>): ServiceProcess;
  /** The node (server name) leading a stream, as JetStream reports it now. */
  streamLeader(stream: string): Promise<string>;
  /** SIGKILLs node `name`; resolves at the kill with its time (Date.now()). */
  kill(name: string): Promise<number>;
  /** Restarts node `name` and waits until every stream is led and current again. */
  restart(name: string): Promise<void>;
  /** Every process's output tail, for a failure message. */
  logs(chars?: number): string;
  close(): Promise<void>;
}

const SERVICES = new URL("../services/", import.meta.url);

/** Starts the cluster and the database and provisions JetStream with three copies. */
export async function startChaosStack(env: Record<string, string> = {}): Promise<ChaosStack> {
  const cluster = await startNatsCluster();
  const db = await testDatabase();
  const nc = await connect({
    servers: cluster.nodes.map((n) => n.url.replace("nats://", "")),
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
  });
  await provisionAll({ nc }, { replicas: 3 });
  const processes: ServiceProcess[] = [];
  const names = new Map<ServiceProcess, string>();
  const base = {
    NATS_URL: cluster.url,
    NATS_REPLICAS: "3",
    DATABASE_URL: db.url,
    PROVIDERS: "sandbox",
    LOG_LEVEL: "warn",
    ...env,
  };
  return {
    cluster,
    db,
    nc,
    processes,
    start(service, extra = {}) {
      const p = startServiceProcess(new URL(`${service}/main.ts`, SERVICES), { ...base, ...extra });
      processes.push(p);
      names.set(p, service);
      return p;
    },
    async streamLeader(stream) {
      const jsm = await jetstreamManager(nc);
      const leader = (await jsm.streams.info(stream)).cluster?.leader;
      if (!leader) throw new Error(`${stream} has no leader`);
      return leader;
    },
    async kill(name) {
      const at = Date.now();
      await cluster.node(name).kill();
      return at;
    },
    async restart(name) {
      await cluster.node(name).restart();
      await cluster.settled();
    },
    logs(chars = 1_500) {
      return processes.map((p) => `--- ${names.get(p)}\n${p.output().slice(-chars)}`).join("\n");
    },
    async close() {
      await Promise.all(processes.map((p) => p.kill("SIGKILL")));
      await nc.close().catch(() => {});
      await db.close();
      await cluster.close();
    },
  };
}

/** Prints a test's figures on one line: `chaos <test>: key=value …`. */
export function printFigures(test: string, figures: Record<string, string | number>): void {
  const line = Object.entries(figures).map(([k, v]) => `${k}=${v}`).join(" ");
  console.log(`chaos ${test}: ${line}`);
}
