/**
 * Webhook verification for SnapTrade (HMAC over canonical JSON) and Plaid (ES256 JWT over the
 * SHA-256 of the raw body). Every refusal is a 4xx verdict with a reason for the metrics.
 * @module
 */
import { createHmac } from "node:crypto";
import { compactVerify, decodeProtectedHeader, importJWK, type JWK } from "jose";
import { counter } from "@meridian/runtime";
import { CanonicalJsonError, parseCanonical } from "./canonical_json.ts";

/** Seconds of clock skew accepted in either direction. */
export const MAX_SKEW_S = 300;

/** The outcome of verifying one webhook. */
export type Verdict =
  | {
    ok: true;
    eventId: string;
    eventType: string;
    /** What to store and forward when it differs from the received body (a secret removed). */
    storedBody?: string;
  }
  | {
    ok: false;
    status: 400 | 401 | 503;
    reason: string;
    error: string;
    /** With a 503: seconds after which a retry can succeed (the `Retry-After` header). */
    retryAfterS?: number;
  };

const refuse = (status: 400 | 401, reason: string, error: string): Verdict => ({
  ok: false,
  status,
  reason,
  error,
});

/**
 * Constant-time equality of two ASCII strings (base64 or hex digests): every character is
 * compared, with no data-dependent branch (as `@std/crypto`'s `timingSafeEqual`); a length
 * mismatch is false. Comparing the encoded digests needs no decoding, and an XOR loop in JS
 * costs nanoseconds where `node:crypto`'s `timingSafeEqual` costs over a microsecond per call.
 */
export function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

const encoder = new TextEncoder();

/** Verifies SnapTrade webhooks signed with the consumer key. */
export class SnaptradeVerifier {
  #key: Uint8Array;
  constructor(consumerKey: string) {
    this.#key = encoder.encode(consumerKey);
  }

  /** Verifies `text` (the UTF-8 decoded raw body) against the `Signature` header. */
  verify(headers: Headers, text: string, nowMs: number): Verdict {
    const signature = headers.get("signature");
    if (!signature) return refuse(401, "missing_signature", "missing Signature header");
    let parsed: unknown;
    let canonical: string;
    try {
      ({ value: parsed, canonical } = parseCanonical(text));
    } catch (e) {
      if (e instanceof CanonicalJsonError || e instanceof RangeError) {
        return refuse(400, "invalid_json", "body cannot be canonicalised");
      }
      return refuse(400, "invalid_json", "body is not valid JSON");
    }
    // Synchronous node:crypto HMAC: far cheaper per request than a WebCrypto round trip.
    const expected = createHmac("sha256", this.#key).update(canonical).digest("base64");
    if (!constantTimeEqual(expected, signature.trim())) {
      return refuse(401, "bad_signature", "signature does not match");
    }
    if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) {
      return refuse(400, "bad_payload", "payload is not an object");
    }
    const body = parsed as Record<string, unknown>;
    const id = typeof body.webhookId === "string"
      ? body.webhookId
      : typeof body.webookId === "string" // the typo SnapTrade's trade events carry
      ? body.webookId
      : null;
    // Any non-empty id is accepted: the relay maps it to a safe key (webhookEventId).
    if (!id) return refuse(400, "bad_payload", "missing webhookId");
    const ts = typeof body.eventTimestamp === "string" ? Date.parse(body.eventTimestamp) : NaN;
    if (!Number.isFinite(ts)) return refuse(400, "bad_payload", "missing eventTimestamp");
    if (Math.abs(nowMs - ts) > MAX_SKEW_S * 1000) {
      return refuse(401, "stale_timestamp", "eventTimestamp outside the accepted window");
    }
    const type = typeof body.eventType === "string" ? body.eventType : "unknown";
    if (!("webhookSecret" in body)) return { ok: true, eventId: id, eventType: type };
    // SnapTrade still sends its deprecated client-wide webhookSecret in every body. It is
    // signed over, so it goes only after verification, and never reaches disk or NATS.
    const { webhookSecret: _, ...rest } = JSON.parse(text) as Record<string, unknown>;
    return { ok: true, eventId: id, eventType: type, storedBody: JSON.stringify(rest) };
  }
}

