/**
 * The portfolio read model (database first) and refresh requests, shared by the api and
 * ingress. The dashboard imports the browser-safe part from `@meridian/portfolio/reprice`.
 * @module
 */
export * from "./views.ts";
export {
  type AccountRow,
  aggregateHoldings,
  type BalanceRow,
  type BaseCurrency,
  baseTotals,
  type ConnectionSummaryRow,
  type HoldingsRows,
  multiplier,
  positionDayChange,
  type PositionRow,
  positionValue,
  summarizeProviders,
} from "./aggregate.ts";
export * from "./allocation.ts";
export * from "./exact.ts";
export * from "./pricing.ts";
export * from "./reprice.ts";
export * from "./refresh_plan.ts";
export * from "./read.ts";
export * from "./refresh.ts";
export * from "./pending.ts";
export * from "./instruments.ts";
export * from "./fx.ts";
export * from "./fx_rates.ts";
