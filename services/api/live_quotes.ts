/**
 * The live prices the api values holdings at: one in-process mirror of KV `last_prices` (and
 * of the US market's status in `market_status`) for the whole process, so a page load costs no
 * NATS round trip. Follows every write, and survives NATS reconnects and server restarts
 * (`KvMirror` re-creates its watch and re-reads); stops when the connection closes.
 * @module
 */
import type { NatsConnection } from "@nats-io/nats-core";
import { type KV, Kvm } from "@nats-io/kv";
import {
  buckets,
  decodeKvToken,
  kvKeys,
  LastPrice,
  MarketStatus,
  safeDecode,
} from "@meridian/proto";
import { KvMirror, type Logger } from "@meridian/runtime";

/** A quote with the KV revision it was written at. */
export interface QuoteEntry {
  quote: LastPrice;
  revision: number;
}

/** What holdings read of the live prices. */
export interface QuoteBook {
  /** A symbol's last price, if there is one. */
  get(symbol: string): QuoteEntry | undefined;
  /** Whether the US market is open (null: unknown, no status read yet). */
  marketOpen(): boolean | null;
}

/** The process's mirror of `last_prices` and the market status. */
export class LiveQuotes implements QuoteBook {
  readonly #quotes = new Map<string, QuoteEntry>();
  #market: boolean | null = null;
  readonly #mirrors: KvMirror[] = [];
  #stopped = false;
  /** Resolves once both buckets' current values are loaded (or the mirror stopped). */
  readonly ready: Promise<void>;

  constructor(nc: NatsConnection, private readonly log?: Logger) {
    this.ready = this.#start(nc).catch((e) => {
      log?.error("live quotes unavailable: holdings keep their providers' prices", { error: e });
    });
    nc.closed().then(() => this.stop(), () => this.stop());
  }

  get(symbol: string): QuoteEntry | undefined {
    return this.#quotes.get(symbol);
  }

  marketOpen(): boolean | null {
    return this.#market;
  }

  /** Stops following (also when the connection closes). */
  stop(): void {
    this.#stopped = true;
    for (const m of this.#mirrors) m.stop();
  }

  async #start(nc: NatsConnection): Promise<void> {
    const kvm = new Kvm(nc);
    let prices: KV, market: KV;
    for (let delay = 250;; delay = Math.min(delay * 2, 5_000)) {
      try {
        [prices, market] = await Promise.all([
          kvm.open(buckets.lastPrices.name),
          kvm.open(buckets.marketStatus.name),
        ]);
        break;
      } catch (e) {
        if (this.#stopped || nc.isClosed()) return;
        this.log?.warn("live quotes: buckets not open yet; retrying", {
          error: e,
          retry_ms: delay,
        });
        await new Promise((r) => setTimeout(r, delay));
      }
    }
    if (this.#stopped) return;
    const log = this.log;
    const quotes = new KvMirror(prices, {
      filter: ">",
      nc,
      log,
      onPut: (key, value, revision) => {
        const symbol = decodeKvToken(key);
        const q = safeDecode(LastPrice, value);
        if (!q.success) {
          log?.warn("ignoring an unreadable last price", { key, error: q.error });
          this.#quotes.delete(symbol);
          return;
        }
        this.#quotes.set(symbol, { quote: q.data, revision });
      },
      onDelete: (key) => this.#quotes.delete(decodeKvToken(key)),
    });
    const status = new KvMirror(market, {
      filter: kvKeys.usEquityMarket,
      nc,
      log,
      onPut: (_key, value) => {
        const s = safeDecode(MarketStatus, value);
        this.#market = s.success ? s.data.is_open : null;
      },
      onDelete: () => this.#market = null,
    });
    this.#mirrors.push(quotes, status);
    await Promise.all([quotes.start(), status.start()]);
  }
}
