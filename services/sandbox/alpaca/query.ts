/**
 * The query parameters the list endpoints (`GET /v2/orders`, `GET /v2/account/activities`) share,
 * parsed and refused (422) the same way on both.
 * @module
 */

import { invalid } from "./errors.ts";

/** `direction`: `asc` or `desc` (the default). */
export function directionParam(q: URLSearchParams): "asc" | "desc" {
  const direction = q.get("direction") ?? "desc";
  if (direction !== "asc" && direction !== "desc") throw invalid("invalid direction");
  return direction;
}

/** A page size (`limit`, `page_size`): a positive integer, `fallback` when absent, capped at `max`. */
export function countParam(
  q: URLSearchParams,
  name: string,
  fallback: number,
  max: number,
): number {
  const raw = q.get(name);
  if (raw === null) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw invalid(`invalid ${name}`);
  return Math.min(n, max);
}

/** A time bound (`after`, `until`) as epoch milliseconds; `null` when absent or empty. */
export function timeParam(q: URLSearchParams, name: string): number | null {
  const v = q.get(name);
  if (!v) return null;
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw invalid(`invalid ${name}`);
  return t;
}
