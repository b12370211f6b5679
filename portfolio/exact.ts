/**
 * Exact decimal arithmetic for every amount the portfolio computes. decimal.js rounds every
 * operation to its constructor's precision, 20 significant digits by default, so
 * `0.123456789 × 97123.45678901` would silently lose digits; `Exact` keeps 1,000, far more
 * than any product or sum of stored quantities, prices and amounts has, so nothing is rounded
 * until display. Every computation in portfolio starts from an `Exact` (an operation takes
 * the precision of the constructor of its left operand). FX conversion (`fx_cross.ts`) is the
 * one documented exception: a cross rate has no finite decimal form.
 *
 * Pure and browser-safe: imports nothing but decimal.js.
 * @module
 */
import { Decimal } from "decimal.js";

/** The portfolio's decimal constructor: 1,000 significant digits, so sums and products are exact. */
export const Exact = Decimal.clone({ precision: 1_000, rounding: Decimal.ROUND_HALF_UP });
/** An exact decimal (an instance of {@link Exact}). */
export type Exact = Decimal;

/** Canonical decimal string: no exponent, no trailing zeros, "-0" as "0". */
export function decimalString(d: Decimal): string {
  if (d.isZero()) return "0";
  return d.toFixed();
}

/** A decimal string (or any decimal.js value) in canonical form. */
export function canonical(value: Decimal.Value): string {
  return decimalString(new Exact(value));
}

/**
 * change ÷ base × 100 rounded half-up (away from zero) to 2 places ("1.25", "-0.40",
 * "0.00"); null on a zero base. Exact: integer division and its remainder decide the
 * rounding, so no intermediate quotient is ever rounded.
 */
export function percentOf(change: Decimal, base: Decimal): string | null {
  if (base.isZero()) return null;
  const x = new Exact(change).abs().times(10_000);
  const y = new Exact(base).abs();
  let q = x.divToInt(y);
  if (x.minus(q.times(y)).times(2).gte(y)) q = q.plus(1);
  if (q.isZero()) return "0.00";
  const negative = change.isNegative() !== base.isNegative() && !change.isZero();
  return (negative ? "-" : "") + q.div(100).toFixed(2);
}
