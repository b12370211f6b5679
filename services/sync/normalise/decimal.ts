/**
 * Exact decimal maths on decimal strings, the form every amount, price and quantity of the
 * normalised model takes: no float ever touches a stored number. Sums and products use the
 * portfolio's exact constructor (`Exact`, 1,000 significant digits): decimal.js's default of
 * 20 would round e.g. `0.123456789 × 97123.45678901`.
 * @module
 */
import { Decimal } from "decimal.js";
import { Exact } from "@meridian/portfolio";
import { NormaliseError } from "./model.ts";

/**
 * An exact decimal string from a provider value. A JSON number is converted from its
 * shortest round-trip representation (what `String(n)` gives), so `0.1` stays `"0.1"` and
 * never becomes `0.1000000000000000055…`; exponent forms are expanded.
 */
export function toDecimalString(value: unknown): string {
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new NormaliseError(`not a finite number: ${value}`);
    return plain(new Decimal(String(value)));
  }
  if (typeof value === "string" && value.trim() !== "") {
    try {
      const d = new Decimal(value.trim());
      if (!d.isFinite()) throw new Error();
      return plain(d);
    } catch {
      throw new NormaliseError(`not a decimal: ${JSON.stringify(value).slice(0, 40)}`);
    }
  }
  throw new NormaliseError(`expected a number, got ${value === null ? "null" : typeof value}`);
}

/** {@link toDecimalString}, or null for null/undefined/empty. */
export function toDecimalStringOrNull(value: unknown): string | null {
  if (value === null || value === undefined || value === "") return null;
  return toDecimalString(value);
}

function plain(d: Decimal): string {
  const s = d.toFixed();
  return s === "-0" ? "0" : s;
}

/** `a × b` exactly, both decimal strings. */
export function mul(a: string, b: string): string {
  return plain(new Exact(a).times(b));
}

/** `a ÷ b` to decimal.js's 20 significant digits, both decimal strings. */
export function div(a: string, b: string): string {
  return plain(new Decimal(a).dividedBy(b));
}

/** `-a` exactly. */
export function neg(a: string): string {
  return plain(new Exact(a).negated());
}

/** `|a|` exactly. */
export function abs(a: string): string {
  return plain(new Exact(a).abs());
}

/** `a + b` exactly. */
export function add(a: string, b: string): string {
  return plain(new Exact(a).plus(b));
}

/** Whether `a > 0`. */
export function isPositive(a: string): boolean {
  return new Decimal(a).gt(0);
}
