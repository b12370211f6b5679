/**
 * The api's one error handler: every failure becomes `{error, issues?}` with its status. Bad
 * input is a 4xx, a dependency that is down a 503 with Retry-After, anything else a logged 500.
 * @module
 */
import type { Context, ErrorHandler } from "hono";
import { z } from "zod";
import type { Logger } from "@meridian/runtime";
import { NotFoundError } from "@meridian/portfolio";
import { isRefusedData, isUnavailable } from "./failures.ts";
import { ApiError, publicIssues, unavailable, ValidationError } from "./http.ts";
import { PortError } from "./ports.ts";

function answer(c: Context, err: ApiError): Response {
  for (const [k, v] of Object.entries(err.headers)) c.header(k, v);
  return c.json({ error: err.message, ...err.extra }, err.status);
}

/** The handler for `app.onError`. */
export function errorHandler(log: Logger): ErrorHandler {
  return (err, c) => {
    if (err instanceof ValidationError) {
      return c.json({ error: "invalid request", issues: publicIssues(err.issues) }, 400);
    }
    if (err instanceof ApiError) return answer(c, err);
    if (err instanceof PortError) {
      const headers = (err as { headers?: Record<string, string> }).headers ?? {};
      for (const [k, v] of Object.entries(headers)) c.header(k, v);
      return c.json({ error: err.message }, err.status);
    }
    if (err instanceof NotFoundError) return c.json({ error: "not found" }, 404);
    if (err instanceof z.ZodError) {
      return c.json({ error: "invalid request", issues: publicIssues(err.issues) }, 400);
    }
    if (err instanceof SyntaxError) return c.json({ error: "malformed request" }, 400);
    const status = (err as { status?: number }).status;
    if (typeof status === "number" && status >= 400 && status < 500) {
      return c.json({ error: "bad request" }, status as 400);
    }
    if (isRefusedData(err)) {
      log.warn("the database refused a request's value", {
        method: c.req.method,
        path: new URL(c.req.url).pathname,
        code: (err as { code?: string }).code,
      });
      return c.json({ error: "invalid request" }, 400);
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
    return c.json({ error: "internal error" }, 500);
  };
}
