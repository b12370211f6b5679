/**
 * The api's HTTP app: auth, holdings, refresh, connections, accounts, transactions,
 * history, the SSE stream, the OpenAPI document and the dashboard's static files.
 * @module
 */
import { type Context, Hono } from "hono";
import type { JetStreamClient } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { z } from "zod";
import {
  clientAddress as addressBehindProxies,
  compileTrustedProxies,
  type Config,
  hashPassword,
  type Logger,
  peerOf,
  type Sql,
  verifyPassword,
} from "@meridian/runtime";
import { listPendingUpdates, NotFoundError, requestRefresh } from "@meridian/portfolio";
import { HoldingsCache } from "./holdings_cache.ts";
import { ApiError, idParam, jsonBody, publicIssues, query, ValidationError } from "./http.ts";
import { isRefusedData, isUnavailable } from "./failures.ts";
import { type Claim, LoginThrottle, type ThrottlePolicy } from "./login_throttle.ts";
import {
  cookieName,
  isHttps,
  readToken,
  sessionCookie,
  SessionStore,
  type SessionUser,
} from "./sessions.ts";
import { portfolioMode } from "./mode.ts";
import * as S from "./schemas.ts";
import * as Q from "./queries.ts";
import { type ConnectionsPort, PortError } from "./ports.ts";
import { StreamHub } from "./stream.ts";
import { openApiDocument } from "./openapi.ts";
import { staticFiles } from "./static.ts";

/** Everything the app is built from. */
export interface ApiDeps {
  sql: Sql;
  js: JetStreamClient;
  nc?: NatsConnection;
  log: Logger;
  config:
    & Pick<Config, "PUBLIC_URL" | "ALLOW_SIGNUP" | "REFRESH_COOLDOWN_S" | "HOLDINGS_TTL_H">
    & Partial<Pick<Config, "FF_SNAPTRADE_TRADE_EXECUTION" | "TRUSTED_PROXIES">>;
  connections: ConnectionsPort;
  /** The stream hub; created (and subscribed on `nc`) when absent. */
  hub?: StreamHub;
  /** Sign-in throttle numbers; the defaults of `login_throttle.ts` when absent. */
  throttle?: ThrottlePolicy;
  /** Whether NATS is connected now; requests that must publish answer 503 when it is not. */
  natsConnected?: () => boolean;
  /** Directory of the built dashboard; defaults to web/dist beside this repository. */
  webDist?: string;
  now?: () => Date;
}

type Env = { Variables: { user: SessionUser } };

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);
// A real hash of a random password, so a login for an unknown email costs the same.
const DUMMY_HASH = hashPassword(crypto.randomUUID());

/** A 429 for an attempt the throttle held back. */
function throttled(claim: Claim & { ok: false }, message: string): ApiError {
  return new ApiError(429, message, { retry_after_s: claim.retryAfterS }, {
    "Retry-After": String(claim.retryAfterS),
  });
}

/** A 503 for a dependency that is down; nothing was changed, so the client may simply retry. */
function unavailable(): ApiError {
  return new ApiError(503, "temporarily unavailable; try again shortly", { retry_after_s: 5 }, {
    "Retry-After": "5",
  });
}

