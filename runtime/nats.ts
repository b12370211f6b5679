/**
 * The one way to reach NATS: a connection to one server or a cluster that reconnects for
 * ever, a readiness view of it, and idempotent provisioning of the streams, consumers and KV
 * buckets declared in proto, each with the configured number of replicas.
 * @module
 */
import { connect, type NatsConnection } from "@nats-io/transport-node";
import {
  AckPolicy,
  DeliverPolicy,
  jetstream,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamClient,
  type JetStreamManager,
  jetstreamManager,
  type JsMsg,
  RetentionPolicy,
  StorageType,
} from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import {
  type BucketDef,
  buckets,
  type ConsumerDef,
  consumers,
  nanos,
  type StreamDef,
  streams,
} from "@meridian/proto";
import type { Logger } from "./log.ts";

/** Options for {@link connectNats}. */
export interface NatsOptions {
  /** `NATS_URL`: one server, or a cluster's servers comma-separated. */
  url: string;
  name: string;
  log: Logger;
  user?: string;
  pass?: string;
}

/**
 * A NATS connection with its JetStream and KV clients (core, JetStream and KV apart, each
 * with its own surface), and whether it is currently connected.
 */
export interface NatsHandle {
  nc: NatsConnection;
  js: JetStreamClient;
  kvm: Kvm;
  /** The connection's inbox prefix (`_INBOX_<name>`), for replies it subscribes to itself. */
  inboxPrefix: string;
  /** True while the client holds a live connection to a server. */
  connected(): boolean;
}

/** The inbox prefix of a service's connection: `_INBOX_<name>` (`_INBOX_relay`). */
export function inboxPrefix(name: string): string {
  return `_INBOX_${name.replace(/[^A-Za-z0-9]/g, "_")}`;
}

/** The servers of a `NATS_URL` (`host:port` each) and the credentials it carries. */
export interface NatsServers {
  servers: string[];
  user?: string;
  pass?: string;
}

/**
 * Reads a `NATS_URL`: one URL or several, comma-separated (a cluster's servers). The user
 * and password are the first URL's that has them: one login for the whole cluster.
 */
export function natsServers(url: string): NatsServers {
  const urls = url.split(",").map((one) => new URL(one.trim()));
  const withUser = urls.find((u) => u.username);
  return {
    servers: urls.map((u) => `${u.hostname}:${u.port || "4222"}`),
    user: withUser ? decodeURIComponent(withUser.username) : undefined,
    pass: withUser?.password ? decodeURIComponent(withUser.password) : undefined,
  };
}

/**
 * Connects to NATS, waiting for the first server if it is not up yet, and reconnecting
 * for ever afterwards. With several servers (listed, or learnt from the cluster) the client
 * picks one at random and, when it goes away, moves to another within a reconnect wait:
 * publishes made meanwhile are buffered and sent on arrival, subscriptions re-made.
 * Disconnects are logged; readiness follows them.
 */
export async function connectNats(opts: NatsOptions): Promise<NatsHandle> {
  const { servers, user, pass } = natsServers(opts.url);
  const prefix = inboxPrefix(opts.name);
  const nc = await connect({
    servers,
    name: opts.name,
    user: opts.user ?? user,
    pass: opts.pass ?? pass,
    maxReconnectAttempts: -1,
    // A server that died is left at once (its socket closes): the next one is tried after
    // this wait, so a node's loss costs a client about half a second.
    reconnectTimeWait: 500,
    waitOnFirstConnect: true,
    pingInterval: 5_000,
    maxPingOut: 2,
    // Otherwise every request (each JetStream publish) builds two Error objects up front to
    // capture where it started: a tenth of the relay's CPU under load.
    noAsyncTraces: true,
    // Replies (PubAcks, JetStream API answers) on an inbox of this service's own, so a
    // restricted user (the relay) may subscribe to its replies and not to everyone's.
    inboxPrefix: prefix,
  });
  let up = true;
  (async () => {
    for await (const s of nc.status()) {
      if (s.type === "disconnect") {
        up = false;
        opts.log.warn("nats disconnected");
      } else if (s.type === "reconnect") {
        up = true;
        opts.log.info("nats reconnected");
      }
    }
  })().catch(() => {});
  return {
    nc,
    js: jetstream(nc),
    kvm: new Kvm(nc),
    inboxPrefix: prefix,
    connected: () => up && !nc.isClosed(),
  };
}

/**
 * How services pull from a durable consumer. A pull waits at most 4 s, with the server's
 * heartbeat every 2 s; when the consumer's leader dies its heartbeats stop, and after two
 * missed the client asks again, of the new leader (at the default 30 s, a leader's death
 * stalled the consumer for a minute).
 */
