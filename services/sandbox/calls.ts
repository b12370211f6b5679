/**
 * Counts every provider call the sandbox receives, by provider and route, so tests can prove
 * how many provider calls a flow made.
 * @module
 */

/** Providers the sandbox imitates. */
export type SandboxProvider = "snaptrade" | "plaid" | "alpaca";

/** The counts returned by `GET /_admin/calls`. */
export interface CallCounts {
  total: number;
  by_provider: Record<SandboxProvider, number>;
  /** Keyed `"<provider> <METHOD> <route pattern>"`, e.g. `"plaid POST /investments/holdings/get"`. */
  by_route: Record<string, number>;
}

/** A running tally of provider calls. */
export class CallLog {
  #byRoute = new Map<string, number>();
  #byProvider: Record<SandboxProvider, number> = { snaptrade: 0, plaid: 0, alpaca: 0 };

  /** Records one call. `route` is the pattern, not the concrete path. */
  record(provider: SandboxProvider, method: string, route: string): void {
    const key = `${provider} ${method.toUpperCase()} ${route}`;
    this.#byRoute.set(key, (this.#byRoute.get(key) ?? 0) + 1);
    this.#byProvider[provider]++;
  }

  /** A snapshot of the counts. */
  counts(): CallCounts {
    const p = this.#byProvider;
    return {
      total: p.snaptrade + p.plaid + p.alpaca,
      by_provider: { ...p },
      by_route: Object.fromEntries(this.#byRoute),
    };
  }

  /** Forgets every count. */
  reset(): void {
    this.#byRoute.clear();
    this.#byProvider = { snaptrade: 0, plaid: 0, alpaca: 0 };
  }
}
