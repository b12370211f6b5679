/**
 * The one way to reach NATS: a connection that reconnects for ever, a readiness view of it,
 * and idempotent provisioning of the streams, consumers and KV buckets declared in proto.
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

/**
 * Connects to NATS, waiting for the first server if it is not up yet, and reconnecting
 * for ever afterwards. Disconnects are logged; readiness follows them.
 */
export async function connectNats(opts: NatsOptions): Promise<NatsHandle> {
  const u = new URL(opts.url);
  const prefix = inboxPrefix(opts.name);
  const nc = await connect({
    servers: `${u.hostname}:${u.port || "4222"}`,
    name: opts.name,
    user: opts.user ?? (decodeURIComponent(u.username) || undefined),
    pass: opts.pass ?? (decodeURIComponent(u.password) || undefined),
    maxReconnectAttempts: -1,
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

function streamConfig(def: StreamDef) {
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
  };
}

/** Creates or updates one stream. */
export async function ensureStream(jsm: JetStreamManager, def: StreamDef): Promise<void> {
  const cfg = streamConfig(def);
  try {
    await jsm.streams.info(def.name);
    await jsm.streams.update(def.name, cfg);
  } catch (e) {
    if (!isNotFound(e)) throw e;
    await jsm.streams.add(cfg);
  }
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
  try {
    await jsm.consumers.info(def.stream, def.durable);
    await jsm.consumers.update(def.stream, def.durable, {
      description: cfg.description,
      ack_wait: cfg.ack_wait,
      max_deliver: cfg.max_deliver,
    });
  } catch (e) {
    if (!isNotFound(e)) throw e;
    await jsm.consumers.add(def.stream, cfg);
  }
}

/**
 * Creates one KV bucket if it does not exist. A derived bucket whose fixed configuration
 * (storage, republish) is not the definition's is recreated; the server refuses to change it.
 */
export async function ensureBucket(kvm: Kvm, jsm: JetStreamManager, def: BucketDef) {
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
  return await kvm.create(def.name, {
    history: def.history,
    ttl: def.ttlS * 1000,
    description: def.description,
    storage,
    republish,
  });
}

/** Provisions every stream, consumer and bucket of the contract; safe to run concurrently. */
export async function provisionAll(handle: Pick<NatsHandle, "nc">): Promise<void> {
  const jsm = await jetstreamManager(handle.nc);
  const kvm = new Kvm(handle.nc);
  for (const def of Object.values(streams)) await retryOnConflict(() => ensureStream(jsm, def));
  for (const def of Object.values(consumers)) await retryOnConflict(() => ensureConsumer(jsm, def));
  for (const def of Object.values(buckets)) {
    await retryOnConflict(() => ensureBucket(kvm, jsm, def));
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
