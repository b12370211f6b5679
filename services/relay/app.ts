/**
 * The relay's HTTP routes: `POST /webhooks/snaptrade` and `POST /webhooks/plaid`. A webhook is
 * answered 200 only after it is committed to the outbox; bad input is always a 4xx `{error}`.
 * @module
 */
import { Hono } from "hono";
import { BodyError, counter, readBody } from "@meridian/runtime";
import type { Outbox } from "./outbox.ts";
import { type PlaidVerifier, type SnaptradeVerifier, type Verdict } from "./verify.ts";

/** The largest body accepted (also below NATS' default 1 MB max_payload with headroom). */
export const MAX_BODY_BYTES = 1024 * 1024;

const accepted = counter("relay_webhooks_accepted_total", "Webhooks verified and stored", [
  "provider",
  "outcome",
]);
const rejected = counter("relay_webhooks_rejected_total", "Webhooks refused, by reason", [
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

/** What the routes need. */
export interface RelayDeps {
  outbox: Outbox;
  snaptrade: SnaptradeVerifier;
  plaid: PlaidVerifier;
  now?: () => number;
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** The relay routes. */
export function relayRoutes(deps: RelayDeps): Hono {
  const app = new Hono();
  const now = deps.now ?? Date.now;

  const handle = (provider: "snaptrade" | "plaid") => async (c: import("hono").Context) => {
    const refuse = (status: 400 | 401 | 413 | 503, reason: string, error: string) => {
      rejected.labels(provider, reason).inc();
      return c.json({ error }, status);
    };
    let body: Uint8Array;
    try {
      body = await readBody(c.req.raw, MAX_BODY_BYTES);
    } catch (e) {
      if (e instanceof BodyError) {
        return refuse(
          e.status,
          e.reason,
          e.status === 413 ? `body larger than ${MAX_BODY_BYTES} bytes` : e.message,
        );
      }
      return refuse(400, "unreadable_body", "request body could not be read");
    }
    let text: string;
    try {
      text = utf8.decode(body);
    } catch {
      return refuse(400, "invalid_utf8", "body is not valid UTF-8");
    }
    const t = now();
    let verdict: Verdict;
    let eventType = "";
    if (provider === "snaptrade") {
      // The verifier parses the body itself (invalid JSON is a 400 there).
      verdict = deps.snaptrade.verify(c.req.raw.headers, text, t);
      if (verdict.ok) eventType = verdict.eventType;
    } else {
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        return refuse(400, "invalid_json", "body is not valid JSON");
      }
      verdict = await deps.plaid.verify(c.req.raw.headers, body, t);
      const o = json as Record<string, unknown> | null;
      if (verdict.ok) {
        if (!o || typeof o !== "object" || Array.isArray(o)) {
          return refuse(400, "bad_payload", "payload is not an object");
        }
        eventType = `${String(o.webhook_type ?? "")}.${String(o.webhook_code ?? "")}`;
      }
    }
    if (!verdict.ok) {
      if (verdict.status === 503) c.header("Retry-After", "30");
      return refuse(verdict.status, verdict.reason, verdict.error);
    }
    let outcome;
    try {
      outcome = await deps.outbox.append({
        provider,
        eventId: verdict.eventId,
        eventType,
        receivedAt: new Date(t).toISOString(),
        body: verdict.storedBody ?? text,
      });
    } catch {
      c.header("Retry-After", "5");
      return refuse(503, "outbox_unavailable", "cannot store the webhook now; retry");
    }
    acceptedChild(provider, outcome).inc();
    return c.json({ status: outcome === "stored" ? "accepted" : "duplicate" }, 200);
  };

  app.post("/webhooks/snaptrade", handle("snaptrade"));
  app.post("/webhooks/plaid", handle("plaid"));
  app.onError((_e, c) => c.json({ error: "bad request" }, 400));
  return app;
}
