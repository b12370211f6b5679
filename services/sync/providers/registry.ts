/**
 * The provider registry: one implementation per provider key, built for one configuration and
 * routed by the key, as Ghostfolio's `DataProviderService` routes to its data providers.
 * Callers hold a connection's key and ask {@link ProviderRegistry.providerFor}; only the
 * provider folders know what is behind it.
 * @module
 */
import { type Provider, PROVIDERS } from "@meridian/proto";
import { AlpacaProvider } from "./alpaca/mod.ts";
import type { ProviderConfig } from "./config.ts";
import { PlaidProvider } from "./plaid/mod.ts";
import { SnaptradeProvider } from "./snaptrade/mod.ts";
import type { BrokerageProvider } from "./types.ts";

/** A provider key Meridian does not know. */
export class UnknownProviderError extends Error {
  override name = "UnknownProviderError";
  constructor(readonly key: string) {
    super(`unknown provider ${JSON.stringify(key.slice(0, 40))}`);
  }
}

/** The implementation of each provider. */
export interface Implementations {
  snaptrade: SnaptradeProvider;
  plaid: PlaidProvider;
  alpaca: AlpacaProvider;
}

function isProvider(key: string): key is Provider {
  return (PROVIDERS as readonly string[]).includes(key);
}

/**
 * Every provider, by key. Each is also a typed field, for the flows whose routes are a
 * provider's own (the SnapTrade portal, Plaid Link, Alpaca keys).
 */
export class ProviderRegistry implements Record<Provider, BrokerageProvider> {
  readonly snaptrade: SnaptradeProvider;
  readonly plaid: PlaidProvider;
  readonly alpaca: AlpacaProvider;

  /** The implementations for `config`; `replace` swaps some (tests). */
  constructor(config: ProviderConfig, replace: Partial<Implementations> = {}) {
    this.snaptrade = replace.snaptrade ?? new SnaptradeProvider(config);
    this.plaid = replace.plaid ?? new PlaidProvider(config);
    this.alpaca = replace.alpaca ?? new AlpacaProvider(config);
  }

  /** The provider of `key`; a key Meridian does not know is refused. */
  providerFor(key: string): BrokerageProvider {
    if (!isProvider(key)) throw new UnknownProviderError(key);
    return this[key];
  }

  /** Every provider, in the contract's order (`PROVIDERS`). */
  all(): BrokerageProvider[] {
    return PROVIDERS.map((key) => this[key]);
  }
}