/** Builds the app. Call `hub.close()` (returned on the app as `hub`) on shutdown. */
export function createApp(deps: ApiDeps): Hono & { hub: StreamHub } {
  const { sql, log, config } = deps;
  const now = deps.now ?? (() => new Date());
  const sessions = new SessionStore(sql, () => now().getTime());
  const throttle = new LoginThrottle(sql, deps.throttle);
  const trustedProxies = compileTrustedProxies(config.TRUSTED_PROXIES);
  const clientAddress = (c: Context) =>
    addressBehindProxies(peerOf(c.env), c.req.raw.headers, trustedProxies);
  const hub = deps.hub ?? new StreamHub({ log });
  if (!deps.hub && deps.nc) hub.start(deps.nc);
  const publicOrigin = new URL(config.PUBLIC_URL).origin;
  const holdingsCache = new HoldingsCache(sql);
  hub.onEvent((userId, event) => {
    if (event !== "value") holdingsCache.invalidate(userId);
  });

  const app = new Hono<Env>();

  app.onError((err, c) => {
    if (err instanceof ValidationError) {
      return c.json({ error: "invalid request", issues: publicIssues(err.issues) }, 400);
    }
    if (err instanceof ApiError) {
      for (const [k, v] of Object.entries(err.headers)) c.header(k, v);
      return c.json({ error: err.message, ...err.extra }, err.status);
    }
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
      const e = unavailable();
      for (const [k, v] of Object.entries(e.headers)) c.header(k, v);
      return c.json({ error: e.message, ...e.extra }, 503);
    }
    log.error("request failed", {
      method: c.req.method,
      path: new URL(c.req.url).pathname,
      error: err,
    });
    return c.json({ error: "internal error" }, 500);
  });
  app.notFound((c) => c.json({ error: "not found" }, 404));

  // Security headers on everything; API responses are never cached.
  app.use("*", async (c, next) => {
    await next();
    c.header("X-Content-Type-Options", "nosniff");
    c.header("Referrer-Policy", "same-origin");
    c.header("X-Frame-Options", "DENY");
    if (c.req.path.startsWith("/api/") && !c.res.headers.has("cache-control")) {
      c.header("Cache-Control", "no-store");
    }
  });

  // CSRF: a state-changing request from a browser must come from our own origin.
  app.use("/api/*", async (c, next) => {
    if (!SAFE_METHODS.has(c.req.method)) {
      const site = c.req.header("sec-fetch-site");
      const origin = c.req.header("origin");
      if (site && site !== "same-origin" && site !== "none") {
        throw new ApiError(403, "cross-site request refused");
      }
      // Only PUBLIC_URL's origin: never one derived from the request's own Host header, which
      // the sender controls.
      if (origin && origin !== publicOrigin) {
        throw new ApiError(
          403,
          `cross-origin request refused: open Meridian at ${publicOrigin} (PUBLIC_URL)`,
        );
      }
    }
    await next();
  });

  const secure = (c: Context) => {
    const peer = peerOf(c.env);
    return isHttps(c, config.PUBLIC_URL, peer !== null && trustedProxies(peer, 0));
  };

  const requireUser = async (c: Context<Env>, next: () => Promise<void>) => {
    const token = readToken(c.req.header("cookie"), secure(c));
    const user = token ? await sessions.resolve(token) : null;
    if (!user) throw new ApiError(401, "sign in required");
    c.set("user", user);
    await next();
  };

  const startSession = async (c: Context, userId: string) => {
    // Rotation: whatever session the browser had ends; a fresh token is issued.
    const old = readToken(c.req.header("cookie"), secure(c));
    if (old) {
      const oldUser = await sessions.resolve(old);
      if (oldUser) await sessions.destroy(oldUser.tokenHash);
    }
    const token = await sessions.create(userId);
    c.header("Set-Cookie", sessionCookie(token, secure(c)), { append: true });
  };

  // ---- auth ----
  // Sign-up answers the same for a new email and a taken one (202, no session): the browser
  // then signs in, so whether an address has an account is never revealed here.
  app.post("/api/auth/signup", async (c) => {
    const body = await jsonBody(c, S.SignupBody);
    const claim = await throttle.claimAddress(clientAddress(c), now());
    if (!claim.ok) throw throttled(claim, "too many attempts; try again later");
    const hash = await hashPassword(body.password);
    const user = await sql.begin(async (tx) => {
      // Serialise sign-ups so "first user becomes owner" has exactly one winner.
      await tx`select pg_advisory_xact_lock(hashtext('meridian.signup'))`;
      const [{ n }] = await tx<{ n: number }[]>`select count(*)::int as n from users`;
      if (n > 0 && !config.ALLOW_SIGNUP) return "closed" as const;
      const [row] = await tx<{ id: string; role: string }[]>`
        insert into users (email, password_hash, role)
        values (${body.email}, ${hash}, ${n === 0 ? "owner" : "member"})
        on conflict (email) do nothing
        returning id, role`;
      return row ?? null;
    });
    if (user === "closed") throw new ApiError(403, "sign-up is closed on this installation");
    if (user) log.info("user signed up", { user_id: user.id, role: user.role });
    return c.json({ status: "accepted", next: "sign_in" }, 202);
  });

  app.post("/api/auth/login", async (c) => {
    const body = await jsonBody(c, S.LoginBody);
    const address = clientAddress(c);
    const at = now();
    // Both claims are taken before the password is checked, each in one locked statement, so
    // parallel attempts are counted one by one.
    const fromAddress = await throttle.claimAddress(address, at);
    if (!fromAddress.ok) throw throttled(fromAddress, "too many sign-in attempts; try again later");
    const forAccount = await throttle.claimSignIn(body.email, address, at);
    if (!forAccount.ok) throw throttled(forAccount, "too many sign-in attempts; try again later");
    const [row] = await sql<
      { id: string; email: string; role: string; password_hash: string; created_at: Date }[]
    >`
      select id, email, role, password_hash, created_at from users where email = ${body.email}`;
    const ok = await verifyPassword(body.password, row?.password_hash ?? await DUMMY_HASH) &&
      row !== undefined;
    if (!ok) throw new ApiError(401, "wrong email or password");
    await throttle.succeeded(body.email, address);
    await startSession(c, row.id);
    return c.json({
      user: {
        id: row.id,
        email: row.email,
        role: row.role,
        created_at: row.created_at.toISOString(),
      },
    });
  });

  app.post("/api/auth/logout", async (c) => {
    const token = readToken(c.req.header("cookie"), secure(c));
    if (token) {
      const user = await sessions.resolve(token);
      if (user) await sessions.destroy(user.tokenHash);
    }
    c.header("Set-Cookie", sessionCookie(null, secure(c)));
    return c.body(null, 204);
  });

  app.get("/api/openapi.json", (c) => c.json(openApiDocument()));

  // Everything below needs a session.
  app.use("/api/*", async (c, next) => {
    if (c.req.path.startsWith("/api/auth/") || c.req.path === "/api/openapi.json") {
      return await next();
    }
    await requireUser(c, next);
    // A change made through this api shows on the next holdings read.
    if (!SAFE_METHODS.has(c.req.method) || c.req.path.endsWith("/callback")) {
      holdingsCache.invalidate(c.get("user").id);
    }
  });

  app.get("/api/me", async (c) => {
    const user = c.get("user");
    const [row] = await sql<{ created_at: Date }[]>`
      select created_at from users where id = ${user.id}`;
    const conns = await sql<{ access: string; status: string }[]>`
      select access, status from connections where user_id = ${user.id}`;
    return c.json({
      user: {
        id: user.id,
        email: user.email,
        role: user.role,
        created_at: row.created_at.toISOString(),
      },
      portfolio_mode: portfolioMode(conns),
      connections: {
        total: conns.length,
        trade: conns.filter((x) => x.access === "trade" && x.status !== "disabled").length,
        read: conns.filter((x) => x.access !== "trade" && x.status !== "disabled").length,
        broken: conns.filter((x) => x.status === "error").length,
      },
      features: { snaptrade_trading: config.FF_SNAPTRADE_TRADE_EXECUTION ?? true },
      settings: {
        refresh_cooldown_s: config.REFRESH_COOLDOWN_S,
        holdings_ttl_h: config.HOLDINGS_TTL_H,
      },
    });
  });

  // ---- holdings ----
  app.get("/api/holdings", async (c) => {
    const entry = await holdingsCache.get(c.get("user").id, now());
    const headers: Record<string, string> = {
      "content-type": "application/json",
      etag: entry.etag,
      vary: "accept-encoding, cookie",
      "cache-control": "private, no-cache",
    };
    if (c.req.header("if-none-match") === entry.etag) return c.body(null, 304, headers);
    if (/\bgzip\b/.test(c.req.header("accept-encoding") ?? "")) {
      return c.body(await entry.gzip as Uint8Array<ArrayBuffer>, 200, {
        ...headers,
        "content-encoding": "gzip",
      });
    }
    return c.body(entry.json, 200, headers);
  });

  app.post("/api/holdings/refresh", async (c) => {
    const user = c.get("user");
    const body = await jsonBody(c, S.RefreshBody);
    // A sync request cannot be published now: say so at once, and spend no cooldown.
    if (deps.natsConnected && !deps.natsConnected()) throw unavailable();
    const result = await requestRefresh({ sql, js: deps.js }, {
      userId: user.id,
      connectionIds: body.connection_ids,
      cooldownS: config.REFRESH_COOLDOWN_S,
      ttlH: config.HOLDINGS_TTL_H,
      now: now(),
    });
    const tooSoon = (s: number) =>
      new ApiError(429, `refreshed moments ago; try again in ${s} s`, { retry_after_s: s }, {
        "Retry-After": String(s),
      });
    if (result.kind === "cooldown") throw tooSoon(result.retry_after_s);
    if (result.kind === "up_to_date") {
      // Nothing needed a sync, but a refresh inside the cooldown still answers 429.
      const [row] = await sql<{ wait: number | null }[]>`
        select ceil(extract(epoch from (max(last_requested_at)
                 + make_interval(secs => ${config.REFRESH_COOLDOWN_S}) - ${now()})))::int as wait
          from refresh_cooldowns where user_id = ${user.id}`;
      if (row?.wait && row.wait > 0) throw tooSoon(Math.min(row.wait, config.REFRESH_COOLDOWN_S));
      return c.json({ status: "up_to_date" }, 200);
    }
    return c.json({
      status: "accepted",
      request_id: result.request_ids[0],
      request_ids: result.request_ids,
      connections: result.connections,
      cooldown: result.cooldown,
    }, 202);
  });

  app.get("/api/pending-updates", async (c) => {
    return c.json(await listPendingUpdates(sql, c.get("user").id));
  });

  // ---- connections ----
  const callbackBase = `${config.PUBLIC_URL.replace(/\/$/, "")}/api/connections`;

  app.get("/api/connections", async (c) => {
    return c.json({ connections: await Q.listConnections(sql, c.get("user").id) });
  });

  app.post("/api/connections/snaptrade/portal", async (c) => {
    const body = await jsonBody(c, S.SnapTradePortalBody);
    const redirect = new URL(`${callbackBase}/snaptrade/callback`);
    redirect.searchParams.set("access", body.access);
    const { url } = await deps.connections.snaptradePortal(c.get("user").id, {
      access: body.access,
      broker: body.broker,
      redirectUrl: redirect.toString(),
    });
    return c.json({ url });
  });

  app.get("/api/connections/snaptrade/callback", async (c) => {
    const q = S.SnapTradeCallbackQuery.safeParse(c.req.query());
    const back = (params: Record<string, string>) =>
      c.redirect(`/connections?${new URLSearchParams(params)}`, 303);
    if (!q.success) return back({ error: "The brokerage sent back an unexpected answer." });
    const authorizationId = q.data.connection_id ?? q.data.authorizationId;
    if (q.data.status && q.data.status.toUpperCase() !== "SUCCESS" || !authorizationId) {
      return back({ error: "The brokerage connection was not completed." });
    }
    if (q.data.reconnect && !(await Q.ownsConnection(sql, c.get("user").id, q.data.reconnect))) {
      return back({ error: "That connection no longer exists." });
    }
    try {
      const { connectionId } = await deps.connections.snaptradeComplete(c.get("user").id, {
        authorizationId,
        access: q.data.access,
        reconnectId: q.data.reconnect,
      });
      return c.redirect(
        `/?${new URLSearchParams({ connected: "snaptrade", connection: connectionId })}`,
        303,
      );
    } catch (e) {
      if (e instanceof PortError) return back({ error: e.message });
      log.error("snaptrade completion failed", { error: e });
      return back({ error: "The brokerage connection could not be completed. Try again." });
    }
  });

  app.post("/api/connections/plaid/link-token", async (c) => {
    await jsonBody(c, S.PlaidLinkBody);
    const t = await deps.connections.plaidLinkToken(c.get("user").id, {
      completionRedirectUrl: `${callbackBase}/plaid/callback`,
    });
    return c.json({
      link_token: t.linkToken,
      hosted_link_url: t.hostedLinkUrl,
      expiration: t.expiration,
    });
  });

  app.post("/api/connections/plaid/exchange", async (c) => {
    const body = await jsonBody(c, S.PlaidExchangeBody);
    const { connectionId } = await deps.connections.plaidComplete(c.get("user").id, {
      publicToken: body.public_token,
      linkToken: body.link_token,
    });
    return c.json({ connection_id: connectionId }, 201);
  });

  app.get("/api/connections/plaid/callback", async (c) => {
    const q = S.PlaidCallbackQuery.safeParse(c.req.query());
    const back = (params: Record<string, string>) =>
      c.redirect(`/connections?${new URLSearchParams(params)}`, 303);
    // Only the Link session this user opened (remembered server-side) is completed here:
    // tokens in the address are ignored, so a crafted link cannot attach someone else's
    // item to this account.
    if (!q.success || q.data.error) {
      return back({ error: "The bank connection was not completed." });
    }
    if (q.data.reconnect && !(await Q.ownsConnection(sql, c.get("user").id, q.data.reconnect))) {
      return back({ error: "That connection no longer exists." });
    }
    try {
      const { connectionId } = await deps.connections.plaidComplete(c.get("user").id, {
        reconnectId: q.data.reconnect,
      });
      return c.redirect(
        `/?${new URLSearchParams({ connected: "plaid", connection: connectionId })}`,
        303,
      );
    } catch (e) {
      if (e instanceof PortError) return back({ error: e.message });
      log.error("plaid completion failed", { error: e });
      return back({ error: "The bank connection could not be completed. Try again." });
    }
  });

  app.post("/api/connections/alpaca", async (c) => {
    const body = await jsonBody(c, S.AlpacaBody);
    const { connectionId } = await deps.connections.alpacaConnect(c.get("user").id, {
      keyId: body.key_id,
      secretKey: body.secret_key,
      paper: body.paper,
    });
    return c.json({ connection_id: connectionId }, 201);
  });

  app.get("/api/connections/:id", async (c) => {
    const [conn] = await Q.listConnections(sql, c.get("user").id, idParam(c));
    if (!conn) throw new ApiError(404, "not found");
    return c.json(conn);
  });

  app.post("/api/connections/:id/reconnect", async (c) => {
    const userId = c.get("user").id;
    const id = idParam(c);
    const conn = await Q.connectionProvider(sql, userId, id);
    if (!conn) throw new ApiError(404, "not found");
    const body = await jsonBody(c, S.ReconnectBody);
    if (conn.provider === "snaptrade") {
      const redirect = new URL(`${callbackBase}/snaptrade/callback`);
      redirect.searchParams.set("access", conn.access);
      redirect.searchParams.set("reconnect", id);
      const { url } = await deps.connections.snaptradePortal(userId, {
        access: conn.access,
        reconnectId: id,
        redirectUrl: redirect.toString(),
      });
      return c.json({ provider: conn.provider, url, link_token: null, connection_id: id });
    }
    if (conn.provider === "plaid") {
      const t = await deps.connections.plaidLinkToken(userId, {
        reconnectId: id,
        completionRedirectUrl: `${callbackBase}/plaid/callback?reconnect=${id}`,
      });
      return c.json({
        provider: conn.provider,
        url: t.hostedLinkUrl,
        link_token: t.linkToken,
        connection_id: id,
      });
    }
    if (!body.key_id || !body.secret_key) {
      throw new ValidationError([{
        code: "custom",
        path: ["key_id"],
        message: "new Alpaca keys are required to reconnect",
        input: undefined,
      }]);
    }
    await deps.connections.alpacaConnect(userId, {
      keyId: body.key_id,
      secretKey: body.secret_key,
      paper: body.paper,
      reconnectId: id,
    });
    return c.json({ provider: conn.provider, url: null, link_token: null, connection_id: id });
  });

  app.delete("/api/connections/:id", async (c) => {
    const userId = c.get("user").id;
    const id = idParam(c);
    if (!(await Q.ownsConnection(sql, userId, id))) throw new ApiError(404, "not found");
    await deps.connections.remove(userId, id);
    holdingsCache.invalidate(userId);
    return c.body(null, 204);
  });

  // ---- accounts, transactions, syncs, history ----
  app.get("/api/accounts", async (c) => {
    return c.json({ accounts: await Q.listAccounts(sql, c.get("user").id) });
  });
  app.get("/api/accounts/:id", async (c) => {
    const [account] = await Q.listAccounts(sql, c.get("user").id, idParam(c));
    if (!account) throw new ApiError(404, "not found");
    return c.json(account);
  });

  app.get("/api/transactions", async (c) => {
    const f = query(c, S.TransactionsQuery);
    const userId = c.get("user").id;
    if (f.cursor && !Q.decodeCursor(f.cursor)) {
      throw new ValidationError([{
        code: "custom",
        path: ["cursor"],
        message: "not a cursor",
        input: undefined,
      }]);
    }
    if (f.from && f.to && f.from > f.to) {
      throw new ValidationError([{
        code: "custom",
        path: ["from"],
        message: "from is after to",
        input: undefined,
      }]);
    }
    if (f.account_id && !(await Q.ownsAccount(sql, userId, f.account_id))) {
      throw new ApiError(404, "not found");
    }
    return c.json(await Q.listTransactions(sql, userId, f));
  });
  app.get("/api/transactions/:id", async (c) => {
    const page = await Q.listTransactions(sql, c.get("user").id, { limit: 1 }, idParam(c));
    if (!page.transactions[0]) throw new ApiError(404, "not found");
    return c.json(page.transactions[0]);
  });

  app.get("/api/syncs", async (c) => {
    const f = query(c, S.SyncsQuery);
    const userId = c.get("user").id;
    if (f.connection_id && !(await Q.ownsConnection(sql, userId, f.connection_id))) {
      throw new ApiError(404, "not found");
    }
    return c.json({ syncs: await Q.listSyncs(sql, userId, f) });
  });
  app.get("/api/syncs/:id", async (c) => {
    const [run] = await Q.listSyncs(sql, c.get("user").id, { limit: 1 }, idParam(c));
    if (!run) throw new ApiError(404, "not found");
    return c.json(run);
  });

  app.get("/api/portfolio/history", async (c) => {
    const q = query(c, S.HistoryQuery);
    return c.json(await Q.portfolioHistory(sql, c.get("user").id, q.range, now()));
  });

  // ---- the stream ----
  app.get("/api/stream", (c) => {
    const user = c.get("user");
    const lastEventId = c.req.header("last-event-id") ?? c.req.query("last_event_id");
    if (lastEventId !== undefined && lastEventId.length > 64) {
      throw new ValidationError([{
        code: "custom",
        path: ["Last-Event-ID"],
        message: "too long",
        input: undefined,
      }]);
    }
    const body = hub.open(user.id, lastEventId, async () => ({
      pending: await listPendingUpdates(sql, user.id),
    }));
    return new Response(body, {
      headers: {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-store",
        "x-accel-buffering": "no",
        "x-content-type-options": "nosniff",
      },
    });
  });

  app.all("/api/*", (c) => c.json({ error: "not found" }, 404));

  // ---- the dashboard ----
  app.route("/", staticFiles(deps.webDist));

  // The session variable is internal; callers see a plain Hono app.
  return Object.assign(app as unknown as Hono, { hub });
}

export { cookieName };
