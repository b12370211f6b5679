/**
 * Test helpers: sign webhooks the way SnapTrade and Plaid do, and a stand-in Plaid key
 * endpoint. Used by the relay and ingress tests only.
 * @module
 */
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { canonicalize } from "./canonical_json.ts";
import { sha256Hex } from "./verify.ts";

/** base64 HMAC-SHA256 of the canonical JSON of `body` with the consumer key. */
export async function snaptradeSignature(body: string, consumerKey: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(consumerKey),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(canonicalize(body)));
  return btoa(String.fromCharCode(...new Uint8Array(mac)));
}

/** A SnapTrade webhook body. */
export function snaptradeBody(fields: Record<string, unknown> = {}, at = new Date()): string {
  return JSON.stringify({
    webhookId: crypto.randomUUID(),
    clientId: "MERIDIAN-SANDBOX",
    eventTimestamp: at.toISOString().replace("Z", "000+00:00"),
    userId: "user-1",
    eventType: "ACCOUNT_HOLDINGS_UPDATED",
    brokerageAuthorizationId: "auth-1",
    accountId: "acc-1",
    ...fields,
  });
}

/** A P-256 signing key plus the JWK Plaid would serve for it. */
export async function plaidKey(kid = crypto.randomUUID(), expired = false) {
  const { privateKey, publicKey } = await generateKeyPair("ES256", { extractable: true });
  const jwk = {
    ...(await exportJWK(publicKey)),
    kid,
    alg: "ES256",
    use: "sig",
    created_at: 1_700_000_000,
    expired_at: expired ? 1_700_000_100 : null,
  };
  return { kid, privateKey, jwk };
}

/** A `Plaid-Verification` JWT over `body`. */
export async function plaidJwt(
  body: Uint8Array | string,
  key: { kid: string; privateKey: CryptoKey },
  opts: { iat?: number; alg?: string; hash?: string } = {},
): Promise<string> {
  const bytes = typeof body === "string" ? new TextEncoder().encode(body) : body;
  return await new SignJWT({ request_body_sha256: opts.hash ?? await sha256Hex(bytes) })
    .setProtectedHeader({ alg: opts.alg ?? "ES256", kid: key.kid, typ: "JWT" })
    .setIssuedAt(opts.iat ?? Math.floor(Date.now() / 1000))
    .sign(key.privateKey);
}

/** An unsigned (`alg: none`) JWT. */
export function noneJwt(claims: Record<string, unknown>, kid: string): string {
  const b64 = (o: unknown) =>
    btoa(JSON.stringify(o)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
  return `${b64({ alg: "none", kid, typ: "JWT" })}.${b64(claims)}.`;
}

/** An HS256 JWT keyed with `secret` (the classic algorithm-confusion attack). */
export async function hs256Jwt(
  claims: Record<string, unknown>,
  kid: string,
  secret: Uint8Array,
): Promise<string> {
  return await new SignJWT(claims).setProtectedHeader({ alg: "HS256", kid }).sign(secret);
}

/** A tiny Plaid key endpoint (`POST /webhook_verification_key/get`) serving `keys`. */
export function servePlaidKeys(keys: Record<string, unknown>[]) {
  const calls: string[] = [];
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, async (req) => {
    const { key_id } = await req.json();
    calls.push(key_id);
    const jwk = keys.find((k) => k.kid === key_id);
    if (!jwk) {
      return Response.json({ error_type: "INVALID_INPUT", error_code: "INVALID_KEY_ID" }, {
        status: 400,
      });
    }
    return Response.json({ key: jwk, request_id: "r" });
  });
  return { url: `http://127.0.0.1:${server.addr.port}`, calls, close: () => server.shutdown() };
}
