/**
 * Publishing prices: every tick on `prices.<SYMBOL>` (core NATS), and the last price with the
 * previous close in the `last_prices` bucket, coalesced to at most one write a second per
 * symbol.
 * @module
 */
import type { NatsConnection } from "@nats-io/transport-node";
import type { KV } from "@nats-io/kv";
import {
  encodeTyped,
  kvKeys,
  LastPrice,
  type PriceFeed,
  type PriceTick,
  priceTickJson,
  subjects,
  type SymbolStream,
} from "@meridian/proto";
import { counter, histogram, type Logger } from "@meridian/runtime";
import { Coalescer } from "./coalesce.ts";
import type { MarketDataProvider, Snapshot } from "./market_data/mod.ts";

/** The feed a price of `stream` comes from: crypto's own, or the provider's stock feed. */
export function feedOf(provider: MarketDataProvider, stream: SymbolStream): PriceFeed {
  return stream === "crypto" ? "crypto" : provider.feed;
}

const ticksOut = counter(
  "meridian_prices_ticks_out_total",
  "Prices published on prices.<SYMBOL>",
  ["source"],
);
const lag = histogram(
  "meridian_prices_publish_lag_seconds",
  "From a streamed trade's exchange time to its publication",
  [],
  [0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
);
const kvWrites = counter("meridian_prices_last_price_writes_total", "Writes to last_prices");

/** Where a price came from: a stream trade, a snapshot seeding a new symbol, or the poller. */
export type PriceSource = "stream" | "seed" | "poll";

/** One price to publish. */
export interface PriceUpdate {
  symbol: string;
  price: string;
  size: string;
  time: Date;
  feed: PriceFeed;
  delayed: boolean;
}

const FLUSH_EVERY_MS = 100;

/** Publishes prices; `start` the KV flush, `stop` to flush what is pending and end. */
/** What is computed once per symbol. */
interface SymbolText {
  subject: string;
  json: string;
}

export class PricePublisher {
  #symbols = new Map<string, SymbolText>();
  #previousClose = new Map<string, string | null>();
  /** The latest tick per symbol, written to KV at most once a second. */
  #kv = new Coalescer<PriceTick>(1_000);
  /** Ticks published since the counters were last updated, by source (counted in batches). */
  #published: Record<PriceSource, number> = { stream: 0, seed: 0, poll: 0 };
  #flushing = false;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly lastPrices: KV,
    private readonly log: Logger,
  ) {}

  /**
   * Publishes a snapshot's latest trade (seeding a new symbol, or polled) and keeps its
   * previous close for the symbol's KV entry.
   */
  publishSnapshot(s: Snapshot, feed: PriceFeed, delayed: boolean, source: "seed" | "poll"): void {
    this.#previousClose.set(s.symbol, s.previousClose);
    this.publish(
      { symbol: s.symbol, price: s.price, size: s.size, time: s.time, feed, delayed },
      source,
    );
  }

  /** Publishes one price now and queues its KV write. */
  publish(u: PriceUpdate, source: PriceSource): void {
    let text = this.#symbols.get(u.symbol);
    if (text === undefined) {
      text = { subject: subjects.price(u.symbol), json: JSON.stringify(u.symbol) };
      this.#symbols.set(u.symbol, text);
    }
    const tick: PriceTick = {
      symbol: u.symbol,
      price: u.price,
      size: u.size,
      time: u.time.toISOString(),
      feed: u.feed,
      delayed: u.delayed,
    };
    this.nc.publish(text.subject, priceTickJson(tick, text.json));
    this.#published[source]++;
    if (source === "stream") lag.observe(Math.max(0, Date.now() - u.time.getTime()) / 1000);
    this.#kv.offer(u.symbol, tick);
  }

  /** Stops following a symbol (its KV entry stays: the last price is still the last price). */
  forget(symbol: string): void {
    this.#symbols.delete(symbol);
    this.#previousClose.delete(symbol);
    this.#kv.forget(symbol);
  }

  start(): void {
    this.#timer = setInterval(() => {
      this.#count();
      void this.#flush(this.#kv.due(Date.now()));
    }, FLUSH_EVERY_MS);
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#count();
    await this.#flush(this.#kv.drain());
  }

  #count(): void {
    for (const source of ["stream", "seed", "poll"] as const) {
      if (this.#published[source] === 0) continue;
      ticksOut.inc({ source }, this.#published[source]);
      this.#published[source] = 0;
    }
  }

  async #flush(entries: [string, PriceTick][]): Promise<void> {
    if (entries.length === 0 || this.#flushing) {
      // A write still in flight: put these back so the next pass writes them.
      for (const [k, v] of entries) this.#kv.restore(k, v);
      return;
    }
    this.#flushing = true;
    try {
      await Promise.all(entries.map(async ([symbol, tick]) => {
        const last: LastPrice = {
          ...tick,
          previous_close: this.#previousClose.get(symbol) ?? null,
        };
        try {
          await this.lastPrices.put(kvKeys.lastPrice(symbol), encodeTyped(LastPrice, last));
          kvWrites.inc();
        } catch (e) {
          this.#kv.restore(symbol, tick);
          this.log.debug("last price write failed; will retry", { symbol, error: e });
        }
      }));
    } finally {
      this.#flushing = false;
    }
  }
}
