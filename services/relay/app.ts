/**
 * The relay's HTTP routes: `POST /webhooks/snaptrade` and `POST /webhooks/plaid`. A webhook is
 * answered 200 only after it is committed to the outbox, and only when the forwarder can
 * publish it as is (its envelope encodes and fits NATS); bad input is always a 4xx `{error}`.
 * @module
 */
import { type Context, Hono } from "hono";
import { encode, WebhookEnvelope, webhookEventId } from "@meridian/proto";
import {
  BodyError,
  clientAddress,
  counter,
  peerOf,
  type ProxyTrust,
  readBody,
} from "@meridian/runtime";
import { isLoopback } from "./edge.ts";
import type { Outbox } from "./outbox.ts";
import { type PlaidVerifier, type SnaptradeVerifier, type Verdict } from "./verify.ts";

/** The largest body accepted. */
export const MAX_BODY_BYTES = 1024 * 1024;
/**
 * The largest encoded envelope accepted: NATS' default max_payload (1 MiB) less room for the
 * message headers. JSON escaping can make an envelope larger than its body.
 */
export const MAX_ENVELOPE_BYTES = 1024 * 1024 - 4096;
/** An envelope's bytes besides its body: field names, provider, event id, time. */
const ENVELOPE_FIELDS_BYTES = 512;
/** Milliseconds a client has to deliver a whole body once its headers are in. */
export const BODY_DEADLINE_MS = 10_000;
/** Requests one client address may have in flight at once; more are answered 429. */
export const MAX_IN_FLIGHT_PER_CLIENT = 32;

const accepted = counter("meridian_relay_webhooks_accepted_total", "Webhooks verified and stored", [
  "provider",
  "outcome",
]);
const rejected = counter("meridian_relay_webhooks_rejected_total", "Webhooks refused, by reason", [
  "provider",
  "reason",
]);

const children = new Map<string, ReturnType<typeof accepted.labels>>();
function acceptedChild(provider: string, outcome: string) {
  const key = `${provider}/${outcome}`;
  let c = children.get(key);
  if (!c) children.set(key, c = accepted.labels(provider, outcome));
  return c;
}

/**
 * The client a request from `peer` counts against. Behind a proxy in `trust` (TRUSTED_PROXIES)
 * it is the sender its `X-Forwarded-For` names; a loopback peer that is not such a proxy is the
 * machine itself or a local proxy whose senders are unknown here, so it gets no per-client
 * limit rather than one shared by everyone behind it. Null means no limit applies.
 */
export function relayClient(
  peer: string | null,
  headers: Headers,
  trust: ProxyTrust,
): string | null {
  if (!peer) return null;
  if (trust(peer, 0)) {
    const sender = clientAddress(peer, headers, trust);
    return sender === peer ? null : sender;
  }
  return isLoopback(peer) ? null : peer;
}

const TRUST_NONE: ProxyTrust = () => false;

