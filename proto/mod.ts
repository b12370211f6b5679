/**
 * Meridian's wire contract: NATS subjects, JetStream streams, consumers, KV buckets and
 * the zod schema of every message.
 * @module
 */
export * from "./subjects.ts";
export * from "./jetstream.ts";
export * from "./messages.ts";
export * from "./codec.ts";
