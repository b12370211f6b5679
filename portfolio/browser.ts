/**
 * The part of the portfolio the dashboard bundles (`@meridian/portfolio/reprice`): re-pricing
 * a holdings view at live quotes with the server's own rules and exact arithmetic, and the
 * helpers to show it. No database, no NATS: decimal.js and types only.
 * @module
 */
export { repriceHoldings, rowsOfView } from "./reprice.ts";
export {
  isCrypto,
  isPriceStale,
  nextStaleChange,
  type Quote,
  quoteCurrency,
  type Quotes,
  quotesFromTuples,
  type QuoteTuples,
  STALE_AFTER_MS,
} from "./pricing.ts";
export { canonical, decimalString, Exact, percentOf } from "./exact.ts";
export { convert } from "./fx_cross.ts";
export type { HoldingsView } from "./views.ts";
