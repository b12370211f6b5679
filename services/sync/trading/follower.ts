/**
 * Follows open orders to their end. A connection whose broker pushes order updates (Alpaca's
 * `trade_updates`) gets one stream while it has open orders; its orders are still read now and
 * then, so an update lost while a stream reconnects is not lost for good. Other brokers'
 * open orders (SnapTrade) are read every pass (`OrderDesk.refresh`), and an order whose outcome
 * is unknown is settled by asking its broker (`OrderDesk.settle`). Every broker call goes
 * through its provider's limiter, so following stays within the broker's rate limit. Runs in
 * the sync service; reports are idempotent, so two instances following the same order only
 * repeat what is known.
 * @module
 */
import type { Logger } from "@meridian/runtime";
import type { OrderUpdates } from "../providers/types.ts";
import type { OrderDesk } from "./orders.ts";

/** Orders read per pass, oldest change first. */
const BATCH = 100;
/** A streamed connection's open orders are read every this many passes. */
const RECHECK_STREAMED_EVERY = 15;
/** Longest wait before opening a stream that closed again. */
const MAX_STREAM_RETRY_MS = 30_000;

interface Stream {
  updates: OrderUpdates | null;
  /** The broker listens: its orders need no reading every pass. */
  live: boolean;
  /** The broker pushes nothing: poll. */
  none: boolean;
  failures: number;
  retryAt: number;
}

/** The order follower. */
export class OrderFollower {
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;
  #pass: Promise<void> = Promise.resolve();
  #passes = 0;
  readonly #streams = new Map<string, Stream>();

  constructor(
    readonly desk: OrderDesk,
    readonly opts: { intervalMs?: number; log?: Logger } = {},
  ) {}

  /** Starts following. */
  start(): void {
    this.#stopped = false;
    this.#schedule();
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#pass = this.pass().finally(() => this.#schedule());
    }, this.opts.intervalMs ?? 1_000);
  }

  /** Whether a connection's order updates are being pushed now. */
  streaming(connectionId: string): boolean {
    return this.#streams.get(connectionId)?.live ?? false;
  }

  /** One pass over the open orders. */
  async pass(): Promise<void> {
    const open = await this.desk.deps.sync.sql<
      { id: string; state: string; connection_id: string }[]
    >`
      select id, state, connection_id from orders
       where state in ('submitted', 'accepted', 'partially_filled', 'unknown')
       order by updated_at limit ${BATCH}`.catch((e) => {
      this.opts.log?.warn("cannot list open orders", { error: e });
      return [];
    });
    const connections = new Set(open.map((o) => o.connection_id));
    for (const [id, s] of this.#streams) {
      if (connections.has(id)) continue;
      s.updates?.close();
      this.#streams.delete(id);
    }
    // A stream that starts now missed what happened before it: its orders are read this pass.
    const started = new Set<string>();
    for (const id of connections) if (await this.#ensureStream(id)) started.add(id);
    const recheck = ++this.#passes % RECHECK_STREAMED_EVERY === 0;
    for (const o of open) {
      if (this.#stopped) return;
      const pushed = this.streaming(o.connection_id) && !started.has(o.connection_id);
      if (o.state !== "unknown" && pushed && !recheck) continue;
      try {
        if (o.state === "unknown") await this.desk.settle(o.id);
        else await this.desk.refresh(o.id);
      } catch (e) {
        this.opts.log?.warn("following an order failed", { order_id: o.id, error: e });
      }
    }
  }

  /**
   * Opens the connection's stream unless it has one, pushes none, or must wait to retry;
   * whether a stream started listening now.
   */
  async #ensureStream(connectionId: string): Promise<boolean> {
    const known = this.#streams.get(connectionId);
    if (known && (known.updates || known.none || known.retryAt > Date.now())) return false;
    const s: Stream = known ?? { updates: null, live: false, none: false, failures: 0, retryAt: 0 };
    this.#streams.set(connectionId, s);
    try {
      const updates = await this.desk.openUpdates(connectionId, (reason) => {
        s.live = false;
        s.updates = null;
        s.failures++;
        s.retryAt = Date.now() + Math.min(MAX_STREAM_RETRY_MS, 500 * 2 ** s.failures);
        if (!this.#stopped) {
          this.opts.log?.info("order updates stream ended", {
            connection_id: connectionId,
            reason,
          });
        }
      });
      if (!updates) {
        s.none = true;
        return false;
      }
      s.updates = updates;
      await updates.ready;
      if (s.updates !== updates) return false;
      s.live = true;
      s.failures = 0;
      return true;
    } catch (e) {
      s.failures++;
      s.retryAt = Date.now() + Math.min(MAX_STREAM_RETRY_MS, 500 * 2 ** s.failures);
      this.opts.log?.warn("cannot open order updates", { connection_id: connectionId, error: e });
      return false;
    }
  }

  /** Stops following; resolves when the pass in flight ends. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#pass;
    for (const s of this.#streams.values()) s.updates?.close();
    this.#streams.clear();
  }
}
