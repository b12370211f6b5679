/**
 * Exact fixed-point decimals as big integers, for the one path hot enough to need them:
 * revaluing every holding a tick touches, for every portfolio, every second. Quantities are
 * held in units of 10^-18 (a wei), prices in 10^-12, so a value (quantity × price) is exact in
 * 10^-30 and every sum of values is a plain integer addition. decimal.js (used everywhere else)
 * is exact too, but allocates and normalises on every operation: at 10,000 portfolios a second
 * it alone would need more than one core.
 *
 * A number with more decimals than its scale cannot be held exactly: parsing it gives null,
 * and the caller must not value with it (never rounds).
 * @module
 */

/** Decimals of a quantity (a position's quantity × its contract multiplier). */
export const UNITS_SCALE = 18;
/** Decimals of a price. */
export const PRICE_SCALE = 12;
/** Decimals of an amount: a value, a cost, a cash balance, and every sum of them. */
export const AMOUNT_SCALE = UNITS_SCALE + PRICE_SCALE;

const POW10: bigint[] = [1n];
function pow10(k: number): bigint {
  while (POW10.length <= k) POW10.push(POW10[POW10.length - 1] * 10n);
  return POW10[k];
}

const DECIMAL = /^(-?)(\d+)(?:\.(\d+))?$/;

/**
 * A decimal string as an integer count of `10^-scale`, or null when it is not a decimal or
 * has more than `scale` decimals.
 */
export function parseScaled(text: string, scale: number): bigint | null {
  const m = DECIMAL.exec(text);
  if (!m) return null;
  const frac = m[3] ?? "";
  if (frac.length > scale) {
    // Trailing zeros past the scale are harmless ("1.50000000000000000000").
    if (!/^0*$/.test(frac.slice(scale))) return null;
  }
  const digits = m[2] + frac.slice(0, scale).padEnd(scale, "0");
  const n = BigInt(digits);
  return m[1] ? -n : n;
}

/** The canonical text of `n × 10^-scale`: no exponent, no trailing zeros, zero as `"0"`. */
export function scaledText(n: bigint, scale: number): string {
  if (n === 0n) return "0";
  const negative = n < 0n;
  let digits = (negative ? -n : n).toString().padStart(scale + 1, "0");
  let s = scale;
  let end = digits.length;
  while (s > 0 && digits.charCodeAt(end - 1) === 48) {
    end--;
    s--;
  }
  digits = digits.slice(0, end);
  if (s > 0) digits = digits.slice(0, digits.length - s) + "." + digits.slice(digits.length - s);
  return negative ? "-" + digits : digits;
}

/** `10^k`, cached. */
export { pow10 };
