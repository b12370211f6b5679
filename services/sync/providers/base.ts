/**
 * What every provider implementation shares: its configuration, its view for flows a person
 * waits on, and the call wrapper bound to its key, its auth check and those bounded waits.
 * @module
 */
import type { Provider } from "@meridian/proto";
import { type CallRecorder, type ErrorFacts, providerCall } from "./call.ts";
import { interactiveView, type ProviderConfig } from "./config.ts";
import type { RateLimiter } from "./rate_limit.ts";

/** The base of the implementations in `providers/<name>/mod.ts`. */
export abstract class ProviderBase {
  abstract readonly key: Provider;
  /** Bound on waits for the shared budget; set only on {@link interactive} views. */
  readonly maxWaitMs?: number;
  constructor(readonly config: ProviderConfig) {}

  /** This provider for a flow a person waits on (see `interactiveView`). */
  interactive(): this {
    return interactiveView(this);
  }

  /** Synced on every server, unless a provider's feature flag says otherwise. */
  syncDisabled(_config: ProviderConfig): string | null {
    return null;
  }

  /** Whether a failure means the person must reconnect (credentials expired or revoked). */
  protected abstract isAuthFailure(f: ErrorFacts): boolean;

  /**
   * Runs one SDK call through the shared wrapper, within `limiter`'s budget. `maxAttempts` 1
   * for a call that must never be sent twice (placing an order), even after a 429.
   */
  protected limitedCall<T>(
    limiter: RateLimiter,
    operation: string,
    fn: () => Promise<T>,
    recorder?: CallRecorder,
    maxAttempts?: number,
  ): Promise<T> {
    return providerCall(
      {
        provider: this.key,
        limiter,
        authFailure: (f) => this.isAuthFailure(f),
        recorder,
        maxWaitMs: this.maxWaitMs,
        maxAttempts,
      },
      operation,
      fn,
    );
  }
}
