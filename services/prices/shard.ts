/**
 * One shard at work: the credential this instance holds the lease of streams the symbols the
 * `symbols` leader assigned to it. New symbols are seeded from a snapshot (so a price exists
 * before the first trade and while the market is closed); symbols the stream refuses (405)
 * are polled instead and marked delayed.
 * @module
 */
import type { KV } from "@nats-io/kv";
import { kvKeys, type ShardInfo, type SymbolStream } from "@meridian/proto";
import { counter, gauge, type Logger } from "@meridian/runtime";
import type { ShardCredential } from "./credentials.ts";
import { symbolDiff } from "./diff.ts";
import type { MarketDataProvider, MarketStream, StreamStatus } from "./market_data/mod.ts";
import { feedOf, type PricePublisher } from "./publisher.ts";
import { type AssignedSymbols, watchAssignment } from "./assignment_watch.ts";

const ticksIn = counter("meridian_prices_ticks_in_total", "Trades received from the streams", [
  "stream",
]);
const streamedGauge = gauge(
  "meridian_prices_streamed_symbols",
  "Symbols this instance's streams have subscribed (as the provider acknowledged)",
);
const reconnects = counter(
  "meridian_prices_reconnects_total",
  "Stream connections re-established after a failure",
  ["stream"],
);

/** What a shard needs. */
export interface ShardDeps {
  credential: ShardCredential;
  provider: MarketDataProvider;
  assignments: KV;
  publisher: PricePublisher;
  log: Logger;
  /** Seconds between polls of refused symbols. */
  pollS: number;
}

const STREAMS: readonly SymbolStream[] = ["stocks", "crypto"];

/** Streams one shard's symbols until stopped. */
export class Shard {
  #streams = new Map<SymbolStream, MarketStream>();
  #symbols: AssignedSymbols = { stocks: [], crypto: [] };
  #stopWatch: (() => void) | undefined;
  #pollTimer: ReturnType<typeof setInterval> | undefined;
  #gaugeTimer: ReturnType<typeof setInterval> | undefined;
  /** Trades received since the counter was last updated, by stream (counted in batches). */
  #received: Record<SymbolStream, number> = { stocks: 0, crypto: 0 };
  /** Each stream's reconnects already added to the metric. */
  #reconnectsCounted = new Map<SymbolStream, number>();
  #stopped = false;

  constructor(private readonly deps: ShardDeps) {}

  /** The shard id. */
  get id(): string {
    return this.deps.credential.shard;
  }

  /** Opens the stock stream (authenticating at once, so a bad key shows) and follows the assignment. */
  start(): void {
    this.#open("stocks");
    this.#stopWatch = watchAssignment(
      this.deps.assignments,
      kvKeys.shardAssignment(this.id),
      this.deps.log,
      (symbols) => this.#assign(symbols),
    );
    this.#pollTimer = setInterval(() => void this.#pollRefused(), this.deps.pollS * 1000);
    this.#gaugeTimer = setInterval(() => this.#count(), 250);
  }

  /** The stock stream's status (the one every shard holds). */
  status(): StreamStatus {
    return this.#streams.get("stocks")?.status() ?? { state: "connecting" };
  }

  /** What this shard offers, for its lease. */
  info(): ShardInfo {
    return {
      feed: this.deps.provider.feed,
      stock_capacity: this.deps.provider.stockCapacity,
      streaming: this.status().state !== "rejected",
    };
  }

  /** Symbols currently streamed (acknowledged by the server). */
  streamedCount(): number {
    let n = 0;
    for (const s of this.#streams.values()) n += s.subscribed().size;
    return n;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#stopWatch?.();
    clearInterval(this.#pollTimer);
    clearInterval(this.#gaugeTimer);
    this.#count();
    streamedGauge.set(0);
    await Promise.all([...this.#streams.values()].map((s) => s.close()));
    this.#streams.clear();
  }

  #count(): void {
    streamedGauge.set(this.streamedCount());
    for (const kind of STREAMS) {
      if (this.#received[kind] === 0) continue;
      ticksIn.inc({ stream: kind }, this.#received[kind]);
      this.#received[kind] = 0;
    }
  }

  #open(kind: SymbolStream): MarketStream {
    let stream = this.#streams.get(kind);
    if (stream) return stream;
    const { provider, credential, publisher, log } = this.deps;
    const feed = feedOf(provider, kind);
    const delayed = kind === "crypto" ? false : provider.delayed;
    let lastState = "";
    stream = provider.openStream(kind, credential, {
      onTrade: (t) => {
        this.#received[kind]++;
        publisher.publish({
          symbol: t.symbol,
          price: t.price,
          size: t.size,
          time: t.time,
          feed,
          delayed,
        }, "stream");
      },
      onStatus: (s) => {
        const total = this.#streams.get(kind)?.reconnects ?? 0;
        const counted = this.#reconnectsCounted.get(kind) ?? 0;
        if (total > counted) reconnects.inc({ stream: kind }, total - counted);
        this.#reconnectsCounted.set(kind, total);
        if (s.state === lastState) return;
        lastState = s.state;
        if (s.state === "rejected") {
          log.error("market-data stream refused", {
            shard: this.id,
            stream: kind,
            reason: s.reason,
          });
        } else if (s.state === "streaming") {
          log.info("market-data stream up", { shard: this.id, stream: kind });
        }
      },
      onRefused: (symbols) => {
        log.warn("stream refused symbols (plan's symbol limit); polling them", {
          shard: this.id,
          stream: kind,
          symbols: symbols.length,
        });
        void this.#seed(kind, symbols, true);
      },
    });
    this.#streams.set(kind, stream);
    return stream;
  }

  #assign(next: AssignedSymbols): void {
    if (this.#stopped) return;
    for (const kind of STREAMS) {
      const diff = symbolDiff(this.#symbols[kind], next[kind]);
      if (diff.added.length === 0 && diff.removed.length === 0) continue;
      if (next[kind].length > 0 || this.#streams.has(kind)) this.#open(kind).setSymbols(next[kind]);
      for (const s of diff.removed) this.deps.publisher.forget(s);
      this.deps.log.info("assignment changed", {
        shard: this.id,
        stream: kind,
        symbols: next[kind].length,
        added: diff.added.length,
        removed: diff.removed.length,
      });
      void this.#seed(kind, diff.added, false);
    }
    this.#symbols = { stocks: [...next.stocks], crypto: [...next.crypto] };
  }

  /** Publishes each symbol's snapshot price (and records its previous close). */
  async #seed(kind: SymbolStream, symbols: readonly string[], delayed: boolean): Promise<void> {
    if (symbols.length === 0) return;
    const { provider, credential, publisher, log } = this.deps;
    try {
      const snaps = await provider.snapshots(kind, symbols, credential);
      const wanted = new Set(this.#symbols[kind]);
      const feed = feedOf(provider, kind);
      const late = delayed || (kind === "stocks" && provider.delayed);
      for (const s of snaps.values()) {
        if (this.#stopped || !wanted.has(s.symbol)) continue;
        publisher.publishSnapshot(s, feed, late, delayed ? "poll" : "seed");
      }
    } catch (e) {
      log.warn("snapshot failed", {
        shard: this.id,
        stream: kind,
        symbols: symbols.length,
        error: e,
      });
    }
  }

  async #pollRefused(): Promise<void> {
    for (const [kind, stream] of this.#streams) {
      const refused = [...stream.refused()];
      if (refused.length > 0) await this.#seed(kind, refused, true);
    }
  }
}
