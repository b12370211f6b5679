/**
 * JetStream streams, durable consumers and KV buckets, declared once and provisioned
 * idempotently by the runtime at start-up. How many copies of each stream and bucket a
 * deployment keeps is not part of a definition: every one gets `NATS_REPLICAS` (1 on one
 * server, 3 on a three-node cluster), and a consumer follows its stream's count.
 * @module
 */
import { subjects } from "./subjects.ts";

const SECOND_NS = 1_000_000_000;

/** A stream definition (a subset of the JetStream stream config). */
export interface StreamDef {
  name: string;
  subjects: string[];
  retention: "limits" | "workqueue" | "interest";
  /** Seconds a message is kept; 0 keeps it until limits apply. */
  maxAgeS: number;
  /** Seconds of `Nats-Msg-Id` de-duplication. */
  duplicateWindowS: number;
  description: string;
}

/** A durable pull consumer definition. */
export interface ConsumerDef {
  stream: string;
  durable: string;
  filterSubject: string;
  ackWaitS: number;
  maxDeliver: number;
  description: string;
}

/** A KV bucket definition. */
export interface BucketDef {
  name: string;
  history: number;
  /** Seconds an entry lives; 0 for ever. */
  ttlS: number;
  description: string;
  /** "memory": entries do not survive a server restart (default "file"). Fixed at creation. */
  storage?: "file" | "memory";
  /**
   * Holds only what its writers rewrite continuously: when its fixed configuration (storage,
   * republish) differs from this definition, provisioning deletes and recreates it.
   */
  derived?: boolean;
  /**
   * The server also publishes every stored entry on `<prefix>.<key>`: only what was stored,
   * so a write that lost its compare-and-swap is never seen there.
   */
  republishPrefix?: string;
}

/** Streams of the contract. */
export const streams = {
  webhooks: {
    name: "WEBHOOKS",
    subjects: [subjects.webhookAll],
    retention: "limits",
    maxAgeS: 7 * 24 * 3600,
    duplicateWindowS: 120,
    description: "Verified provider webhooks forwarded by the relay",
  },
  webhooksDead: {
    name: "WEBHOOKS_DLQ",
    subjects: [subjects.webhookDeadAll],
    retention: "limits",
    maxAgeS: 30 * 24 * 3600,
    duplicateWindowS: 120,
    description: "Webhooks that failed processing too many times, kept for replay",
  },
  sync: {
    name: "SYNC",
    subjects: [subjects.syncRequestAll],
    retention: "workqueue",
    maxAgeS: 24 * 3600,
    duplicateWindowS: 120,
    description: "Refresh requests for provider connections (work queue)",
  },
  holdings: {
    name: "HOLDINGS",
    subjects: [subjects.holdingsChangedAll],
    retention: "limits",
    maxAgeS: 7 * 24 * 3600,
    duplicateWindowS: 120,
    description: "A user's positions after a sync",
  },
  orders: {
    name: "ORDERS",
    subjects: [subjects.ordersAll],
    retention: "limits",
    maxAgeS: 30 * 24 * 3600,
    duplicateWindowS: 120,
    description: "Order lifecycle events",
  },
} as const satisfies Record<string, StreamDef>;

/** Durable consumers of the contract. */
export const consumers = {
  ingress: {
    stream: streams.webhooks.name,
    durable: "ingress",
    filterSubject: subjects.webhookAll,
    ackWaitS: 30,
    maxDeliver: 5,
    description: "ingress: records webhooks and flags connections",
  },
  sync: {
    stream: streams.sync.name,
    durable: "sync-workers",
    filterSubject: subjects.syncRequestAll,
    ackWaitS: 120,
    maxDeliver: 5,
    description: "sync: provider refresh workers",
  },
  symbols: {
    stream: streams.holdings.name,
    durable: "symbols",
    filterSubject: subjects.holdingsChangedAll,
    ackWaitS: 30,
    maxDeliver: 10,
    description: "symbols: reference-counts held symbols",
  },
} as const satisfies Record<string, ConsumerDef>;

/** KV buckets of the contract. */
export const buckets = {
  symbolAssignments: {
    name: "symbol_assignments",
    history: 1,
    ttlS: 0,
    description:
      "price shard (or the poller) -> the symbols it fetches, written by the symbols leader",
  },
  lastPrices: {
    name: "last_prices",
    history: 1,
    ttlS: 0,
    description: "symbol -> last price and previous close (at most one write a second per symbol)",
  },
  leases: {
    name: "leases",
    history: 1,
    ttlS: 0,
    description: "leader and shard leases: holder and heartbeat, taken over when not renewed",
  },
  marketStatus: {
    name: "market_status",
    history: 1,
    ttlS: 0,
    description: "market -> open or closed, from the provider's clock",
  },
  portfolioValues: {
    name: "portfolio_values",
    history: 1,
    ttlS: 0,
    description: "user -> last portfolio value (republished on portfolio.value.<user>)",
    // Derived data, rewritten every VALUE_PUBLISH_MS: a file store would cost the server a
    // write and a delete on disk for each of ten thousand values a second.
    storage: "memory",
    derived: true,
    republishPrefix: subjects.portfolioValuePrefix,
  },
} as const satisfies Record<string, BucketDef>;

/** Converts seconds to the nanoseconds JetStream configuration uses. */
export function nanos(seconds: number): number {
  return seconds * SECOND_NS;
}
