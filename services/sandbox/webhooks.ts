/**
 * Webhook signing and delivery, as SnapTrade and Plaid do them. Delivery is asynchronous and
 * never blocks an API response; a receiver that is down is retried a few times, then dropped.
 * @module
 */
import { exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";
import { canonicalJson } from "./canonical_json.ts";

/** How the sandbox reports what happened to a delivery. */
export type SandboxLog = (
  level: "info" | "warn" | "error",
  msg: string,
  fields?: Record<string, unknown>,
) => void;

/** base64 HMAC-SHA256 of `message` under `key`. */
export async function hmacBase64(key: string, message: string): Promise<string> {
  const enc = new TextEncoder();
  const k = await crypto.subtle.importKey(
    "raw",
    enc.encode(key),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const sig = new Uint8Array(await crypto.subtle.sign("HMAC", k, enc.encode(message)));
  return btoa(String.fromCharCode(...sig));
}

/** Hex SHA-256 of `bytes`. */
export async function sha256Hex(bytes: Uint8Array | string): Promise<string> {
  const data = typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes;
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", data as BufferSource));
  return Array.from(d, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** SnapTrade's webhook body (canonical JSON) and its `Signature` header. */
export async function signSnapTradeWebhook(
  payload: Record<string, unknown>,
  consumerKey: string,
): Promise<{ body: string; signature: string }> {
  const body = canonicalJson(payload);
  return { body, signature: await hmacBase64(consumerKey, body) };
}

/** SnapTrade's `eventTimestamp`: ISO 8601 with microseconds and `+00:00`. */
export function snapTradeTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$1000+00:00");
}

/** A {@link PlaidWebhookSigner} as persisted: the key pair as JWKs (the private one included). */
export interface PlaidSignerState {
  kid: string;
  privateJwk: JWK;
  publicJwk: JWK;
  createdAt: number;
}

/**
 * The ES256 key pair Plaid-style webhooks are signed with, made at start-up (or restored from a
 * saved state, so webhooks signed before a restart still verify).
 */
export class PlaidWebhookSigner {
  private constructor(
    readonly kid: string,
    private readonly privateKey: CryptoKey,
    private readonly privateJwk: JWK,
    private readonly publicJwk: JWK,
    private readonly createdAt: number,
  ) {}

  /** Generates a fresh key pair. `createdAt` is Unix seconds. */
  static async create(createdAt: number): Promise<PlaidWebhookSigner> {
    const { privateKey, publicKey } = await generateKeyPair("ES256", { extractable: true });
    return new PlaidWebhookSigner(
      crypto.randomUUID(),
      privateKey,
      await exportJWK(privateKey),
      await exportJWK(publicKey),
      createdAt,
    );
  }

  /** The signer {@link state} describes (throws if it is not a P-256 private key). */
  static async restore(s: PlaidSignerState): Promise<PlaidWebhookSigner> {
    if (typeof s?.kid !== "string" || s.privateJwk?.crv !== "P-256" || !s.privateJwk.d) {
      throw new Error("saved Plaid signing key is malformed");
    }
    const privateKey = await crypto.subtle.importKey(
      "jwk",
      s.privateJwk as JsonWebKey,
      { name: "ECDSA", namedCurve: "P-256" },
      false,
      ["sign"],
    );
    return new PlaidWebhookSigner(s.kid, privateKey, s.privateJwk, s.publicJwk, s.createdAt);
  }

  /** What to persist to {@link restore} this signer later. */
  state(): PlaidSignerState {
    return {
      kid: this.kid,
      privateJwk: this.privateJwk,
      publicJwk: this.publicJwk,
      createdAt: this.createdAt,
    };
  }

  /** The key as `/webhook_verification_key/get` returns it. */
  key(): Record<string, unknown> {
    return {
      alg: "ES256",
      crv: this.publicJwk.crv,
      kid: this.kid,
      kty: this.publicJwk.kty,
      use: "sig",
      x: this.publicJwk.x,
      y: this.publicJwk.y,
      created_at: this.createdAt,
      expired_at: null,
    };
  }

  /** The `Plaid-Verification` JWT for exactly these body bytes; `iat` in Unix seconds. */
  async sign(body: string, iat: number): Promise<string> {
    return await new SignJWT({ request_body_sha256: await sha256Hex(body) })
      .setProtectedHeader({ alg: "ES256", kid: this.kid, typ: "JWT" })
      .setIssuedAt(iat)
      .sign(this.privateKey);
  }
}

/** One webhook ready to send. */
export interface OutgoingWebhook {
  provider: "snaptrade" | "plaid";
  url: string;
  body: string;
  headers: Record<string, string>;
  /** For logs: the event type and id. */
  event: string;
}

/** What a delivery attempt came to: the receiver's status, or 0 with an error. */
export interface DeliveryResult {
  status: number;
  error?: string;
}

/** Sends webhooks, now or in the background with retries. */
export class WebhookDispatcher {
  #pending = new Set<Promise<void>>();
  #closed = false;
  /** Every webhook handed to the dispatcher, newest last (tests read it). */
  readonly sent: OutgoingWebhook[] = [];

  constructor(
    private readonly log: SandboxLog,
    private readonly retryDelaysMs: number[] = [500, 2_000, 5_000],
  ) {}

  /** Sends once and reports the receiver's status. */
  async deliver(w: OutgoingWebhook): Promise<DeliveryResult> {
    this.sent.push(w);
    return await this.#attempt(w);
  }

  async #attempt(w: OutgoingWebhook): Promise<DeliveryResult> {
    try {
      const res = await fetch(w.url, {
        method: "POST",
        headers: { "content-type": "application/json", ...w.headers },
        body: w.body,
        signal: AbortSignal.timeout(10_000),
      });
      await res.body?.cancel();
      return { status: res.status };
    } catch (e) {
      return { status: 0, error: e instanceof Error ? e.message : String(e) };
    }
  }

  /** Like {@link enqueue} for a webhook still being signed; `idle()` waits for it too. */
  enqueueSoon(w: Promise<OutgoingWebhook>, delayMs = 0): void {
    if (this.#closed) return;
    const p = w.then((built) => {
      this.sent.push(built);
      this.#start(built, delayMs);
    }).catch((e) => this.log("error", "webhook could not be built", { error: String(e) }))
      .finally(() => this.#pending.delete(p));
    this.#pending.add(p);
  }

  /** Queues a delivery after `delayMs`; retries on failure, then drops it with a log line. */
  enqueue(w: OutgoingWebhook, delayMs = 0): void {
    if (this.#closed) return;
    this.sent.push(w);
    this.#start(w, delayMs);
  }

  #start(w: OutgoingWebhook, delayMs: number): void {
    const run = async (attempt: number): Promise<void> => {
      const r = await this.#attempt(w);
      // Both providers count 200/201/202/204 as delivered.
      if ([200, 201, 202, 204].includes(r.status)) {
        this.log("info", "webhook delivered", { provider: w.provider, event: w.event, attempt });
        return;
      }
      const delay = this.retryDelaysMs[attempt];
      if (delay === undefined || this.#closed) {
        this.log("warn", "webhook dropped", {
          provider: w.provider,
          event: w.event,
          status: r.status,
          error: r.error,
          attempts: attempt + 1,
        });
        return;
      }
      await this.#sleep(delay);
      if (!this.#closed) await run(attempt + 1);
    };
    const p = this.#sleep(delayMs).then(() => this.#closed ? undefined : run(0)).catch((e) =>
      this.log("error", "webhook delivery crashed", { error: String(e) })
    ).finally(() => this.#pending.delete(p));
    this.#pending.add(p);
  }

  #sleep(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      // Resolved early by close(), so close() never waits out a backoff.
      const wake = () => {
        clearTimeout(t);
        this.#wakers.delete(wake);
        resolve();
      };
      const t = setTimeout(wake, ms);
      this.#wakers.add(wake);
    });
  }

  #wakers = new Set<() => void>();

  /** Resolves when every queued delivery has finished (tests use it). */
  async idle(): Promise<void> {
    while (this.#pending.size) await Promise.all([...this.#pending]);
  }

  /** Stops retrying and waits for in-flight attempts. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const wake of this.#wakers) wake();
    this.#wakers.clear();
    await Promise.allSettled([...this.#pending]);
  }
}
