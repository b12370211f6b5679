/**
 * Request helpers: bounded JSON bodies and zod validation that answer 400 with
 * `{error, issues}`, and the errors handlers throw to answer a status.
 * @module
 */
import type { Context } from "hono";
import { z } from "zod";
import { BodyError, readBody } from "@meridian/runtime";

/** Thrown by handlers to answer `status` with `{error}` (and headers). */
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

/** A 503 for a dependency that is down; nothing was changed, so the client may simply retry. */
export function unavailable(): ApiError {
  return new ApiError(503, "temporarily unavailable; try again shortly", { retry_after_s: 5 }, {
    "Retry-After": "5",
  });
}

/** A 400 carrying zod issues. */
export class ValidationError extends Error {
  constructor(readonly issues: z.core.$ZodIssue[]) {
    super("invalid request");
  }
}

/** Largest JSON body accepted. */
export const MAX_BODY_BYTES = 64 * 1024;

/** Issues as the api returns them: path and message only (never the input value). */
export function publicIssues(issues: readonly z.core.$ZodIssue[]) {
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
  if (!parsed.success) throw new ValidationError(parsed.error.issues);
  return parsed.data;
}

/** Validates the query string (each key once). */
export function query<S extends z.ZodType>(c: Context, schema: S): z.output<S> {
  const parsed = schema.safeParse(c.req.query());
  if (!parsed.success) throw new ValidationError(parsed.error.issues);
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
