/**
 * `GET /api/stream`: the browser's server-sent events, resumable with `Last-Event-ID`.
 * @module
 */
import { Hono } from "hono";
import { listPendingUpdates } from "@meridian/portfolio";
import { type OpenEventStream, readableEventStream } from "@meridian/runtime";
import type { ApiEnv, RouteContext } from "../context.ts";
import { invalid, SECURITY_HEADERS } from "../http.ts";

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
    const headers = {
      ...SECURITY_HEADERS,
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      "x-accel-buffering": "no",
    };
    // Written straight to the connection where the server can (the api's node:http listener).
    const open = (c.env as { openEventStream?: OpenEventStream } | undefined)?.openEventStream ??
      readableEventStream;
    const stream = open(headers);
    hub.open(user.id, lastEventId, async () => ({
      pending: await listPendingUpdates(sql, user.id),
    }), stream.sink);
    return stream.response;
  });

  return app;
}
