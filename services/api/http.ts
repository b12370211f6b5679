/**
 * Request helpers: bounded JSON bodies and zod validation that answer 400 with
 * `{error, issues}`, and the one error type handlers (and the connection flows) throw to
 * answer a status.
 * @module
 */
import type { Context } from "hono";
import { z } from "zod";
import { BodyError, readBody } from "@meridian/runtime";

/** Thrown to answer `status` with `{error, …extra}` and `headers`: the api's one HTTP error. */
export class ApiError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 409 | 413 | 415 | 422 | 429 | 502 | 503,
    message: string,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** A 429 or 503 that says when to come back, in the body and in `Retry-After`. */
export function retryLater(status: 429 | 503, message: string, retryAfterS: number): ApiError {
  const s = Math.max(1, Math.ceil(retryAfterS));
  return new ApiError(status, message, { retry_after_s: s }, { "Retry-After": String(s) });
}

/** A 503 for a dependency that is down; nothing was changed, so the client may simply retry. */
export function unavailable(): ApiError {
  return retryLater(503, "temporarily unavailable; try again shortly", 5);
}

/** A 400 `{error: "invalid request", issues}`. */
export function invalid(issues: readonly Issue[]): ApiError {
  return new ApiError(400, "invalid request", { issues: publicIssues(issues) });
}

/** One problem with a request: where, and what (never the value). */
export interface Issue {
  path: readonly PropertyKey[];
  message: string;
}

/** Largest JSON body accepted. */
export const MAX_BODY_BYTES = 64 * 1024;

/** Issues as the api returns them: path and message only (never the input value). */
export function publicIssues(issues: readonly Issue[]) {
  return issues.slice(0, 20).map((i) => ({
    path: i.path.map((p) => (typeof p === "symbol" ? String(p) : p)),
    message: i.message,
  }));
}

/** Reads and validates a JSON body; an empty body is `{}`. */
export async function jsonBody<S extends z.ZodType>(c: Context, schema: S): Promise<z.output<S>> {
  const type = c.req.header("content-type") ?? "";
  let text = "";
  let bytes: Uint8Array;
  try {
    bytes = await readBody(c.req.raw, MAX_BODY_BYTES);
  } catch (e) {
    if (e instanceof BodyError && e.status === 413) {
      throw new ApiError(413, "request body too large");
    }
    throw new ApiError(400, "request body could not be read");
  }
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new ApiError(400, "request body is not UTF-8");
  }
  let json: unknown = {};
  if (text.trim() !== "") {
    if (!/^application\/(.+\+)?json\b/i.test(type)) {
      throw new ApiError(415, "expected content-type application/json");
    }
    try {
      json = JSON.parse(text);
    } catch {
      throw new ApiError(400, "request body is not valid JSON");
    }
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw invalid(parsed.error.issues);
  return parsed.data;
}

/** Validates the query string (each key once). */
export function query<S extends z.ZodType>(c: Context, schema: S): z.output<S> {
  const parsed = schema.safeParse(c.req.query());
  if (!parsed.success) throw invalid(parsed.error.issues);
  return parsed.data;
}

/** Validates a path parameter as a UUID; anything else is simply not found. */
export function idParam(c: Context, name = "id"): string {
  const id = c.req.param(name) ?? "";
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) {
    throw new ApiError(404, "not found");
  }
  return id.toLowerCase();
}
