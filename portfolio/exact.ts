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
 * "0.00"); null on a zero base. Exact: both are brought to integers at a common scale and
 * {@link percentOfIntegers} decides.
 */
export function percentOf(change: Decimal, base: Decimal): string | null {
  const places = Math.max(change.decimalPlaces(), base.decimalPlaces());
  const scale = new Exact(10).pow(places);
  return percentOfIntegers(
    BigInt(new Exact(change).times(scale).toFixed()),
    BigInt(new Exact(base).times(scale).toFixed()),
  );
}

/**
 * {@link percentOf} of two amounts counted in the same unit (any fixed-point scale): integer
 * division and its remainder decide the rounding, so no intermediate quotient is rounded.
 */
export function percentOfIntegers(change: bigint, base: bigint): string | null {
  if (base === 0n) return null;
  const x = (change < 0n ? -change : change) * 10_000n;
  const y = base < 0n ? -base : base;
  let q = x / y;
  if ((x - q * y) * 2n >= y) q++;
  if (q === 0n) return "0.00";
  const negative = (change < 0n) !== (base < 0n) && change !== 0n;
  const digits = q.toString().padStart(3, "0");
  return `${negative ? "-" : ""}${digits.slice(0, -2)}.${digits.slice(-2)}`;
}
