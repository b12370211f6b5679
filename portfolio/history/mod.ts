/**
 * Value history: New York market days, the `value_history` store, and the series the api
 * draws from it.
 * @module
 */
export * from "./market_days.ts";
export * from "./store.ts";
export * from "./series.ts";
export * from "./totals.ts";
