/**
 * Cross rates through EUR and conversion with them, from the ECB's reference rates (units of
 * each currency per 1 EUR). Apart from the feed parser (`fx.ts`) so the dashboard can bundle
 * it: pure, imports nothing but decimal.js.
 *
 * The one rounded computation of the portfolio: a cross rate (`t ÷ f`) has no finite decimal
 * form in general, so cross rates and converted amounts are computed to 20 significant digits,
 * half to even. Everything else uses the exact decimals of `exact.ts`.
 * @module
 */
import { Decimal } from "decimal.js";

/** Cross rates are computed to 20 significant digits. */
const Fx = Decimal.clone({ precision: 20, rounding: Decimal.ROUND_HALF_EVEN });

const SIGNED_DECIMAL = /^-?[0-9]+(\.[0-9]+)?$/;

function perEur(rates: ReadonlyMap<string, string>, currency: string): Decimal | null {
  if (currency === "EUR") return new Fx(1);
  const rate = rates.get(currency);
  return rate === undefined ? null : new Fx(rate);
}

/**
 * Units of `to` per 1 unit of `from`, through EUR (`rates`: units per 1 EUR), to 20
 * significant digits; `null` when either currency has no rate.
 */
export function crossRate(
  rates: ReadonlyMap<string, string>,
  from: string,
  to: string,
): Decimal | null {
  const f = perEur(rates, from);
  const t = perEur(rates, to);
  if (!f || !t) return null;
  if (from === to) return new Fx(1);
  if (from === "EUR") return t;
  return t.div(f);
}

/**
 * `amount` of `from` in `to`, as a decimal string (20 significant digits, not rounded for
 * display); `null` when either currency has no rate. Throws for an amount that is no decimal.
 */
export function convert(
  amount: string,
  from: string,
  to: string,
  rates: ReadonlyMap<string, string>,
): string | null {
  if (!SIGNED_DECIMAL.test(amount)) throw new Error(`not a decimal amount: ${amount}`);
  const f = perEur(rates, from);
  const t = perEur(rates, to);
  if (!f || !t) return null;
  if (from === to) return new Fx(amount).toFixed();
  // One multiplication and one division: fewer roundings than amount × crossRate.
  return new Fx(amount).times(t).div(f).toFixed();
}
