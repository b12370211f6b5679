/**
 * How a Plaid API request is admitted and answered: a `request_id` on every answer, the call
 * log, a JSON object body, the client credentials (headers or body), then per route the body's
 * schema, the access token, and the per-item rate limit. Refusals use Plaid's error body.
 * @module
 */
import type { Context, MiddlewareHandler } from "hono";
import { routePath } from "hono/route";
import type { z } from "zod";
import { alnumId, type SandboxCore, timingSafeEqual } from "../core.ts";
import type { RollingLimit } from "../rolling_limit.ts";
import { plaidError } from "./errors.ts";
import type { Item, PlaidStore } from "./state.ts";

type PlaidStatus = 400 | 404 | 429;

const rid = (c: Context) => c.get("requestId" as never) as string;

/** A Plaid error answer carrying this request's id. */
export const err = (
  c: Context,
  status: PlaidStatus,
  type: string,
  code: string,
  message: string,
): Response => c.json(plaidError(type, code, message, status, rid(c)), status);

/** A success answer: `body` plus this request's id. */
export const ok = (c: Context, body: Record<string, unknown>): Response =>
  c.json({ ...body, request_id: rid(c) });

/**
 * Admits API requests: every answer gets a request id; POSTs are counted (the Hosted Link page
 * is not an API call, so neither counted nor checked) and need a JSON object body and the
 * client's credentials.
 */
export function admitRequests(
  deps: { core: SandboxCore; clientId: string; secret: string },
): MiddlewareHandler {
  return async (c, next) => {
    const requestId = alnumId(15);
    c.set("requestId" as never, requestId as never);
    c.header("X-Request-Id", requestId);
    // The Hosted Link page's GET is a browser page, not an API call.
    if (c.req.method !== "POST") return await next();
    const route = routePath(c, -1);
    if (route && route !== "*" && route !== "/*" && !route.startsWith("/link/:")) {
      deps.core.calls.record("plaid", c.req.method, route);
    }
    if (route.startsWith("/link/:")) return await next();
    let body: Record<string, unknown> = {};
    const text = await c.req.raw.clone().text();
    if (text) {
      try {
        const parsed = JSON.parse(text);
        if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) body = parsed;
        else throw new Error("not an object");
      } catch {
        return err(c, 400, "INVALID_REQUEST", "INVALID_BODY", "body could not be parsed as JSON");
      }
    }
    c.set("body" as never, body as never);
    const clientId = c.req.header("PLAID-CLIENT-ID") ?? body.client_id;
    const secret = c.req.header("PLAID-SECRET") ?? body.secret;
    if (typeof clientId !== "string" || typeof secret !== "string") {
      return err(
        c,
        400,
        "INVALID_REQUEST",
        "MISSING_FIELDS",
        "the following required fields are missing: client_id, secret",
      );
    }
    if (!timingSafeEqual(clientId, deps.clientId) || !timingSafeEqual(secret, deps.secret)) {
      return err(
        c,
        400,
        "INVALID_INPUT",
        "INVALID_API_KEYS",
        "invalid client_id or secret provided",
      );
    }
    await next();
  };
}

/** The request body checked against `schema`, or Plaid's INVALID_REQUEST answer. */
export function parse<T extends z.ZodType>(c: Context, schema: T): z.infer<T> | Response {
  const r = schema.safeParse(c.get("body" as never) as Record<string, unknown>);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  return err(
    c,
    400,
    "INVALID_REQUEST",
    issue?.code === "invalid_type" ? "MISSING_FIELDS" : "INVALID_FIELD",
    `${issue?.path.join(".") || "body"}: ${issue?.message ?? "invalid"}`,
  );
}

/** The access token's item; with `data`, a broken item answers its error instead. */
export function itemFor(
  c: Context,
  store: PlaidStore,
  accessToken: unknown,
  data = true,
): Item | Response {
  const item = store.itemByAccessToken(accessToken);
  if (!item) {
    return err(
      c,
      400,
      "INVALID_INPUT",
      "INVALID_ACCESS_TOKEN",
      "provided access token is invalid",
    );
  }
  if (data && item.error) return c.json({ ...item.error, request_id: rid(c) }, 400);
  return item;
}

/**
 * The access token's item for a rate-limited data route: a broken item answers its error, and
 * each request counts against `limit` for the item and route (429 with the route's error code
 * once the minute's requests are spent).
 */
export function limitedItemFor(store: PlaidStore, limit: RollingLimit, now: () => number) {
  return (c: Context, accessToken: unknown, route: string, code: string): Item | Response => {
    const item = itemFor(c, store, accessToken);
    if (item instanceof Response) return item;
    if (limit.take(`${item.itemId} ${route}`, now()).allowed) return item;
    return err(
      c,
      429,
      "RATE_LIMIT_EXCEEDED",
      code,
      "rate limit exceeded for attempts to access this item. please try again later",
    );
  };
}
