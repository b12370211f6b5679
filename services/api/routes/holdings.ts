/**
 * Holdings (database first), refresh with its cooldown, and pending updates.
 * @module
 */
import { Hono } from "hono";
import { listPendingUpdates, NotFoundError, requestRefresh } from "@meridian/portfolio";
import type { ApiEnv, RouteContext } from "../context.ts";
import { ApiError, jsonBody, NOT_FOUND, retryLater, unavailable } from "../http.ts";
import * as S from "../schemas.ts";

/** `GET /api/holdings`, `POST /api/holdings/refresh`, `GET /api/pending-updates`. */
export function holdingsRoutes(ctx: RouteContext): Hono<ApiEnv> {
  const { deps, sql, config, now, holdingsCache, quotes } = ctx;
  const app = new Hono<ApiEnv>();

  app.get("/api/holdings", async (c) => {
    const entry = await holdingsCache.get(c.get("user").id, now(), quotes);
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
    }).catch((e) => {
      throw e instanceof NotFoundError ? new ApiError(404, NOT_FOUND) : e;
    });
    if (result.kind === "cooldown") {
      const s = result.retry_after_s;
      throw retryLater(429, `You refreshed moments ago. Try again in ${s} s.`, s);
    }
    if (result.kind === "up_to_date") return c.json({ status: "up_to_date" }, 200);
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

  return app;
}
