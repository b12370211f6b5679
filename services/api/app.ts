/**
 * The api's HTTP app, composed of route areas (auth, holdings and refresh, connections,
 * reads, the stream) and the dashboard's static files, behind one error handler, security
 * headers, the CSRF check and the session check.
 * @module
 */
import { type Context, Hono } from "hono";
import type { NatsConnection } from "@nats-io/nats-core";
import { type KV, Kvm } from "@nats-io/kv";
import { buckets, kvKeys } from "@meridian/proto";
import {
  clientAddress as addressBehindProxies,
  compileTrustedProxies,
  peerOf,
} from "@meridian/runtime";
import { listPendingUpdates } from "@meridian/portfolio";
import type { ApiDeps, ApiEnv, RouteContext } from "./context.ts";
import { errorHandler } from "./errors.ts";
import { HoldingsCache } from "./holdings_cache.ts";
import { ApiError, NOT_FOUND, SECURITY_HEADERS } from "./http.ts";
import { LoginThrottle } from "./login_throttle.ts";
import { openApiDocument } from "./openapi.ts";
import { authRoutes } from "./routes/auth.ts";
import { connectionRoutes } from "./routes/connections.ts";
import { holdingsRoutes } from "./routes/holdings.ts";
import { historyRoutes } from "./routes/history.ts";
import { readRoutes } from "./routes/reads.ts";
import { streamRoutes } from "./routes/stream.ts";
import { isHttps, readToken, sessionCookie, SessionStore } from "./sessions.ts";
import { staticFiles } from "./static.ts";
import { StreamHub } from "./stream.ts";
import { LiveQuotes } from "./live_quotes.ts";
import { orderRoutes } from "./routes/orders.ts";
import { OrderDesk } from "@meridian/sync/trading";

export type { ApiDeps };

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** Builds the app. Call `hub.close()` (returned on the app as `hub`) on shutdown. */
export function createApp(deps: ApiDeps): Hono & { hub: StreamHub } {
  const { sql, log, config } = deps;
  const now = deps.now ?? (() => new Date());
  const sessions = new SessionStore(sql, () => now().getTime());
  const trustedProxies = compileTrustedProxies(config.TRUSTED_PROXIES);
  // The `pending` event is the same view as GET /api/pending-updates.
  const hub = deps.hub ?? new StreamHub({
    log,
    views: { pending: (userId) => listPendingUpdates(sql, userId) },
    currentValue: deps.nc ? currentValueReader(deps.nc) : undefined,
  });
  if (!deps.hub && deps.nc) hub.start(deps.nc);
  const publicOrigin = new URL(config.PUBLIC_URL).origin;
  const holdingsCache = new HoldingsCache(sql);
  // Holdings are valued (and orders previewed) at the live prices of KV `last_prices`: one
  // mirror for the app, so a request costs no NATS round trip (without NATS, at the
  // providers' prices).
  const quotes = deps.nc ? new LiveQuotes(deps.nc, log) : undefined;
  hub.onEvent((userId, event) => {
    if (event !== "value") holdingsCache.invalidate(userId);
  });

  const app = new Hono<ApiEnv>();
  app.onError(errorHandler(log));
  app.notFound((c) => c.json({ error: NOT_FOUND }, 404));

  // Security headers on everything; API responses are never cached.
  app.use("*", async (c, next) => {
    await next();
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) c.header(name, value);
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
        throw new ApiError(403, "Requests from other sites are refused.");
      }
      // Only PUBLIC_URL's origin: never one derived from the request's own Host header, which
      // the sender controls.
      if (origin && origin !== publicOrigin) {
        throw new ApiError(
          403,
          `Requests from other origins are refused: open Meridian at ${publicOrigin} (PUBLIC_URL).`,
        );
      }
    }
    await next();
  });

  const secure = (c: Context) => {
    const peer = peerOf(c.env);
    return isHttps(c, config.PUBLIC_URL, peer !== null && trustedProxies(peer, 0));
  };

  const requireUser = async (c: Context<ApiEnv>, next: () => Promise<void>) => {
    const token = readToken(c.req.header("cookie"), secure(c));
    const user = token ? await sessions.resolve(token) : null;
    if (!user) throw new ApiError(401, "Sign in to continue.");
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

  const ctx: RouteContext = {
    deps,
    sql,
    log,
    config,
    now,
    sessions,
    throttle: new LoginThrottle(sql, deps.throttle),
    holdingsCache,
    hub,
    quotes,
    clientAddress: (c) => addressBehindProxies(peerOf(c.env), c.req.raw.headers, trustedProxies),
    secure,
    startSession,
  };

  app.get("/api/openapi.json", (c) => c.json(openApiDocument()));

  // Every route needs a session but sign-up, sign-in, sign-out and this document.
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

  app.route("/", authRoutes(ctx));
  app.route("/", holdingsRoutes(ctx));
  app.route("/", connectionRoutes(ctx));
  app.route("/", readRoutes(ctx));
  app.route("/", historyRoutes(ctx));
  app.route("/", streamRoutes(ctx));
  if (deps.trading) {
    const desk = new OrderDesk({
      ...deps.trading,
      lastPrice: (symbol) => Promise.resolve(quotes?.get(symbol)?.quote.price ?? null),
    });
    app.route("/", orderRoutes(ctx, desk));
  }
  app.all("/api/*", (c) => c.json({ error: NOT_FOUND }, 404));
  app.route("/", staticFiles(deps.webDist));

  // The session variable is internal; callers see a plain Hono app.
  return Object.assign(app as unknown as Hono, { hub });
}

/** Reads a user's last portfolio value (its JSON) from KV `portfolio_values`. */
function currentValueReader(nc: NatsConnection): (userId: string) => Promise<string | null> {
  let bucket: Promise<KV> | undefined;
  return async (userId) => {
    bucket ??= new Kvm(nc).open(buckets.portfolioValues.name);
    const e = await (await bucket.catch((e) => {
      bucket = undefined;
      throw e;
    })).get(kvKeys.portfolioValue(userId));
    return e?.operation === "PUT" ? e.string() : null;
  };
}