export function consumeOptions(maxMessages: number): { max_messages: number; expires: number } {
  return { max_messages: maxMessages, expires: 4_000 };
}

/**
 * Acknowledges a JetStream message and waits for the server to confirm it, sending it again
 * (every second, for up to `maxWaitMs`) until one is confirmed. An ack sent while the
 * consumer's leader is being elected is lost without a word, and the message is delivered
 * again once its ack wait ends: for work that must not run twice (a refresh calls the
 * brokerage), a plain ack is not enough on a cluster. False when none was confirmed.
 */
export async function acknowledge(
  nc: NatsConnection,
  msg: JsMsg,
  maxWaitMs = 60_000,
): Promise<boolean> {
  // Acknowledgements go to the message's reply subject, which JsMsg's type leaves out.
  const reply = (msg as unknown as { reply?: string }).reply;
  if (!reply) return false;
  const deadline = Date.now() + maxWaitMs;
  for (;;) {
    try {
      await nc.request(reply, "+ACK", { timeout: 2_000 });
      return true;
    } catch {
      if (Date.now() + 1_000 > deadline) return false;
      await new Promise((r) => setTimeout(r, 1_000));
    }
  }
}

function streamConfig(def: StreamDef, replicas: number) {
  return {
    name: def.name,
    subjects: def.subjects,
    description: def.description,
    retention: def.retention === "workqueue"
      ? RetentionPolicy.Workqueue
      : def.retention === "interest"
      ? RetentionPolicy.Interest
      : RetentionPolicy.Limits,
    storage: StorageType.File,
    max_age: nanos(def.maxAgeS),
    duplicate_window: nanos(def.duplicateWindowS),
    num_replicas: replicas,
  };
}

/**
 * Creates or updates one stream with `replicas` copies (a changed count moves its data to
 * the new peers while it keeps serving). Its consumers follow the stream's count.
 */
export async function ensureStream(
  jsm: JetStreamManager,
  def: StreamDef,
  replicas = 1,
): Promise<void> {
  const cfg = streamConfig(def, replicas);
  let current: Record<string, unknown>;
  try {
    current = { ...(await jsm.streams.info(def.name)).config };
  } catch (e) {
    if (!isNotFound(e)) throw e;
    await jsm.streams.add(cfg);
    return;
  }
  // Only a change is sent: a server still moving a stream to new peers may leave an update
  // unanswered, and every service start would otherwise send seven.
  if (differs(current, cfg)) await jsm.streams.update(def.name, cfg);
}

/** True when `wanted` sets a field to something `current` does not have. */
function differs(current: Record<string, unknown>, wanted: Record<string, unknown>): boolean {
  return Object.entries(wanted).some(([k, v]) =>
    JSON.stringify(current[k] ?? null) !== JSON.stringify(v ?? null)
  );
}

/** Creates or updates one durable pull consumer. */
export async function ensureConsumer(jsm: JetStreamManager, def: ConsumerDef): Promise<void> {
  const cfg = {
    durable_name: def.durable,
    description: def.description,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    filter_subject: def.filterSubject,
    ack_wait: nanos(def.ackWaitS),
    max_deliver: def.maxDeliver,
  };
  const updatable = {
    description: cfg.description,
    ack_wait: cfg.ack_wait,
    max_deliver: cfg.max_deliver,
  };
  let current: Record<string, unknown>;
  try {
    current = { ...(await jsm.consumers.info(def.stream, def.durable)).config };
  } catch (e) {
    if (!isNotFound(e)) throw e;
    await jsm.consumers.add(def.stream, cfg);
    return;
  }
  if (differs(current, updatable)) await jsm.consumers.update(def.stream, def.durable, updatable);
}

/**
 * Creates one KV bucket with `replicas` copies if it does not exist, and sets an existing
 * one's count. A derived bucket whose fixed configuration (storage, republish) is not the
 * definition's is recreated; the server refuses to change it.
 */
