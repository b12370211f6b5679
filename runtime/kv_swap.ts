/**
 * Compare-and-swap writes into a KV bucket at a high rate. `kv.update` of nats.js is a
 * request: a reply subscription entry, a timer and several promises per write, ~80 µs of
 * client CPU each, which alone would take most of a core at 10,000 writes a second. Here a
 * write is one publish into the bucket's stream with the expected-revision header, and the
 * PubAcks of every write come back on one wildcard inbox subscription: ~20 µs. What the
 * server accepts and refuses is the same as for `kv.update` (the header is the same).
 * @module
 */
import { createInbox, headers, type NatsConnection, type Subscription } from "@nats-io/nats-core";
import { JetStreamApiError } from "@nats-io/jetstream";

/** How long a write waits for its PubAck before it fails. */
export const SWAP_TIMEOUT_MS = 5_000;

interface Pending {
  resolve: (revision: number) => void;
  reject: (e: Error) => void;
  since: number;
}

const decoder = new TextDecoder();

/** Writes keys of one bucket by compare-and-swap; one instance per bucket and connection. */
export class KvSwapWriter {
  readonly #nc: NatsConnection;
  readonly #prefix: string;
  readonly #inbox: string;
  readonly #sub: Subscription;
  readonly #pending = new Map<number, Pending>();
  readonly #timeoutMs: number;
  #next = 0;
  #sweep: ReturnType<typeof setInterval> | undefined;

  /**
   * `inboxPrefix` is the connection's (see `inboxPrefix` in nats.ts), so a user allowed only
   * its own inbox receives the PubAcks.
   */
  constructor(
    nc: NatsConnection,
    bucket: string,
    opts: { inboxPrefix?: string; timeoutMs?: number } = {},
  ) {
    this.#nc = nc;
    this.#prefix = `$KV.${bucket}.`;
    this.#timeoutMs = opts.timeoutMs ?? SWAP_TIMEOUT_MS;
    this.#inbox = `${createInbox(opts.inboxPrefix)}.`;
    this.#sub = nc.subscribe(`${this.#inbox}*`, {
      callback: (err, msg) => {
        if (err) return;
        this.#settle(Number(msg.subject.slice(this.#inbox.length)), msg.data);
      },
    });
  }

  /**
   * Writes `value` under `key` if the key's last revision is `revision` (0: the key has never
   * been written). Resolves with the new revision; rejects with a `JetStreamApiError` that
   * `isKvConflict` recognises when the key has moved on, or with an error after the timeout.
   */
  swap(key: string, value: Uint8Array, revision: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const id = this.#next++;
      const h = headers();
      h.set("Nats-Expected-Last-Subject-Sequence", String(revision));
      this.#pending.set(id, { resolve, reject, since: performance.now() });
      try {
        this.#nc.publish(this.#prefix + key, value, { headers: h, reply: this.#inbox + id });
      } catch (e) {
        this.#pending.delete(id);
        reject(e as Error);
        return;
      }
      this.#sweep ??= setInterval(() => this.#expire(), this.#timeoutMs / 2);
    });
  }

  /** Fails every write still waiting; later PubAcks are ignored. */
  close(): void {
    this.#sub.unsubscribe();
    this.#expire(0);
  }

  #settle(id: number, data: Uint8Array): void {
    const p = this.#pending.get(id);
    if (!p) return;
    this.#pending.delete(id);
    if (data.length === 0) {
      // A status reply (503): no stream takes the subject, the bucket is missing.
      p.reject(new Error("no stream stores this bucket"));
      return;
    }
    let ack: { seq?: number; error?: { code: number; err_code: number; description: string } };
    try {
      ack = JSON.parse(decoder.decode(data));
    } catch {
      p.reject(new Error("unreadable PubAck"));
      return;
    }
    if (ack.error) p.reject(new JetStreamApiError(ack.error));
    else if (typeof ack.seq === "number") p.resolve(ack.seq);
    else p.reject(new Error("PubAck without a sequence"));
  }

  #expire(age = this.#timeoutMs): void {
    const now = performance.now();
    for (const [id, p] of this.#pending) {
      if (now - p.since < age) continue;
      this.#pending.delete(id);
      p.reject(new Error(`no PubAck within ${this.#timeoutMs} ms`));
    }
    if (this.#pending.size === 0 && this.#sweep !== undefined) {
      clearInterval(this.#sweep);
      this.#sweep = undefined;
    }
  }
}