/** A Plaid verification key as `/webhook_verification_key/get` returns it. */
export interface PlaidJwk extends JWK {
  kid: string;
  expired_at?: string | null;
  created_at?: number | string;
}

/**
 * Fetches one key by id. Resolves null when Plaid says the key does not exist; rejects when
 * Plaid cannot be reached (the webhook is then answered 503 so Plaid retries).
 */
export type PlaidKeyFetcher = (kid: string) => Promise<PlaidJwk | null>;

/** Thrown by a fetcher when the key endpoint is unavailable. */
export class KeyUnavailableError extends Error {
  override name = "KeyUnavailableError";
}

const UNKNOWN_KID_TTL_MS = 60_000;

/**
 * Plaid key ids are UUIDs; anything outside URL-safe characters or longer than this is refused
 * before it can cost a key fetch.
 */
const KID = /^[A-Za-z0-9._~-]{1,128}$/;

/**
 * A token bucket on an injected clock: `burst` tokens, refilled at `perMinute`. It bounds how
 * often unauthenticated requests (any JWT header names a kid) can make the relay call Plaid.
 */
export class TokenBucket {
  #tokens: number;
  #at: number | null = null;

  constructor(readonly burst: number, readonly perMinute: number) {
    this.#tokens = burst;
  }

  /** Takes a token at `nowMs`: 0 when taken, else the milliseconds until one is available. */
  take(nowMs: number): number {
    const perMs = this.perMinute / 60_000;
    if (this.#at !== null) {
      this.#tokens = Math.min(this.burst, this.#tokens + Math.max(0, nowMs - this.#at) * perMs);
    }
    this.#at = Math.max(nowMs, this.#at ?? nowMs);
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return 0;
    }
    return Math.ceil((1 - this.#tokens) / perMs);
  }
}

/** Limits of {@link PlaidVerifier}'s calls to Plaid's key endpoint. */
export interface PlaidKeyLimits {
  /** Key fetches allowed at once after a quiet period (default 5). */
  burst?: number;
  /** Key fetches allowed per minute over time (default 12). */
  perMinute?: number;
  /** Cached keys are re-fetched (to learn of their expiry) at most this often (default 10 min). */
  refreshIntervalMs?: number;
}

/** Thrown by a lookup when the key-fetch budget is spent: the webhook is answered 503. */
class KeyBudgetSpent extends Error {
  constructor(readonly retryAfterMs: number) {
    super("key fetch budget spent");
  }
}

const keyFetches = counter(
  "meridian_relay_plaid_key_fetches_total",
  "Plaid verification key fetches, by result",
  ["result"],
);

/**
 * Verifies Plaid webhooks; caches keys by kid as Plaid's official sample does. Key fetches for
 * kids not yet known come out of one global budget, since any unsigned request can name one.
 */
export class PlaidVerifier {
  #keys = new Map<string, { jwk: PlaidJwk; key: CryptoKey | Uint8Array | null }>();
  #unknown = new Map<string, number>();
  #inflight = new Map<string, Promise<PlaidJwk | null>>();
  #budget: TokenBucket;
  #refreshEveryMs: number;
  #refreshedAt = -Infinity;

  constructor(private fetchKey: PlaidKeyFetcher, limits: PlaidKeyLimits = {}) {
    this.#budget = new TokenBucket(limits.burst ?? 5, limits.perMinute ?? 12);
    this.#refreshEveryMs = limits.refreshIntervalMs ?? 10 * 60_000;
  }

  #fetch(kid: string): Promise<PlaidJwk | null> {
    return this.fetchKey(kid).then(
      (jwk) => {
        keyFetches.labels(jwk ? "found" : "unknown").inc();
        return jwk;
      },
      (e) => {
        keyFetches.labels("error").inc();
        throw e;
      },
    );
  }

