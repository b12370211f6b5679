/**
 * How a connection flow fails: not found (another user's id looks the same), or a reason the
 * person can act on with the HTTP status the api answers.
 * @module
 */
import { ProviderError } from "../providers/call.ts";

/** The connection does not exist for this user (answer 404). */
export class NotFoundError extends Error {
  override name = "NotFoundError";
  readonly status = 404;
  constructor(what = "connection") {
    super(`${what} not found`);
  }
}

/** A flow failed for a reason the user can act on; `status` is the HTTP status to answer. */
export class ConnectionFlowError extends Error {
  override name = "ConnectionFlowError";
  constructor(message: string, readonly status: 400 | 404 | 409 | 422 | 502 = 400) {
    super(message);
  }
}

/** Turns a provider's refusal into a {@link ConnectionFlowError} that says `what` failed. */
export function providerFailure(e: unknown, what: string): never {
  if (e instanceof ProviderError) {
    // A 4xx that is not about our credentials or our rate is the provider refusing what the
    // person gave us (an expired or reused token, an unknown id): their input, not an outage.
    const refusedInput = e.status !== null && e.status >= 400 && e.status < 500 &&
      e.status !== 429 && !e.auth;
    throw new ConnectionFlowError(
      `${what}: ${e.detail || "the provider refused"}`,
      refusedInput ? 400 : 502,
    );
  }
  throw e;
}
