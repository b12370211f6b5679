/**
 * Who may call the SnapTrade API: every request gets an id, counts against its client's rolling
 * limit and in the call log, and must carry the client id and a valid signature; user routes then
 * check the user's secret and that an account or connection is theirs. Refusals use SnapTrade's
 * error bodies.
 * @module
 */
import type { Context, MiddlewareHandler } from "hono";
import { routePath } from "hono/route";
import { type SandboxCore, timingSafeEqual } from "../core.ts";
import type { RollingLimit } from "../rolling_limit.ts";
import { isSignedRequest, SIGNATURE_ERROR } from "./signature.ts";
import type { Account, Authorization, SnapTradeStore, User } from "./state.ts";

type Status = 400 | 401 | 402 | 403 | 404 | 409 | 429;

/** SnapTrade's error body `{detail, status_code, code}`. */
export const fail = (c: Context, status: Status, detail: string, code: string): Response =>
  c.json({ detail, status_code: status, code }, status);

function record(c: Context, core: SandboxCore) {
  const route = routePath(c, -1);
  if (route && route !== "*" && route !== "/*") {
    core.calls.record("snaptrade", c.req.method, route);
  }
}

/**
 * Admits API requests. The status route (`/`) is neither limited, counted nor signed; the rest
 * count against `limit` per client id (`X-RateLimit-*` headers on every answer, 429 when spent),
 * then need the configured client id and a valid signature.
 */
export function admitRequests(
  deps: { core: SandboxCore; clientId: string; consumerKey: string; limit: RollingLimit },
): MiddlewareHandler {
  const { core, limit } = deps;
  return async (c, next) => {
    const rel = c.req.path;
    const isStatus = rel === "/" || rel === "";
    c.header("X-Request-ID", crypto.randomUUID());
    const clientId = c.req.query("clientId");
    const r = !isStatus && clientId === deps.clientId
      ? limit.take(clientId, core.now())
      : { allowed: true, remaining: limit.limit, resetSeconds: 60 };
    c.header("X-RateLimit-Limit", String(limit.limit));
    c.header("X-RateLimit-Remaining", String(r.remaining));
    c.header("X-RateLimit-Reset", String(r.resetSeconds));
    if (!r.allowed) {
      c.header("Retry-After", String(r.resetSeconds));
      record(c, core);
      return c.json({
        detail: `Request was throttled. Expected available in ${r.resetSeconds} seconds.`,
        status_code: 429,
        code: "0000",
      }, 429);
    }
    if (isStatus) return await next();
    record(c, core);
    if (clientId !== deps.clientId) {
      return fail(c, 401, "Invalid clientId provided", "1079");
    }
    if (!await isSignedRequest(c, deps.consumerKey, core.now)) {
      return c.json(SIGNATURE_ERROR, 401);
    }
    await next();
  };
}

/** The user named by `userId`/`userSecret` in the query, or the refusal. */
export function authUser(c: Context, store: SnapTradeStore): User | Response {
  const userId = c.req.query("userId");
  const userSecret = c.req.query("userSecret");
  if (!userId || !userSecret) {
    return fail(c, 400, "userId and userSecret are required", "1068");
  }
  const u = store.users.get(userId);
  if (!u || !timingSafeEqual(u.userSecret, userSecret)) {
    return fail(c, 401, "Invalid userID or userSecret provided", "1083");
  }
  return u;
}

/** User `u`'s account `id`; with `needLive`, refused (402) while its connection is disabled. */
export function ownAccount(
  c: Context,
  store: SnapTradeStore,
  u: User,
  id: string,
  needLive = true,
): Account | Response {
  const acct = store.accounts.get(id);
  if (!acct || acct.userId !== u.userId) {
    return fail(c, 404, "Unable to find the specified account", "1011");
  }
  if (needLive && store.authOf(acct).disabled) {
    return c.json({
      detail: "This connection has been disabled. Please reconnect it through the portal.",
      code: "3003",
    }, 402);
  }
  return acct;
}

/** The calling user's account named by the `accountId` path parameter (see {@link ownAccount}). */
export function callerAccount(
  c: Context,
  store: SnapTradeStore,
  needLive = true,
): Account | Response {
  const u = authUser(c, store);
  if (u instanceof Response) return u;
  return ownAccount(c, store, u, c.req.param("accountId") ?? "", needLive);
}

/** The calling user's connection named by the `authorizationId` path parameter. */
export function callerAuth(c: Context, store: SnapTradeStore): Authorization | Response {
  const u = authUser(c, store);
  if (u instanceof Response) return u;
  const a = store.auths.get(c.req.param("authorizationId") ?? "");
  if (!a || a.userId !== u.userId) {
    return fail(c, 404, "Unable to find the specified connection", "1011");
  }
  return a;
}
