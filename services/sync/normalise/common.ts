/**
 * The one model every provider's data is normalised into, plus the exact-decimal helpers the
 * normalisers share. Pure: no I/O.
 *
 * Sign convention for transaction `amount`: positive means cash came into the account
 * (sell, dividend, deposit), negative means cash left it (buy, fee, withdrawal).
 * `cost_basis` of a position is the total cost of the whole position, not per unit.
 * @module
 */
import { Decimal } from "decimal.js";
import type { SECURITY_TYPES, TRANSACTION_TYPES } from "@meridian/proto";

/** One of the security types Meridian distinguishes. */
export type SecurityType = typeof SECURITY_TYPES[number];

/** One of the transaction types Meridian distinguishes (`TRANSACTION_TYPES` in proto). */
export type TransactionType = typeof TRANSACTION_TYPES[number];

/** Account types (the `accounts.type` check constraint). */
export type AccountType = "brokerage" | "retirement" | "crypto" | "cash" | "other";
/** Account statuses (the `accounts.status` check constraint). */
export type AccountStatus = "open" | "closed" | "archived" | "unavailable";

/** Contract details of an option position (`positions.option_details`). */
export interface OptionDetails {
  underlying: string;
  strike: string;
  /** YYYY-MM-DD */
  expiration: string;
  option_type: "call" | "put";
  multiplier: string;
}

/** A security as Meridian models it, whatever the provider called it. */
export interface Security {
  symbol: string;
  name: string | null;
  type: SecurityType;
  currency: string;
  option_details: OptionDetails | null;
  /** The provider's own id of the security, when it has one. */
  provider_security_id: string | null;
}

/** A normalised account. */
export interface NormAccount {
  external_id: string;
  name: string;
  number_mask: string | null;
  type: AccountType;
  currency: string;
  status: AccountStatus;
  can_trade: boolean;
}

/** A normalised position. Decimals are exact strings. */
export interface NormPosition {
  account_external_id: string;
  symbol: string;
  name: string | null;
  security_type: SecurityType;
  quantity: string;
  price: string | null;
  /**
   * The previous trading session's close, paired with `price` for the day change; null when
   * the provider gives none (SnapTrade), and always for cash and cash equivalents.
   */
  previous_close: string | null;
  cost_basis: string | null;
  currency: string;
  option_details: OptionDetails | null;
  provider_security_id: string | null;
}

/** A normalised cash balance of one account in one currency. */
export interface NormBalance {
  account_external_id: string;
  currency: string;
  cash: string;
  buying_power: string | null;
}

/** A normalised transaction. */
export interface NormTransaction {
  account_external_id: string;
  external_id: string;
  type: TransactionType;
  symbol: string | null;
  description: string | null;
  quantity: string | null;
  price: string | null;
  amount: string;
  fee: string | null;
  currency: string;
  /** YYYY-MM-DD */
  trade_date: string;
  settlement_date: string | null;
}

/** Everything one connection holds, ready to replace its rows. */
export interface Snapshot {
  accounts: NormAccount[];
  positions: NormPosition[];
  balances: NormBalance[];
  /** null = not fetched this time: the stored transactions stay as they are. */
  transactions: NormTransaction[] | null;
}

/** Raised when provider data cannot be normalised (a bad number, a missing field). */
export class NormaliseError extends Error {
  override name = "NormaliseError";
}

/**
 * An exact decimal string from a provider value. A JSON number is converted from its
 * shortest round-trip representation (what `String(n)` gives), so `0.1` stays `"0.1"` and
 * never becomes `0.1000000000000000055…`; exponent forms are expanded.
 */
export function dec(value: unknown): string {
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

/** {@link dec}, or null for null/undefined/empty. */
export function decOrNull(value: unknown): string | null {
  if (value === null || value === undefined || value === "") return null;
  return dec(value);
}

function plain(d: Decimal): string {
  const s = d.toFixed();
  return s === "-0" ? "0" : s;
}

/** `a × b` exactly, both decimal strings. */
export function mul(a: string, b: string): string {
  return plain(new Decimal(a).times(b));
}

/** `-a` exactly. */
export function neg(a: string): string {
  return plain(new Decimal(a).negated());
}

/** `|a|` exactly. */
export function abs(a: string): string {
  return plain(new Decimal(a).abs());
}

/** `a + b` exactly. */
export function add(a: string, b: string): string {
  return plain(new Decimal(a).plus(b));
}

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
    strike: plain(new Decimal(strike).dividedBy(1000)),
    multiplier,
  };
}

/** A symbol clipped to the 64 characters the schema allows. */
export function clipSymbol(symbol: string): string {
  const s = symbol.trim();
  return s.length > 64 ? s.slice(0, 64) : s;
}

/** A JSON object from untrusted provider data (an empty one when it is not an object). */
export function obj(value: unknown): Record<string, unknown> {
  return value && typeof value === "object" && !Array.isArray(value)
    ? value as Record<string, unknown>
    : {};
}

/** An array from untrusted provider data (empty when it is not one). */
export function arr(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/**
 * A provider's previous close for a position of type `type`: null for cash and cash
 * equivalents (their day change says nothing), and for missing or non-positive values (a
 * provider's "0" means it has no close, e.g. a first trading day).
 */
export function previousClose(value: unknown, type: SecurityType): string | null {
  if (type === "cash" || type === "cash_equivalent") return null;
  const d = decOrNull(value);
  return d === null || !new Decimal(d).gt(0) ? null : d;
}

/** A non-empty trimmed string, or null. */
export function str(value: unknown): string | null {
  if (typeof value === "number") return String(value);
  return typeof value === "string" && value.trim() !== "" ? value.trim() : null;
}
