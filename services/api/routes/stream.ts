/**
 * `GET /api/stream`: the browser's server-sent events, resumable with `Last-Event-ID`.
 * @module
 */
import { Hono } from "hono";
import { listPendingUpdates } from "@meridian/portfolio";
import type { ApiEnv, RouteContext } from "../context.ts";
import { invalid } from "../http.ts";

/** The SSE route. */
export function streamRoutes(ctx: RouteContext): Hono<ApiEnv> {
  const { sql, hub } = ctx;
  const app = new Hono<ApiEnv>();

  app.get("/api/stream", (c) => {
    const user = c.get("user");
    const lastEventId = c.req.header("last-event-id") ?? c.req.query("last_event_id");
    if (lastEventId !== undefined && lastEventId.length > 64) {
      throw invalid([{ path: ["Last-Event-ID"], message: "The Last-Event-ID is too long." }]);
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

  return app;
}
