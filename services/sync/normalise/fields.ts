/**
 * The field helpers the provider normalisers share: each turns one provider field (a currency
 * code, an account number, a date, an option symbol…) into its form in the model.
 * @module
 */
import { div, isPositive, toDecimalStringOrNull } from "./decimal.ts";
import type { AccountType, OptionDetails, SecurityType } from "./model.ts";

/** An ISO-4217 code in upper case, or `fallback` when the provider gave none usable. */
export function currency(code: unknown, fallback = "USD"): string {
  if (typeof code === "string" && /^[A-Za-z]{3}$/.test(code.trim())) {
    return code.trim().toUpperCase();
  }
  return fallback;
}

/** The last four characters of an account number, or null. */
export function mask(number: unknown): string | null {
  if (typeof number !== "string" || number.trim() === "") return null;
  const s = number.trim();
  return s.length <= 4 ? s : s.slice(-4);
}

/** A YYYY-MM-DD date from an ISO date or datetime string. */
export function isoDate(value: unknown): string | null {
  // SDK models may hand dates over as Date objects (Alpaca's do).
  if (value instanceof Date) {
    return Number.isNaN(value.getTime()) ? null : value.toISOString().slice(0, 10);
  }
  if (typeof value !== "string" || value.length < 10) return null;
  const d = value.slice(0, 10);
  return /^\d{4}-\d{2}-\d{2}$/.test(d) ? d : null;
}

const RETIREMENT =
  /\b(ira|roth|401\s?k|403\s?b|457|sep|simple|rrsp|rrif|tfsa|lira|lif|resp|rdsp|fhsa|hsa|pension|retirement|keogh|529)\b/i;

/** Classifies an account from whatever type words the provider gives. */
export function accountType(...words: (string | null | undefined)[]): AccountType {
  const text = words.filter((w): w is string => typeof w === "string").join(" ");
  if (RETIREMENT.test(text)) return "retirement";
  if (/crypto/i.test(text)) return "crypto";
  if (/\b(depository|checking|savings|cash management)\b/i.test(text)) return "cash";
  if (
    /\b(brokerage|investment|margin|cash|individual|joint|trading|non-registered)\b/i.test(text)
  ) {
    return "brokerage";
  }
  return text.trim() === "" ? "brokerage" : "other";
}

/**
 * Parses an OCC option symbol (`AAPL  240119C00150000`, spaces optional) into contract
 * details; null when it is not one.
 */
export function parseOcc(symbol: string, multiplier = "100"): OptionDetails | null {
  const m = /^([A-Z0-9.]{1,6})\s*(\d{2})(\d{2})(\d{2})([CP])(\d{8})$/.exec(symbol.trim());
  if (!m) return null;
  const [, root, yy, mm, dd, cp, strike] = m;
  return {
    underlying: root,
    expiration: `20${yy}-${mm}-${dd}`,
    option_type: cp === "C" ? "call" : "put",
    strike: div(strike, "1000"),
    multiplier,
  };
}

/** A symbol clipped to the 64 characters the schema allows. */
export function clipSymbol(symbol: string): string {
  const s = symbol.trim();
  return s.length > 64 ? s.slice(0, 64) : s;
}

/**
 * A provider's previous close for a position of type `type`: null for cash and cash
 * equivalents (their day change says nothing), and for missing or non-positive values (a
 * provider's "0" means it has no close, e.g. a first trading day).
 */
export function previousClose(value: unknown, type: SecurityType): string | null {
  if (type === "cash" || type === "cash_equivalent") return null;
  const d = toDecimalStringOrNull(value);
  return d === null || !isPositive(d) ? null : d;
}
