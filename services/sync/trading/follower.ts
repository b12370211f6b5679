/**
 * Follows open orders to their end: every interval, each order that is not final is read
 * from its broker (`OrderDesk.refresh`), and each whose outcome is unknown is settled by
 * asking the broker (`OrderDesk.settle`). Every call goes through its provider's limiter, so
 * following stays within the broker's rate limit. Runs in the sync service; reports are
 * idempotent, so two instances following the same order only repeat what is known.
 * @module
 */
import type { Logger } from "@meridian/runtime";
import type { OrderDesk } from "./orders.ts";

/** Orders read per pass, oldest change first. */
const BATCH = 100;

/** The order follower. */
export class OrderFollower {
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;
  #pass: Promise<void> = Promise.resolve();

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

  /** One pass over the open orders. */
  async pass(): Promise<void> {
    const open = await this.desk.deps.sync.sql<{ id: string; state: string }[]>`
      select id, state from orders
       where state in ('submitted', 'accepted', 'partially_filled', 'unknown')
       order by updated_at limit ${BATCH}`.catch((e) => {
      this.opts.log?.warn("cannot list open orders", { error: e });
      return [];
    });
    for (const o of open) {
      if (this.#stopped) return;
      try {
        if (o.state === "unknown") await this.desk.settle(o.id);
        else await this.desk.refresh(o.id);
      } catch (e) {
        this.opts.log?.warn("following an order failed", { order_id: o.id, error: e });
      }
    }
  }

  /** Stops following; resolves when the pass in flight ends. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#pass;
  }
}
