/**
 * Market data for the prices service: the provider contract (`types.ts`) and its
 * implementations, chosen by key with {@link marketDataProvider}; historical daily closes for
 * other services ({@link historicalPricesFromConfig}, imported as `@meridian/prices/market_data`).
 * @module
 */
import { alpacaMarketData, type AlpacaMarketDataOptions } from "./alpaca/mod.ts";
import type { MarketDataProvider } from "./types.ts";

export type * from "./types.ts";
export { historicalPricesFromConfig } from "./history.ts";
export {
  AlpacaHistoricalPrices,
  type AlpacaHistoricalPricesOptions,
  alpacaMarketData,
  type AlpacaMarketDataOptions,
  AlpacaRest,
  AlpacaRestError,
  AlpacaStream,
  type AlpacaStreamOptions,
  BARS_BATCH,
  BARS_PAGE_LIMIT,
  type BarsKind,
  barsKind,
  DATA_REQUESTS_PER_MINUTE,
  DEFAULT_BACKOFF,
  FEED_STOCK_CAPACITY,
  SNAPSHOT_BATCH,
  type StreamBackoff,
  streamEndpoint,
} from "./alpaca/mod.ts";

/** Options per provider key. */
export interface MarketDataProviderOptions {
  alpaca: AlpacaMarketDataOptions;
}

/** The provider implementations by key. */
const PROVIDERS: {
  [K in keyof MarketDataProviderOptions]: (
    opts: MarketDataProviderOptions[K],
  ) => MarketDataProvider;
} = {
  alpaca: alpacaMarketData,
};

/** The market-data provider named `name`, built with its options. */
export function marketDataProvider<K extends keyof MarketDataProviderOptions>(
  name: K,
  opts: MarketDataProviderOptions[K],
): MarketDataProvider {
  const make = PROVIDERS[name];
  if (!make) throw new RangeError(`unknown market-data provider "${name}"`);
  return make(opts);
}
