/**
 * Alpaca sends prices and sizes as JSON or msgpack numbers; they become exact decimal strings.
 * @module
 */
import { Decimal } from "decimal.js";

/**
 * `v` (a number, a numeric string or a bigint) as a plain decimal string, never in exponent
 * notation; throws on anything else.
 */
export function decimalString(v: unknown): string {
  if (typeof v === "bigint") return v.toString();
  if (typeof v === "number" && Number.isFinite(v)) {
    // A number's shortest round-trip text is what decimal.js would read it as; only exponent
    // notation (below 1e-6, from 1e21) needs the slow path. This runs for every trade.
    const text = String(v);
    return text.includes("e") ? new Decimal(v).toFixed() : text;
  }
  if (typeof v === "string") return new Decimal(v).toFixed();
  throw new TypeError(`not a number: ${typeof v}`);
}
