/**
 * Forwards outbox rows to JetStream `webhooks.<provider>` in order, with `Nats-Msg-Id` = the
 * event id, and marks them forwarded only after their PubAck. A row that cannot be published
 * for a reason of its own (its envelope fails the schema, it exceeds max_payload, the server
 * refuses that message) is set aside as poisoned instead of blocking the rows behind it; a
 * connection or server problem stops the batch and it is retried. Nothing a row holds can
 * stop the loop.
 * @module
 */
import { JetStreamApiError, type JetStreamClient } from "@nats-io/jetstream";
import { InvalidArgumentError } from "@nats-io/nats-core";
import { encode, subjects, WebhookEnvelope, webhookEventId } from "@meridian/proto";
import { counter, gauge, histogram, type Logger } from "@meridian/runtime";
import type { Outbox, OutboxRow } from "./outbox.ts";

const forwardLatency = histogram(
  "meridian_relay_forward_latency_seconds",
  "Time from a webhook's receipt to its JetStream PubAck",
  ["provider"],
  [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 60, 300, 3600],
);
const backlog = gauge(
  "meridian_relay_outbox_backlog",
  "Outbox rows not yet forwarded to JetStream",
);
const poisonedTotal = counter(
  "meridian_relay_outbox_poisoned_total",
  "Outbox rows set aside as unpublishable, by reason",
  ["reason"],
);

/** A row set aside, and why. */
export interface PoisonedRow {
  row: OutboxRow;
  /** A short reason: `schema`, `max_payload` or `rejected`, then the error message. */
  failure: string;
}

/** What publishing a batch did. */
export interface PublishResult {
  /** Rows acknowledged by JetStream. */
  acked: OutboxRow[];
  /** Rows that cannot be published as they are. */
  poisoned: PoisonedRow[];
  /** A connection or server problem: the rows after the last one settled are to be retried. */
  error?: unknown;
}

/**
 * Errors that say nothing about the row: the connection, the server or its configuration.
 * (A JetStream API error with a 5xx or 404 status is one too: the stream is missing or
 * unavailable.)
 */
const TRANSIENT = new Set([
  "TimeoutError",
  "ClosedConnectionError",
  "DrainingConnectionError",
  "ConnectionError",
  "NoRespondersError",
  "RequestError",
  "PermissionViolationError",
  "AuthorizationError",
  "UserAuthenticationExpiredError",
  "JetStreamNotEnabled",
  "JetStreamError",
  "JetStreamStatusError",
]);

/**
 * Why a row's publish failed, when the row is the reason; null when it is worth a retry. Told
 * apart by the error's class and JetStream status, never by its text.
 */
export function rowFailure(e: unknown): string | null {
  const err = e as { name?: string; message?: string } | null;
  const name = err?.name ?? "";
  const message = String(err?.message ?? e);
  // The client refuses a message larger than the server's max_payload before sending it.
  if (e instanceof InvalidArgumentError) return `max_payload: ${message}`;
  if (e instanceof JetStreamApiError) {
    // 400: the server refused this message (e.g. larger than the stream's max_msg_size).
    return e.status === 400 ? `rejected: ${message}` : null;
  }
  if (TRANSIENT.has(name)) return null;
  return `rejected: ${name ? `${name}: ` : ""}${message}`;
}

/**
 * Publishes `rows` pipelined (one connection keeps their order). Never throws: a row whose
 * envelope does not encode, or that the server refuses for itself, is returned as poisoned;
 * the first connection or server error ends the result (`error`), and the rows after it are
 * neither acked nor poisoned.
 */
