/**
 * Tells apart the failures a handler did not expect: a dependency that is down (answer 503 with
 * `Retry-After`, the client retries) and a value the database refused as data (the input was
 * bad: 400), from a genuine fault (500).
 * @module
 */
import { errors } from "@nats-io/nats-core";

const NATS_UNAVAILABLE = [
  errors.ClosedConnectionError,
  errors.ConnectionError,
  errors.DrainingConnectionError,
  errors.NoRespondersError,
  errors.RequestError,
  errors.TimeoutError,
];

// postgres.js connection failures, and server states that pass (admin shutdown, too many
// connections, cannot connect now: SQLSTATE classes 08 and 57P, 53300).
const PG_UNAVAILABLE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "CONNECT_TIMEOUT",
  "53300",
  "57P01",
  "57P02",
  "57P03",
]);

function codeOf(e: unknown): string {
  const code = (e as { code?: unknown })?.code;
  return typeof code === "string" ? code : "";
}

/** Whether `e` means NATS or PostgreSQL cannot be reached right now. */
export function isUnavailable(e: unknown): boolean {
  if (NATS_UNAVAILABLE.some((cls) => e instanceof cls)) return true;
  const code = codeOf(e);
  return PG_UNAVAILABLE_CODES.has(code) || code.startsWith("08");
}

/**
 * Whether PostgreSQL refused a value as data (SQLSTATE class 22: a NUL byte in text, a date
 * out of range, an invalid uuid or number). Inputs are validated before they reach a query, so
 * this is a safety net: whatever slipped through is the client's bad input, not a fault.
 */
export function isRefusedData(e: unknown): boolean {
  const err = e as { code?: unknown; severity?: unknown };
  return typeof err?.severity === "string" && codeOf(e).startsWith("22");
}