  async #lookup(kid: string, nowMs: number) {
    const cached = this.#keys.get(kid);
    if (cached) return cached;
    const miss = this.#unknown.get(kid);
    if (miss !== undefined && nowMs - miss < UNKNOWN_KID_TTL_MS) return null;
    // Unknown kid: fetch it once (single flight) if the budget allows.
    let p = this.#inflight.get(kid);
    if (!p) {
      const wait = this.#budget.take(nowMs);
      if (wait > 0) throw new KeyBudgetSpent(wait);
      p = this.#fetch(kid).finally(() => this.#inflight.delete(kid));
      this.#inflight.set(kid, p);
      this.#refreshCached(nowMs);
    }
    const jwk = await p;
    if (!jwk || jwk.kid !== kid) {
      this.#unknown.set(kid, nowMs);
      if (this.#unknown.size > 10_000) this.#unknown.clear();
      return null;
    }
    const entry = { jwk, key: jwk.expired_at ? null : await importJWK(jwk, "ES256") };
    this.#keys.set(kid, entry);
    return entry;
  }

  /**
   * A new kid may mean Plaid rotated keys: re-fetch the cached keys not yet known to be
   * expired, so a key Plaid has since expired stops verifying; at most once per interval and
   * only while the budget lasts.
   */
  #refreshCached(nowMs: number): void {
    if (nowMs - this.#refreshedAt < this.#refreshEveryMs) return;
    this.#refreshedAt = nowMs;
    for (const [other, entry] of this.#keys) {
      if (entry.jwk.expired_at) continue;
      if (this.#budget.take(nowMs) > 0) return;
      this.#fetch(other).then((jwk) => {
        if (jwk) this.#keys.set(other, { jwk, key: entry.key });
      }).catch(() => {});
    }
  }

  /** Verifies the `Plaid-Verification` JWT against the raw body bytes. */
  async verify(headers: Headers, raw: Uint8Array, nowMs: number): Promise<Verdict> {
    const token = headers.get("plaid-verification");
    if (!token) return refuse(401, "missing_signature", "missing Plaid-Verification header");
    let kid: string | undefined;
    try {
      const header = decodeProtectedHeader(token);
      if (header.alg !== "ES256") return refuse(401, "bad_alg", "JWT alg must be ES256");
      kid = header.kid;
    } catch {
      return refuse(401, "bad_signature", "malformed Plaid-Verification JWT");
    }
    if (typeof kid !== "string" || !KID.test(kid)) {
      return refuse(401, "bad_kid", "JWT has no usable kid");
    }
    let entry;
    try {
      entry = await this.#lookup(kid, nowMs);
    } catch (e) {
      if (e instanceof KeyBudgetSpent) {
        return {
          ok: false,
          status: 503,
          reason: "key_budget",
          error: "too many unknown verification keys; retry later",
          retryAfterS: Math.max(1, Math.ceil(e.retryAfterMs / 1000)),
        };
      }
      return {
        ok: false,
        status: 503,
        reason: "key_unavailable",
        error: e instanceof KeyUnavailableError ? "verification key unavailable" : "key error",
        retryAfterS: 30,
      };
    }
    if (!entry) return refuse(401, "unknown_kid", "unknown verification key");
    if (entry.jwk.expired_at || !entry.key) {
      return refuse(401, "expired_kid", "verification key has expired");
    }
    let claims: Record<string, unknown>;
    try {
      const { payload } = await compactVerify(token, entry.key, { algorithms: ["ES256"] });
      claims = JSON.parse(new TextDecoder().decode(payload));
    } catch {
      return refuse(401, "bad_signature", "JWT signature does not verify");
    }
    const iat = claims?.iat;
    if (typeof iat !== "number" || !Number.isFinite(iat)) {
      return refuse(401, "bad_signature", "JWT has no iat");
    }
    if (Math.abs(nowMs / 1000 - iat) > MAX_SKEW_S) {
      return refuse(401, "stale_timestamp", "JWT iat outside the accepted window");
    }
    const claimed = claims.request_body_sha256;
    if (typeof claimed !== "string") return refuse(401, "bad_signature", "JWT has no body hash");
    const hash = await sha256Hex(raw);
    if (!constantTimeEqual(hash, claimed.toLowerCase())) {
      return refuse(401, "body_mismatch", "body does not match its signed hash");
    }
    return { ok: true, eventId: hash, eventType: "" };
  }
}

/** Hex SHA-256 of bytes. */
export async function sha256Hex(data: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", data as BufferSource));
  let s = "";
  for (const b of d) s += b.toString(16).padStart(2, "0");
  return s;
}
