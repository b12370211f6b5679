/**
 * Sends portfolio values: into KV `portfolio_values` as a compare-and-swap on the revision
 * last seen for the user; the server republishes what it stores on
 * `portfolio.value.<userId>` (the bucket's republish, proto/jetstream.ts). The swap is what
 * keeps `seq` strictly increasing across instances: while users move between instances, a
 * writer that is not up to date loses the swap, reads the newer value's `seq` back and
 * continues above it, and what it lost is never stored, so never republished.
 * @module
 */
import type { KV } from "@nats-io/kv";
import { buckets, kvKeys, PortfolioValue, safeDecode } from "@meridian/proto";
import {
  counter,
  isKvConflict,
  KvSwapWriter,
  type Logger,
  type NatsHandle,
} from "@meridian/runtime";
import type { EncodedValue } from "./engine.ts";

const publishedTotal = counter(
  "meridian_valuation_values_published_total",
  "Portfolio values published",
);
const conflictsTotal = counter(
  "meridian_valuation_value_conflicts_total",
  "Portfolio values not published because the KV held a newer one (users moving between instances)",
);
const failuresTotal = counter(
  "meridian_valuation_value_failures_total",
  "Portfolio values not published because NATS did not take them (retried at the next turn)",
);

const encoder = new TextEncoder();

/** How a send ended: `seq` is the KV's newer sequence number after a lost swap. */
export type Settled = (userId: string, ok: boolean, seq?: number) => void;

/** Writes and publishes values; one in flight per user (the engine sees to it). */
export class ValuePublisher {
  readonly #revisions = new Map<string, number>();
  readonly #writer: KvSwapWriter;

  /** `kv` is the `portfolio_values` bucket on `out`'s connection. */
  constructor(
    out: NatsHandle,
    private readonly kv: KV,
    private readonly log: Logger,
    private readonly settled: Settled,
  ) {
    this.#writer = new KvSwapWriter(out.nc, buckets.portfolioValues.name, {
      inboxPrefix: out.inboxPrefix,
    });
  }

  /** Fails the writes still waiting for their acknowledgement. */
  close(): void {
    this.#writer.close();
  }

  /** Reads a user's last value from the KV: its `seq` (0 when none), remembering the revision. */
  async lastSeq(userId: string): Promise<number> {
    const e = await this.kv.get(kvKeys.portfolioValue(userId));
    if (!e || e.operation !== "PUT") {
      if (e) this.#revisions.set(userId, e.revision);
      else this.#revisions.delete(userId);
      return 0;
    }
    this.#revisions.set(userId, e.revision);
    const v = safeDecode(PortfolioValue, e.value);
    return v.success ? v.data.seq : 0;
  }

  /** Forgets a user (no longer valued here). */
  forget(userId: string): void {
    this.#revisions.delete(userId);
  }

  /** Sends one value; reports through `settled`. */
  send(value: EncodedValue): void {
    const user = value.userId;
    const key = kvKeys.portfolioValue(user);
    const bytes = encoder.encode(value.json);
    // Revision 0: the key must not exist yet (a first value).
    this.#writer.swap(key, bytes, this.#revisions.get(user) ?? 0).then(
      (r) => {
        this.#revisions.set(user, r);
        publishedTotal.inc();
        this.settled(user, true);
      },
      (e) => {
        if (!isKvConflict(e)) {
          failuresTotal.inc();
          this.log.warn("portfolio value not written; retrying at the next turn", {
            user_id: user,
            error: e,
          });
          this.settled(user, false);
          return;
        }
        conflictsTotal.inc();
        this.lastSeq(user).then(
          (seq) => this.settled(user, false, seq),
          () => this.settled(user, false),
        );
      },
    );
  }
}