/** What the routes need. */
export interface RelayDeps {
  outbox: Outbox;
  snaptrade: SnaptradeVerifier;
  plaid: PlaidVerifier;
  now?: () => number;
  /**
   * The client a request counts against for the in-flight limit; null means unknown (no
   * limit). Default: {@link relayClient} of the socket's peer, trusting no proxy.
   */
  clientAddress?: (c: Context) => string | null;
  /** Default {@link MAX_IN_FLIGHT_PER_CLIENT}. */
  maxInFlightPerClient?: number;
  /** Default {@link BODY_DEADLINE_MS}. */
  bodyDeadlineMs?: number;
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Answers a refusal: counted by reason, with `Retry-After` when given. */
type Refuse = (
  status: 400 | 401 | 408 | 413 | 429 | 503,
  reason: string,
  error: string,
  retryAfterS?: number,
) => Response;

/** Verifies one provider's webhook: raw bytes, the same decoded as text, and the time. */
type VerifyWebhook = (
  headers: Headers,
  raw: Uint8Array,
  text: string,
  nowMs: number,
) => Promise<Verdict>;

const refusal = (status: 400, reason: string, error: string): Verdict => ({
  ok: false,
  status,
  reason,
  error,
});

/** Each provider's verification behind one signature, routed by the provider key. */
function webhookVerifiers(deps: RelayDeps): Record<"snaptrade" | "plaid", VerifyWebhook> {
  return {
    // SnapTrade signs canonical JSON: its verifier parses the body itself.
    snaptrade: (headers, _raw, text, nowMs) =>
      Promise.resolve(deps.snaptrade.verify(headers, text, nowMs)),
    // Plaid signs the raw bytes; the JSON is checked first, so garbage costs no key lookup.
    plaid: async (headers, raw, text, nowMs) => {
      let o: unknown;
      try {
        o = JSON.parse(text);
      } catch {
        return refusal(400, "invalid_json", "body is not valid JSON");
      }
      const verdict = await deps.plaid.verify(headers, raw, nowMs);
      if (!verdict.ok) return verdict;
      if (!o || typeof o !== "object" || Array.isArray(o)) {
        return refusal(400, "bad_payload", "payload is not an object");
      }
      const { webhook_type: type, webhook_code: code } = o as Record<string, unknown>;
      const eventType = `${typeof type === "string" ? type : ""}.${
        typeof code === "string" ? code : ""
      }`;
      return { ...verdict, eventType };
    },
  };
}

/** The relay routes. */
export function relayRoutes(deps: RelayDeps): Hono {
  const app = new Hono();
  const now = deps.now ?? Date.now;
  const clientOf = deps.clientAddress ??
    ((c: Context) => relayClient(peerOf(c.env), c.req.raw.headers, TRUST_NONE));
  const maxInFlight = deps.maxInFlightPerClient ?? MAX_IN_FLIGHT_PER_CLIENT;
  const bodyDeadlineMs = deps.bodyDeadlineMs ?? BODY_DEADLINE_MS;
  const inFlight = new Map<string, number>();
  const verifiers = webhookVerifiers(deps);

  const handle = (provider: "snaptrade" | "plaid") => async (c: Context) => {
    const refuse: Refuse = (status, reason, error, retryAfterS) => {
      rejected.labels(provider, reason).inc();
      if (retryAfterS !== undefined) c.header("Retry-After", String(retryAfterS));
      return c.json({ error }, status);
    };
    const client = clientOf(c);
    const busy = client === null ? 0 : inFlight.get(client) ?? 0;
    if (busy >= maxInFlight) {
      return refuse(429, "too_many_in_flight", "too many requests in flight from this client", 1);
    }
    if (client !== null) inFlight.set(client, busy + 1);
    try {
      return await receive(c, provider, refuse);
    } finally {
      if (client !== null) {
        const n = inFlight.get(client)! - 1;
        if (n > 0) inFlight.set(client, n);
        else inFlight.delete(client);
      }
    }
  };

  async function receive(
    c: Context,
    provider: "snaptrade" | "plaid",
    refuse: Refuse,
  ): Promise<Response> {
    let body: Uint8Array;
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), bodyDeadlineMs);
    try {
      body = await readBody(c.req.raw, MAX_BODY_BYTES, { signal: deadline.signal });
    } catch (e) {
      // The rest of the body is unwanted: the client should not reuse this connection (Deno.serve
      // would read on at the client's pace; the edge cuts that off).
      c.header("Connection", "close");
      if (e instanceof BodyError) {
        return refuse(
          e.status,
          e.reason,
          e.status === 413 ? `body larger than ${MAX_BODY_BYTES} bytes` : e.message,
        );
      }
      return refuse(400, "unreadable_body", "request body could not be read");
    } finally {
      clearTimeout(timer);
    }
    let text: string;
    try {
      text = utf8.decode(body);
    } catch {
      return refuse(400, "invalid_utf8", "body is not valid UTF-8");
    }
    const t = now();
    const verdict = await verifiers[provider](c.req.raw.headers, body, text, t);
    if (!verdict.ok) {
      return refuse(verdict.status, verdict.reason, verdict.error, verdict.retryAfterS);
    }
    const envelope = {
      provider,
      event_id: webhookEventId(verdict.eventId),
      received_at: new Date(t).toISOString(),
      body: verdict.storedBody ?? text,
    };
    // What the forwarder will publish must fit NATS, checked before the 200: a webhook
    // acknowledged but unpublishable would be a webhook lost. Its fields are valid by
    // construction, and JSON escaping makes a string at most six bytes a character (`\u0000`),
    // so only a body that could outgrow the limit is encoded here, not every webhook twice.
    if (
      envelope.body.length * 6 + ENVELOPE_FIELDS_BYTES > MAX_ENVELOPE_BYTES &&
      encode(WebhookEnvelope, envelope).byteLength > MAX_ENVELOPE_BYTES
    ) {
      return refuse(
        413,
        "too_large",
        `webhook larger than ${MAX_ENVELOPE_BYTES} bytes once encoded`,
      );
    }
    let outcome;
    try {
      outcome = await deps.outbox.append({
        provider,
        eventId: envelope.event_id,
        eventType: verdict.eventType.slice(0, 200),
        receivedAt: envelope.received_at,
        body: envelope.body,
      });
    } catch {
      return refuse(503, "outbox_unavailable", "cannot store the webhook now; retry", 5);
    }
    acceptedChild(provider, outcome).inc();
    return c.json({ status: outcome === "stored" ? "accepted" : "duplicate" }, 200);
  }

  app.post("/webhooks/snaptrade", handle("snaptrade"));
  app.post("/webhooks/plaid", handle("plaid"));
  app.onError((_e, c) => c.json({ error: "bad request" }, 400));
  return app;
}