export async function ensureBucket(
  kvm: Kvm,
  jsm: JetStreamManager,
  def: BucketDef,
  replicas = 1,
) {
  const storage = def.storage === "memory" ? StorageType.Memory : StorageType.File;
  const republish = def.republishPrefix === undefined
    ? undefined
    : { src: `$KV.${def.name}.>`, dest: `${def.republishPrefix}.>` };
  if (def.derived) {
    const stream = `KV_${def.name}`;
    try {
      const { config } = await jsm.streams.info(stream);
      if (config.storage !== storage || config.republish?.dest !== republish?.dest) {
        await jsm.streams.delete(stream);
      }
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }
  const kv = await kvm.create(def.name, {
    history: def.history,
    ttl: def.ttlS * 1000,
    description: def.description,
    storage,
    republish,
    replicas,
  });
  // create() leaves an existing bucket as it is.
  const stream = `KV_${def.name}`;
  const { config } = await jsm.streams.info(stream);
  if (config.num_replicas !== replicas) {
    await jsm.streams.update(stream, { ...config, num_replicas: replicas });
  }
  return kv;
}

/** Options of {@link provisionAll}. */
export interface ProvisionOptions {
  /** `NATS_REPLICAS`: copies of every stream and bucket (default 1). */
  replicas?: number;
  /**
   * How long a placement the cluster refuses is retried (default 20 s): a cluster that is
   * starting, or has a node down, may hold the count in a moment.
   */
  placementWaitMs?: number;
}

/**
 * Provisions every stream, consumer and bucket of the contract; safe to run concurrently.
 * Throws {@link ReplicaCountError} when the server or cluster cannot hold `replicas` copies.
 */
export async function provisionAll(
  handle: Pick<NatsHandle, "nc">,
  opts: ProvisionOptions = {},
): Promise<void> {
  const replicas = opts.replicas ?? 1;
  const jsm = await jetstreamManager(handle.nc);
  const kvm = new Kvm(handle.nc);
  const placed = (what: string, fn: () => Promise<unknown>) =>
    withPlacement(handle.nc, replicas, what, opts.placementWaitMs ?? 20_000, fn);
  for (const def of Object.values(streams)) {
    await placed(`stream ${def.name}`, () => ensureStream(jsm, def, replicas));
  }
  for (const def of Object.values(consumers)) {
    await placed(`consumer ${def.durable}`, () => ensureConsumer(jsm, def));
  }
  for (const def of Object.values(buckets)) {
    await placed(`bucket ${def.name}`, () => ensureBucket(kvm, jsm, def, replicas));
  }
}

/** `NATS_REPLICAS` asks for more copies than the NATS server or cluster can hold. */
export class ReplicaCountError extends Error {
  override name = "ReplicaCountError";
}

/** 10074: replicas > 1 on a server that is not clustered. */
const NOT_CLUSTERED = 10074;
/** 10005: no suitable peers for placement; 10023: insufficient resources. */
const CANNOT_PLACE = new Set([10005, 10023]);

/**
 * Runs `fn` (with {@link retryOnConflict}), turning the server's refusal of the replica
 * count into a {@link ReplicaCountError} that says what to change: at once on a single
 * server, after `waitMs` of retries in a cluster.
 */
async function withPlacement(
  nc: NatsConnection,
  replicas: number,
  what: string,
  waitMs: number,
  fn: () => Promise<unknown>,
): Promise<void> {
  const deadline = Date.now() + waitMs;
  for (let delay = 250;; delay = Math.min(delay * 2, 2_000)) {
    try {
      return await retryOnConflict(fn);
    } catch (e) {
      const code = jetStreamErrorCode(e);
      if (code === NOT_CLUSTERED) {
        throw new ReplicaCountError(
          `NATS_REPLICAS=${replicas}, but the NATS server is not part of a cluster: ` +
            `set NATS_REPLICAS=1, or run a cluster (deploy/cluster/README.md)`,
        );
      }
      if (!CANNOT_PLACE.has(code ?? 0)) throw e;
      if (Date.now() + delay > deadline) {
        const servers = nc.info?.connect_urls?.length ?? 1;
        throw new ReplicaCountError(
          `NATS_REPLICAS=${replicas}, but the NATS cluster cannot place ${replicas} copies of ` +
            `${what} (${(e as Error).message}; ${servers} server(s) answer): ` +
            `NATS_REPLICAS may not exceed the cluster's JetStream servers that are up`,
        );
      }
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

/** The JetStream API error code of `e` (10059 stream not found …), or null for any other error. */
export function jetStreamErrorCode(e: unknown): number | null {
  return e instanceof JetStreamApiError ? e.code : null;
}

function isNotFound(e: unknown): boolean {
  const code = jetStreamErrorCode(e);
  return code === JetStreamApiCodes.StreamNotFound || code === JetStreamApiCodes.ConsumerNotFound;
}

/** API codes of a concurrent creation that got there first (name in use, already exists). */
const CREATED_CONCURRENTLY = new Set([10058, 10013, 10148]);

async function retryOnConflict(fn: () => Promise<unknown>): Promise<void> {
  for (let attempt = 0;; attempt++) {
    try {
      await fn();
      return;
    } catch (e) {
      if (attempt >= 3 || !CREATED_CONCURRENTLY.has(jetStreamErrorCode(e) ?? 0)) throw e;
      await new Promise((r) => setTimeout(r, 50 * (attempt + 1)));
    }
  }
}