export async function publishRows(
  js: JetStreamClient,
  rows: OutboxRow[],
  timeoutMs = 5_000,
): Promise<PublishResult> {
  const pending = rows.map((r): Promise<unknown> => {
    let data: Uint8Array;
    // Rows stored by an older relay may hold a raw provider id: the same rule maps it to the
    // key a redelivery would get now (a stored key maps to itself).
    let id: string;
    try {
      id = webhookEventId(r.event_id);
      data = encode(WebhookEnvelope, {
        provider: r.provider,
        event_id: id,
        received_at: r.received_at,
        body: r.body,
      });
    } catch (e) {
      return Promise.resolve(new SchemaFailure(e));
    }
    try {
      return js.publish(subjects.webhook(r.provider), data, { msgID: id, timeout: timeoutMs });
    } catch (e) {
      return Promise.reject(e);
    }
  });
  const settled = await Promise.allSettled(pending);
  const result: PublishResult = { acked: [], poisoned: [] };
  for (let i = 0; i < rows.length; i++) {
    const s = settled[i];
    if (s.status === "fulfilled") {
      if (s.value instanceof SchemaFailure) {
        result.poisoned.push({ row: rows[i], failure: `schema: ${s.value.detail}` });
      } else result.acked.push(rows[i]);
      continue;
    }
    const failure = rowFailure(s.reason);
    if (failure === null) {
      result.error = s.reason;
      return result;
    }
    result.poisoned.push({ row: rows[i], failure });
  }
  return result;
}

/** An envelope that does not pass its schema. */
class SchemaFailure {
  readonly detail: string;
  constructor(e: unknown) {
    const issues = (e as { issues?: { path: PropertyKey[]; message: string }[] })?.issues;
    this.detail = issues
      ? issues.map((i) => `${i.path.map(String).join(".")}: ${i.message}`).join("; ")
      : String((e as Error)?.message ?? e);
  }
}

/** The forwarding loop of a running relay. */
export class Forwarder {
  #wake: (() => void) | null = null;
  #dirty = true;
  #stopped = false;
  #done: Promise<void> | null = null;

  constructor(
    private outbox: Outbox,
    private js: JetStreamClient,
    private log: Logger,
    private opts: { batch?: number; now?: () => number } = {},
  ) {
    outbox.onAppend(() => this.poke());
  }

  /** Wakes the loop: new rows were stored. */
  poke(): void {
    this.#dirty = true;
    this.#wake?.();
  }

  start(): void {
    this.#done ??= this.#loop();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#wake?.();
    await this.#done;
  }

  #sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.#wake = done;
    }).then(() => {
      this.#wake = null;
    });
  }

  async #loop(): Promise<void> {
    let backoff = 250;
    while (!this.#stopped) {
      let retry = false;
      try {
        retry = await this.#pass();
      } catch (e) {
        // The outbox itself failed (e.g. the disk); nothing a row holds gets here.
        this.log.error("forwarder pass failed; will retry", { error: e });
        retry = true;
      }
      if (retry) {
        await this.#sleep(backoff);
        backoff = Math.min(backoff * 2, 5_000);
      } else backoff = 250;
    }
  }

  /** One pass: sleeps when idle, else forwards one batch. Returns true to back off. */
  async #pass(): Promise<boolean> {
    if (!this.#dirty) {
      backlog.set(this.outbox.backlog());
      await this.#sleep(1_000);
      // Also look periodically, in case rows were requeued by another process.
      this.#dirty = true;
      return false;
    }
    this.#dirty = false;
    const rows = this.outbox.unforwarded(this.opts.batch ?? 500);
    if (rows.length === 0) return false;
    this.#dirty = true;
    const { acked, poisoned, error } = await publishRows(this.js, rows);
    const now = this.opts.now?.() ?? Date.now();
    const at = new Date(now).toISOString();
    this.outbox.markForwarded(acked.map((r) => r.seq), at);
    for (const r of acked) {
      forwardLatency.labels(r.provider).observe(
        Math.max(0, now - Date.parse(r.received_at)) / 1000,
      );
    }
    if (poisoned.length) {
      this.outbox.markPoisoned(poisoned.map((p) => ({ seq: p.row.seq, failure: p.failure })), at);
      for (const p of poisoned) {
        poisonedTotal.labels(p.failure.slice(0, p.failure.indexOf(":"))).inc();
        // Kept in the outbox; `relay:replay --poisoned` sends it once the cause is fixed.
        this.log.error("webhook cannot be forwarded; set aside", {
          provider: p.row.provider,
          seq: p.row.seq,
          event_id: p.row.event_id.slice(0, 300),
          failure: p.failure.slice(0, 300),
          bytes: p.row.body.length,
        });
      }
    }
    if (error) {
      this.log.warn("forwarding to JetStream failed; will retry", {
        error: String((error as Error)?.message ?? error),
        backlog: this.outbox.backlog(),
      });
      return true;
    }
    return false;
  }
}
