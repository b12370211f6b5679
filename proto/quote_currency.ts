/**
 * Which currency a market-data symbol's prices are in. A module of its own, free of any
 * server-only import, so the dashboard's bundle can use it too.
 * @module
 */

/**
 * The currency a market-data symbol's prices are in: a crypto pair's quote currency (`BTC/EUR`
 * → EUR), else USD (Alpaca's stock, fund and option data are US listings). A price applies to
 * a position only in that currency: a foreign listing of the same ticker is another security.
 */
export function quoteCurrency(symbol: string): string {
  const slash = symbol.indexOf("/");
  return slash < 0 ? "USD" : symbol.slice(slash + 1);
}
