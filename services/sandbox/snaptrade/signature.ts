/**
 * SnapTrade's request signatures: the HMAC the SDK sends in the `Signature` header, and the check
 * of a request against it and its `timestamp`.
 * @module
 */
import type { Context } from "hono";
import { timingSafeEqual } from "../core.ts";
import { hmacBase64 } from "../webhooks.ts";

/** The exact body SnapTrade answers a bad signature with. */
export const SIGNATURE_ERROR = {
  default_detail: "Unable to verify signature sent",
  default_code: 1076,
} as const;

/** How far a request's `timestamp` may be from the sandbox clock. */
const MAX_SKEW_SECONDS = 300;

// The SDK's own serializer (snaptrade-typescript-sdk requestAfterHook): keys sorted at every depth.
function jsonStringifyOrder(obj: unknown): string {
  const allKeys: string[] = [];
  const seen: Record<string, null> = {};
  JSON.stringify(obj, (key, value) => {
    if (!(key in seen)) {
      allKeys.push(key);
      seen[key] = null;
    }
    return value;
  });
  allKeys.sort();
  return JSON.stringify(obj, allKeys);
}

/** The request signature the SnapTrade SDK computes for `{content, path, query}`. */
export async function snapTradeRequestSignature(
  consumerKey: string,
  content: unknown,
  path: string,
  query: string,
): Promise<string> {
  return await hmacBase64(encodeURI(consumerKey), jsonStringifyOrder({ content, path, query }));
}

/**
 * Whether the request carries the signature the SDK would compute with `consumerKey` (for its
 * path with or without `/api/v1`, compared in constant time) and a `timestamp` within
 * {@link MAX_SKEW_SECONDS} of `now()` (ms).
 */
export async function isSignedRequest(
  c: Context,
  consumerKey: string,
  now: () => number,
): Promise<boolean> {
  const body = await c.req.raw.clone().text();
  let content: unknown = null;
  if (body !== "" && body !== "{}") {
    try {
      content = JSON.parse(body);
    } catch {
      // A body that is not JSON cannot have been signed by the SDK.
      return false;
    }
  }
  const raw = c.req.url;
  const q = raw.indexOf("?");
  const query = q === -1 ? "" : raw.slice(q + 1).split("#")[0];
  const sent = c.req.header("Signature") ?? "";
  let ok = false;
  const pathname = new URL(raw).pathname;
  const candidates = pathname.startsWith("/api/v1")
    ? [pathname, pathname.slice(7)]
    : [pathname, `/api/v1${pathname}`];
  for (const path of candidates) {
    const expected = await snapTradeRequestSignature(consumerKey, content, path, query);
    if (timingSafeEqual(expected, sent)) ok = true;
  }
  const ts = Number(c.req.query("timestamp"));
  return ok && Number.isFinite(ts) && Math.abs(now() / 1000 - ts) <= MAX_SKEW_SECONDS;
}
