/**
 * Historical daily closes from configuration: the market-data provider the prices service
 * streams from, at the same REST base and with the same keys.
 * @module
 */
import type { Config, Logger } from "@meridian/runtime";
import { dataCredentials, marketDataEndpoints } from "../credentials.ts";
import { AlpacaHistoricalPrices } from "./alpaca/bars.ts";
import type { HistoricalPrices } from "./types.ts";

/**
 * Alpaca's daily bars at `ALPACA_DATA_URL` (else the sandbox's with `PROVIDERS=sandbox`, else
 * Alpaca's own), read with the first market-data key (`ALPACA_DATA_KEYS`, else
 * `ALPACA_KEY_ID`/`ALPACA_SECRET_KEY`, else the sandbox's demo data keys) on the configured
 * feed; null when no key is configured.
 */
export function historicalPricesFromConfig(
  config: Config,
  log?: Logger,
): HistoricalPrices | null {
  const [credential] = dataCredentials(config);
  if (!credential) return null;
  return new AlpacaHistoricalPrices({
    dataUrl: marketDataEndpoints(config).dataUrl,
    feed: config.ALPACA_FEED,
    credential: { keyId: credential.keyId, secret: credential.secret },
    log,
  });
}
