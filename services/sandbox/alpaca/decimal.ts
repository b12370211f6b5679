/**
 * The exact decimals the Alpaca broker keeps money and quantities in, so cash, cost basis and
 * fills never pass through a float.
 * @module
 */

import { Decimal } from "decimal.js";

/** The broker's decimal constructor, with enough digits that averaging cost never loses a cent. */
export const D = Decimal.clone({ precision: 60, toExpNeg: -40, toExpPos: 40 });
/** The exact decimal type the broker computes with. */
export type Dec = InstanceType<typeof D>;

/** Parses a decimal string (throws on garbage). */
export function decimal(v: string): Dec {
  const d = new D(v.trim());
  if (!d.isFinite()) throw new Error(`not a number: ${v}`);
  return d;
}

/** A price from the price book (a plain `Decimal`) at the broker's precision. */
export function exact(v: Decimal): Dec {
  return new D(v.toString());
}

/** The exact decimal string of `v`, or `null` for an unset field. */
export function decimalOrNull(v: Dec | null): string | null {
  return v === null ? null : v.toFixed();
}
