/**
 * The one way to reach NATS: a connection that reconnects for ever, a readiness view of it,
 * and idempotent provisioning of the streams, consumers and KV buckets declared in proto.
 * @module
 */
import { connect, type NatsConnection } from "@nats-io/transport-node";
import {
  AckPolicy,
  DeliverPolicy,
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

/** A NATS connection plus whether it is currently connected. */
export interface NatsHandle {
  nc: NatsConnection;
  /** True while the client holds a live connection to a server. */
  connected(): boolean;
}

/**
 * Connects to NATS, waiting for the first server if it is not up yet, and reconnecting
 * for ever afterwards. Disconnects are logged; readiness follows them.
 */
export async function connectNats(opts: NatsOptions): Promise<NatsHandle> {
  const u = new URL(opts.url);
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
  return { nc, connected: () => up && !nc.isClosed() };
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

/** Creates one KV bucket if it does not exist. */
export async function ensureBucket(handle: NatsHandle, def: BucketDef) {
  return await new Kvm(handle.nc).create(def.name, {
    history: def.history,
    ttl: def.ttlS * 1000,
    description: def.description,
  });
}

/** Provisions every stream, consumer and bucket of the contract; safe to run concurrently. */
export async function provisionAll(handle: NatsHandle): Promise<void> {
  const jsm = await jetstreamManager(handle.nc);
  for (const def of Object.values(streams)) await retryOnConflict(() => ensureStream(jsm, def));
  for (const def of Object.values(consumers)) await retryOnConflict(() => ensureConsumer(jsm, def));
  for (const def of Object.values(buckets)) await retryOnConflict(() => ensureBucket(handle, def));
}

function isNotFound(e: unknown): boolean {
  const msg = String((e as Error)?.message ?? e);
  return /not found/i.test(msg);
}

async function retryOnConflict(fn: () => Promise<unknown>): Promise<void> {
  for (let attempt = 0;; attempt++) {
    try {
      await fn();
      return;
    } catch (e) {
      if (
        attempt >= 3 || !/already in use|already exists|in use/i.test(String((e as Error)?.message))
      ) throw e;
      await new Promise((r) => setTimeout(r, 50 * (attempt + 1)));
    }
  }
}
