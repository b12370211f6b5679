/**
 * Alpaca's error answers: an HTTP status with a `{code, message}` body that the SDK turns into
 * its own errors.
 * @module
 */

/** An error answered as `{code, message, ...extra}` with an HTTP status. */
export class AlpacaError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
  /** The wire body. */
  body(): Record<string, unknown> {
    return { code: this.code, message: this.message, ...this.extra };
  }
}

/** The 422 `40010001` Alpaca answers a request that breaks one of its validation rules with. */
export function invalid(message: string): AlpacaError {
  return new AlpacaError(422, 40010001, message);
}
