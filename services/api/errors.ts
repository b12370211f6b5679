/**
 * The api's one error handler: every failure becomes `{error, issues?}` with its status. Bad
 * input is a 4xx, a dependency that is down a 503 with Retry-After, anything else a logged 500.
 * @module
 */
import type { Context, ErrorHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { Logger } from "@meridian/runtime";
import { isRefusedData, isUnavailable } from "./failures.ts";
import { ApiError, NOT_FOUND, unavailable } from "./http.ts";
import { isSentence } from "./sentences.ts";

/** Hono's own short texts ("Bad Request"), as a sentence. */
function honoSentence(message: string, status: number): string {
  if (isSentence(message)) return message;
  if (status === 404) return NOT_FOUND;
  return "The request could not be understood.";
}

function answer(c: Context, err: ApiError): Response {
  for (const [k, v] of Object.entries(err.headers)) c.header(k, v);
  return c.json({ error: err.message, ...err.extra }, err.status);
}

/** The handler for `app.onError`. */
export function errorHandler(log: Logger): ErrorHandler {
  return (err, c) => {
    if (err instanceof ApiError) return answer(c, err);
    // Hono's own (a malformed request it could not route, for one).
    if (err instanceof HTTPException && err.status < 500) {
      return c.json({ error: honoSentence(err.message, err.status) }, err.status);
    }
    if (isRefusedData(err)) {
      log.warn("the database refused a request's value", {
        method: c.req.method,
        path: new URL(c.req.url).pathname,
        code: (err as { code?: string }).code,
      });
      return c.json({ error: "The request has a value Meridian cannot store." }, 400);
    }
    if (isUnavailable(err)) {
      log.warn("a dependency is unavailable", {
        method: c.req.method,
        path: new URL(c.req.url).pathname,
        error: err,
      });
      return answer(c, unavailable());
    }
    log.error("request failed", {
      method: c.req.method,
      path: new URL(c.req.url).pathname,
      error: err,
    });
    return c.json({ error: "Something went wrong in Meridian. Try again." }, 500);
  };
}
