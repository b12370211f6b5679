/**
 * How a broker call ends when it does not succeed: a refusal (a 4xx: nothing happened) or,
 * for a call that changes something at the broker, an ambiguous outcome (no answer in time,
 * a lost connection, a 5xx: it may have happened).
 * @module
 */
import { ProviderError } from "../providers/call.ts";
import { AmbiguousOutcome, BrokerRefusal } from "./types.ts";

/** The broker said no, for certain (a 4xx other than 408 and 429). */
function definiteRefusal(e: unknown): BrokerRefusal | null {
  if (!(e instanceof ProviderError) || e.status === null) return null;
  if (e.status < 400 || e.status >= 500 || e.status === 408 || e.status === 429) return null;
  return new BrokerRefusal(e.detail || `the broker refused (${e.status})`, e.status);
}

/**
 * Runs a call that changes something at the broker (placing, cancelling): a refusal becomes a
 * {@link BrokerRefusal}; any other failure an {@link AmbiguousOutcome}. The call itself is
 * never repeated here; the caller bounds how long it waits.
 */
export async function changingCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof AmbiguousOutcome || e instanceof BrokerRefusal) throw e;
    throw definiteRefusal(e) ??
      new AmbiguousOutcome(e instanceof ProviderError ? e.message : "the request failed");
  }
}

/** Runs a call that only reads (a preview, a status): a definite refusal becomes a {@link BrokerRefusal}. */
export async function readingCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw definiteRefusal(e) ?? e;
  }
}
