/**
 * Provider adapters behind one interface, and the call wrapper they share.
 * @module
 */
import type { Provider } from "@meridian/proto";
import { AlpacaAdapter } from "./alpaca.ts";
import type { ProviderConfig } from "./config.ts";
import { PlaidAdapter } from "./plaid.ts";
import { SnaptradeAdapter } from "./snaptrade.ts";
import type { ProviderAdapter } from "./types.ts";

export * from "./call.ts";
export * from "./config.ts";
export * from "./rate_limit.ts";
export * from "./types.ts";
export { AlpacaAdapter, PlaidAdapter, SnaptradeAdapter };

/** One adapter per provider. */
export interface Adapters {
  snaptrade: SnaptradeAdapter;
  plaid: PlaidAdapter;
  alpaca: AlpacaAdapter;
}

/** Builds the three adapters for a configuration. */
export function createAdapters(config: ProviderConfig): Adapters {
  return {
    snaptrade: new SnaptradeAdapter(config),
    plaid: new PlaidAdapter(config),
    alpaca: new AlpacaAdapter(config),
  };
}

/** The adapter of `provider`. */
export function adapterFor(adapters: Adapters, provider: Provider): ProviderAdapter {
  return adapters[provider];
}
