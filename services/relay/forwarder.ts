/**
 * Forwards outbox rows to JetStream `webhooks.<provider>` in order, with `Nats-Msg-Id` = the
 * event id, and marks them forwarded only after their PubAck.
 * @module
 */
import type { JetStreamClient } from "@nats-io/jetstream";
import { encode, subjects, WebhookEnvelope } from "@meridian/proto";
import { gauge, histogram, type Logger } from "@meridian/runtime";
import type { Outbox, OutboxRow } from "./outbox.ts";

const forwardLatency = histogram(
  "relay_forward_latency_seconds",
  "Time from a webhook's receipt to its JetStream PubAck",
  ["provider"],
  [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 60, 300, 3600],
);
const forwarded = gauge("relay_outbox_backlog", "Outbox rows not yet forwarded to JetStream");

/**
 * Publishes `rows` pipelined (one connection keeps their order) and returns the leading run
 * of rows that were acknowledged.
 */
export async function publishRows(
  js: JetStreamClient,
  rows: OutboxRow[],
  timeoutMs = 5_000,
): Promise<{ acked: OutboxRow[]; error?: unknown }> {
  const pending = rows.map((r) =>
    js.publish(
      subjects.webhook(r.provider),
      encode(WebhookEnvelope, {
        provider: r.provider,
        event_id: r.event_id,
        received_at: r.received_at,
        body: r.body,
      }),
      { msgID: r.event_id, timeout: timeoutMs },
    )
  );
  const settled = await Promise.allSettled(pending);
  const acked: OutboxRow[] = [];
  for (let i = 0; i < rows.length; i++) {
    const s = settled[i];
    if (s.status === "rejected") return { acked, error: s.reason };
    acked.push(rows[i]);
  }
  return { acked };
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
      if (!this.#dirty) {
        forwarded.set(this.outbox.backlog());
        await this.#sleep(1_000);
        // Also look periodically, in case rows were requeued by another process.
        this.#dirty = true;
        continue;
      }
      this.#dirty = false;
      const rows = this.outbox.unforwarded(this.opts.batch ?? 500);
      if (rows.length === 0) continue;
      this.#dirty = true;
      const { acked, error } = await publishRows(this.js, rows);
      const now = this.opts.now?.() ?? Date.now();
      this.outbox.markForwarded(acked.map((r) => r.seq), new Date(now).toISOString());
      for (const r of acked) {
        forwardLatency.labels(r.provider).observe(
          Math.max(0, now - Date.parse(r.received_at)) / 1000,
        );
      }
      if (error && /max.?payload/i.test(String((error as Error)?.message ?? error))) {
        // Too large for this NATS server: it would block the queue for ever. Set it aside
        // (kept in the outbox; `relay:replay` sends it once max_payload is raised).
        const row = rows[acked.length];
        this.outbox.markForwarded([row.seq], "unforwardable:max_payload");
        this.log.error("webhook larger than NATS max_payload; set aside", {
          provider: row.provider,
          event_id: row.event_id,
          bytes: row.body.length,
        });
        continue;
      }
      if (error) {
        this.log.warn("forwarding to JetStream failed; will retry", {
          error: String((error as Error)?.message ?? error),
          backlog: this.outbox.backlog(),
          retry_ms: backoff,
        });
        await this.#sleep(backoff);
        backoff = Math.min(backoff * 2, 5_000);
      } else backoff = 250;
    }
  }
}
