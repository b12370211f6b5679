/**
 * What every Meridian service shares: configuration, logging, NATS, PostgreSQL, migrations,
 * ops endpoints, graceful shutdown and secrets at rest.
 * @module
 */
export * from "./client_address.ts";
export * from "./config.ts";
export * from "./http_body.ts";
export * from "./db.ts";
export * from "./event_stream.ts";
export * from "./kv_mirror.ts";
export * from "./kv_swap.ts";
export * from "./lease.ts";
export * from "./log.ts";
export * from "./metrics.ts";
export * from "./migrate.ts";
export * from "./nats.ts";
export * from "./off_heap_pressure.ts";
export * from "./password.ts";
export * from "./rendezvous.ts";
export * from "./ops.ts";
export * from "./secret_box.ts";
export * from "./service.ts";
export * from "./shutdown.ts";
