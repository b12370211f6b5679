/**
 * Helpers for tests that use the sandbox: its admin API, a webhook receiver and a signed raw
 * SnapTrade request.
 * @module
 */
import { snapTradeRequestSignature } from "./snaptrade/mod.ts";

/** Calls the sandbox at `baseUrl`'s admin API: GET without a body, else POST; throws unless 2xx. */
export async function sandboxAdmin(
  baseUrl: string,
  path: string,
  body?: unknown,
): Promise<unknown> {
  const res = await fetch(`${baseUrl}/_admin${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`admin ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/** One webhook the receiver got. */
export interface Received {
  path: string;
  headers: Headers;
  body: string;
}

/** A local HTTP server that records webhooks; `status` is what it answers. */
export function webhookReceiver(status = 200) {
  const got: Received[] = [];
  const waiters: (() => void)[] = [];
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, async (req) => {
    got.push({ path: new URL(req.url).pathname, headers: req.headers, body: await req.text() });
    waiters.splice(0).forEach((w) => w());
    return new Response("ok", { status });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    got,
    /** Waits until `pred` holds for some received webhook. */
    async waitFor(pred: (r: Received) => boolean, timeoutMs = 5_000): Promise<Received> {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const hit = got.find(pred);
        if (hit) return hit;
        if (Date.now() > end) throw new Error("webhook not received in time");
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 50);
        });
      }
    },
    close: () => server.shutdown(),
  };
}

/** Sends a SnapTrade request signed as the SDK signs it, with the given Unix timestamp. */
export async function signedSnapTrade(
  base: string,
  method: string,
  path: string,
  params: Record<string, string>,
  opts: { clientId: string; consumerKey: string; timestamp: number; body?: unknown },
): Promise<Response> {
  const q = new URLSearchParams({ clientId: opts.clientId, ...params });
  q.set("timestamp", String(opts.timestamp));
  const query = q.toString();
  const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
  const sig = await snapTradeRequestSignature(
    opts.consumerKey,
    body === undefined || body === "{}" ? null : JSON.parse(body),
    path,
    query,
  );
  return await fetch(`${base}/snaptrade/api/v1${path}?${query}`, {
    method,
    headers: { Signature: sig, ...(body ? { "content-type": "application/json" } : {}) },
    body,
  });
}
