/**
 * The providers: one interface (`types.ts`), one implementation per provider in its folder,
 * the registry that routes by key, and the call wrapper and limits they share.
 * @module
 */
export * from "./call.ts";
export * from "./config.ts";
export * from "./rate_limit.ts";
export * from "./registry.ts";
export * from "./types.ts";
export { AlpacaProvider } from "./alpaca/mod.ts";
export { PlaidProvider } from "./plaid/mod.ts";
export { SnaptradeProvider } from "./snaptrade/mod.ts";
