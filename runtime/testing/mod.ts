/**
 * Test harness: throwaway nats-server and PostgreSQL, never a running installation.
 * @module
 */
export * from "./eventually.ts";
export * from "./nats_cluster.ts";
export * from "./nats_server.ts";
export * from "./postgres_server.ts";
export * from "./processes.ts";
export * from "./service_process.ts";
