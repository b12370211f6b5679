/**
 * Alpaca as a {@link MarketDataProvider}: streams on Deno's WebSocket (msgpack), snapshots and
 * the clock through the official SDK; historical daily closes from its bars (`bars.ts`).
 * @module
 */
import type { PriceFeed } from "@meridian/proto";
import type { Logger } from "@meridian/runtime";
import type { MarketDataProvider } from "../types.ts";
import { AlpacaRest } from "./rest.ts";
import { AlpacaStream, type StreamBackoff } from "./stream.ts";

export {
  AlpacaStream,
  type AlpacaStreamOptions,
  DEFAULT_BACKOFF,
  streamEndpoint,
} from "./stream.ts";
export type { StreamBackoff } from "./stream.ts";
export { AlpacaRest, AlpacaRestError, SNAPSHOT_BATCH } from "./rest.ts";
export {
  AlpacaHistoricalPrices,
  type AlpacaHistoricalPricesOptions,
  BARS_BATCH,
  BARS_PAGE_LIMIT,
  type BarsKind,
  barsKind,
  DATA_REQUESTS_PER_MINUTE,
} from "./bars.ts";

/** Symbols one stock stream connection may hold per feed: the free plan's 30, none on SIP. */
export const FEED_STOCK_CAPACITY: Readonly<Record<string, number | null>> = {
  iex: 30,
  test: 30,
  sip: null,
  delayed_sip: null,
};

/** Where Alpaca lives and which stock feed to use. */
export interface AlpacaMarketDataOptions {
  /** Stream base, e.g. `wss://stream.data.alpaca.markets` or `ws://127.0.0.1:8082/alpaca-data`. */
  streamUrl: string;
  /** Market-data REST base, e.g. `https://data.alpaca.markets` or `http://127.0.0.1:8082/alpaca-data`. */
  dataUrl: string;
  /** Trading REST base (the clock), e.g. `https://api.alpaca.markets` or `http://127.0.0.1:8082/alpaca`. */
  tradingUrl: string;
  /** The stock feed: iex | sip | delayed_sip | test. */
  feed: PriceFeed;
  log?: Logger;
  /** Stream reconnect delays (tests shorten them). */
  backoff?: Partial<StreamBackoff>;
}

/** The Alpaca market-data provider. Throws a RangeError for a feed that is not a stock feed. */
export function alpacaMarketData(opts: AlpacaMarketDataOptions): MarketDataProvider {
  const feed = opts.feed;
  if (!(feed in FEED_STOCK_CAPACITY)) {
    throw new RangeError(`Alpaca has no stock feed "${feed}": use iex, sip, delayed_sip or test`);
  }
  const rest = new AlpacaRest({ dataUrl: opts.dataUrl, tradingUrl: opts.tradingUrl, feed });
  return {
    name: "alpaca",
    feed,
    delayed: feed === "delayed_sip",
    stockCapacity: FEED_STOCK_CAPACITY[feed] ?? null,
    openStream: (kind, credential, events) =>
      new AlpacaStream({
        url: opts.streamUrl,
        credential,
        kind,
        feed,
        events,
        log: opts.log?.child({ provider: "alpaca", stream: kind }),
        backoff: opts.backoff,
      }),
    snapshots: (kind, symbols, credential) => rest.snapshots(kind, symbols, credential),
    clock: (credential) => rest.clock(credential),
  };
}
