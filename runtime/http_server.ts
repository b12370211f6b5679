/**
 * A service's public HTTP listener, on `Deno.serve` or on node:http with Hono's Node adapter
 * (@hono/node-server). Deno.serve holds a response open for about 70 KB (its per-stream body
 * buffers): 20,000 event streams cost 1.4 GB. node:http holds one for about 34 KB, but cannot
 * upgrade to WebSocket (`Deno.upgradeWebSocket`). Either way the handler gets what Deno.serve
 * gives as Hono's `env`: `{ remoteAddr: { hostname, port } }`.
 * @module
 */
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { getRequestListener } from "@hono/node-server";
import { EVENT_WRITE_AHEAD_BYTES, type EventStream, type OpenEventStream } from "./event_stream.ts";

/** What a handler learns of the connection (the fields of `Deno.ServeHandlerInfo` read here). */
export interface ConnectionInfo {
  remoteAddr: { hostname: string; port: number };
  /** Takes the response over as an event stream, where the server can write it directly. */
  openEventStream?: OpenEventStream;
}

/** A request handler, as `Hono.fetch`. */
export type HttpHandler = (req: Request, info: ConnectionInfo) => Response | Promise<Response>;

/** A listening server. */
export interface HttpServer {
  readonly port: number;
  /**
   * Stops accepting, closes idle connections, and waits up to `graceMs` for the requests in
   * flight before closing the rest (event streams never finish on their own).
   */
  shutdown(graceMs?: number): Promise<void>;
}

/** Serves `handler` with `Deno.serve` on `hostname:port` (0: any free port). */
export function serveDeno(
  opts: { port: number; hostname: string },
  handler: HttpHandler,
): HttpServer {
  const server = Deno.serve({ ...opts, onListen: () => {} }, handler);
  return { port: server.addr.port, shutdown: () => server.shutdown() };
}

/** Serves `handler` with node:http on `hostname:port` (0: any free port). */
export async function serveNodeHttp(
  opts: { port: number; hostname: string },
  handler: HttpHandler,
): Promise<HttpServer> {
  const listener = getRequestListener(
    (req, env) => {
      const socket =
        (env as { incoming: { socket: { remoteAddress?: string; remotePort?: number } } })
          .incoming.socket;
      // The adapter's request stands in for a Request lazily, but only for the methods it
      // knows (not `bytes()`): the app gets a real one.
      const bodyless = req.method === "GET" || req.method === "HEAD";
      const real = new Request(req.url, {
        method: req.method,
        headers: req.headers,
        body: bodyless ? null : req.body,
        signal: req.signal,
      });
      const outgoing = (env as { outgoing: ServerResponse }).outgoing;
      return handler(real, {
        remoteAddr: { hostname: socket.remoteAddress ?? "", port: socket.remotePort ?? 0 },
        openEventStream: (headers) => nodeEventStream(outgoing, headers),
      });
    },
    // Deno's own Request and Response, not the adapter's stand-ins.
    { overrideGlobalObjects: false },
  );
  // A response writes at most this much ahead of its client before it waits: an event stream
  // to a page that reads slowly then holds its next value back (latest wins, stream.ts)
  // instead of buffering every frame.
  const server: Server = createServer({ highWaterMark: EVENT_WRITE_AHEAD_BYTES }, listener);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.hostname, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    async shutdown(graceMs = 5_000) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const grace = new Promise<void>((resolve) => timer = setTimeout(resolve, graceMs));
      await Promise.race([closed, grace]);
      clearTimeout(timer);
      server.closeAllConnections();
      await closed;
    },
  };
}

/**
 * Writes an event stream straight to node's response: no ReadableStream, reader and promise
 * per write. Its body ends where the connection closes instead of in chunks (an event stream
 * only ends by closing): with chunked framing, 20,000 streams held 0.8 GB against 0.57 GB,
 * and each write's framing buffers piled up until a full collection.
 */
function nodeEventStream(res: ServerResponse, headers: Record<string, string>): EventStream {
  res.useChunkedEncodingByDefault = false;
  res.shouldKeepAlive = false;
  res.writeHead(200, headers);
  res.flushHeaders();
  // A write to a peer that just left fails here; "close" reports the leaving.
  res.on("error", () => {});
  let closedHere = false;
  return {
    sink: {
      write: (bytes) => !res.destroyed && !res.writableEnded && res.write(bytes),
      get backlog() {
        return res.writableLength;
      },
      get ready() {
        return !res.destroyed && !res.writableEnded && !res.writableNeedDrain;
      },
      onDrain: (fn) => res.on("drain", fn),
      onClose: (fn) => res.once("close", () => closedHere || fn()),
      close() {
        closedHere = true;
        res.end();
      },
    },
    // The response is already being written: the adapter leaves it alone.
    response: new Response(null, { headers: { "x-hono-already-sent": "true" } }),
  };
}
