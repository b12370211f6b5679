/**
 * Request helpers: bounded JSON bodies and zod validation that answer 400 with
 * `{error, issues}`, and the one error type handlers (and the connection flows) throw to
 * answer a status.
 * @module
 */
import type { Context } from "hono";
import { z } from "zod";
import { BodyError, readBody } from "@meridian/runtime";
import { type IssueDetail, issueSentence, issuesSummary } from "./sentences.ts";

/** Thrown to answer `status` with `{error, …extra}` and `headers`: the api's one HTTP error. */
export class ApiError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 409 | 410 | 413 | 415 | 422 | 429 | 502 | 503,
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
  return retryLater(503, "Meridian is temporarily unavailable. Try again shortly.", 5);
}

/** What a 404 says, whether the thing never existed or is someone else's. */
export const NOT_FOUND = "That was not found.";

/**
 * A 400 `{error, issues}`: each issue's message a sentence, and `error` those sentences, so
 * a client that shows only `error` still says what to fix.
 */
export function invalid(issues: readonly Issue[]): ApiError {
  const shown = publicIssues(issues);
  return new ApiError(400, issuesSummary(shown.map((i) => i.message)), { issues: shown });
}

/** One problem with a request: where, and what (never the value). */
export type Issue = IssueDetail;

/** Largest JSON body accepted. */
export const MAX_BODY_BYTES = 64 * 1024;

/**
 * Issues as the api returns them: path and a sentence only (never the input value, which
 * zod may carry and which can be a secret).
 */
export function publicIssues(issues: readonly Issue[]) {
  return issues.slice(0, 20).map((i) => ({
    path: i.path.map((p) => (typeof p === "symbol" ? String(p) : p)),
    message: issueSentence(i),
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
      throw new ApiError(
        413,
        `The request body is too large (at most ${MAX_BODY_BYTES / 1024} KiB).`,
      );
    }
    throw new ApiError(400, "The request body could not be read.");
  }
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new ApiError(400, "The request body is not UTF-8 text.");
  }
  let json: unknown = {};
  if (text.trim() !== "") {
    if (!/^application\/(.+\+)?json\b/i.test(type)) {
      throw new ApiError(415, "Send the request body as JSON (Content-Type: application/json).");
    }
    try {
      json = JSON.parse(text);
    } catch {
      throw new ApiError(400, "The request body is not valid JSON.");
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
    throw new ApiError(404, NOT_FOUND);
  }
  return id.toLowerCase();
}

/**
 * Headers on every response. Added by a middleware once the handler is done, and by a handler
 * itself when it writes its response directly (the event stream).
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "same-origin",
  "X-Frame-Options": "DENY",
};
