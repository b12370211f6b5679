/**
 * Instrument resolution: which security a provider's position is, whatever the provider called
 * it. Pure; the sync writer stores what it decides, and any other service can import it.
 *
 * The canonical market-data symbol is Alpaca's, since Alpaca is the market-data provider:
 * equities `BRK.B`, crypto pairs `BTC/USD`, options the compact OCC symbol
 * (`AAPL270115C00250000`). An instrument is identified by (symbol, currency).
 * @module
 */
import type { InstrumentKind, Provider, SECURITY_TYPES } from "@meridian/proto";

/** What resolution reads of a position (the `positions` columns of the same names). */
export interface PositionIdentity {
  provider: Provider;
  symbol: string;
  name: string | null;
  security_type: typeof SECURITY_TYPES[number];
  currency: string;
  option_details: {
    underlying?: unknown;
    strike?: unknown;
    expiration?: unknown;
    option_type?: unknown;
  } | null;
  provider_security_id: string | null;
}

/** The provider-id columns of `instruments`, one per provider. */
export const PROVIDER_ID_COLUMN = {
  snaptrade: "snaptrade_symbol_id",
  plaid: "plaid_security_id",
  alpaca: "alpaca_asset_id",
} as const satisfies Record<Provider, string>;

/** An instrument as resolution describes it, before it has a row. */
export interface InstrumentSpec {
  kind: InstrumentKind;
  /** Market-data symbol (Alpaca's convention). */
  symbol: string;
  currency: string;
  name: string | null;
  /** The standard 21-character OCC symbol, for options. */
  occ_symbol: string | null;
  /** The position's provider id, under its provider's column. */
  provider_id: { column: typeof PROVIDER_ID_COLUMN[Provider]; value: string } | null;
}

/** What resolution decided for one position. */
export type Resolution =
  | { kind: "resolved"; instrument: InstrumentSpec }
  | {
    kind: "unresolved";
    /** Why, for a person: the position keeps its provider's price. */
    reason: string;
    /** A provider id that may still find an instrument another position already named. */
    provider_id: InstrumentSpec["provider_id"];
  };

const KIND_OF: Record<Exclude<PositionIdentity["security_type"], "cash">, InstrumentKind> = {
  equity: "equity",
  etf: "etf",
  mutual_fund: "fund",
  option: "option",
  crypto: "crypto",
  bond: "bond",
  cash_equivalent: "cash_equivalent",
  other: "other",
};

/** Quote currencies a crypto pair written without a separator (`BTCUSD`) may end with. */
const CRYPTO_QUOTES = ["USDT", "USDC", "USD", "EUR", "GBP", "CAD", "BTC"];

/** A ticker: a root, optionally a share class of one or two letters. */
const TICKER = /^([A-Z][A-Z0-9]{0,9})(?:[ ./-]([A-Z]{1,2}))?$/;
/** A CUSIP (Plaid falls back to one when a security has no ticker): 8 characters and a digit. */
const CUSIP = /^[0-9A-Z]{6}[0-9A-Z]{2}[0-9]$/;
/** An OCC option symbol, padded or compact. */
const OCC = /^([A-Z0-9.]{1,6}) *(\d{6})([CP])(\d{8})$/;

/**
 * The equity market-data symbol of a ticker, or null when it is not one. Share classes are
 * written with a dot whichever separator the provider used (`BRK/B`, `BRK-B`, `BRK B` →
 * `BRK.B`).
 */
export function canonicalTicker(symbol: string): string | null {
  const s = symbol.trim().toUpperCase().replace(/\s+/g, " ");
  if (CUSIP.test(s) && /\d/.test(s.slice(0, 3))) return null;
  const m = TICKER.exec(s);
  if (!m) return null;
  return m[2] ? `${m[1]}.${m[2]}` : m[1];
}

/**
 * The crypto pair of a symbol (`BTC`, `BTCUSD`, `BTC-USD`, `BTC/USD` → `BTC/USD`), quoted in
 * `currency` when the symbol names no quote. Null when it is not a crypto symbol.
 */
export function canonicalCryptoPair(symbol: string, currency: string): string | null {
  const s = symbol.trim().toUpperCase();
  const split = /^([A-Z0-9]{2,10})\s*[-/ ]\s*([A-Z]{3,4})$/.exec(s);
  if (split) return `${split[1]}/${split[2]}`;
  if (!/^[A-Z0-9]{2,14}$/.test(s)) return null;
  const quote = CRYPTO_QUOTES.find((q) => s.length > q.length + 1 && s.endsWith(q));
  if (quote) return `${s.slice(0, -quote.length)}/${quote}`;
  return `${s}/${currency}`;
}

/**
 * The OCC symbol of an option, `{padded, compact}`, from the option's own symbol when it is
 * one, else from its contract details; null when neither gives one.
 */
export function occSymbol(
  symbol: string,
  details: PositionIdentity["option_details"],
): { padded: string; compact: string } | null {
  const m = OCC.exec(symbol.trim().toUpperCase());
  if (m) return occ(m[1], m[2], m[3], m[4]);
  if (!details) return null;
  const root = canonicalTicker(String(details.underlying ?? ""));
  const exp = /^\d{2}(\d{2})-(\d{2})-(\d{2})$/.exec(String(details.expiration ?? ""));
  const strike = String(details.strike ?? "");
  if (!root || !exp || !/^\d{1,5}(\.\d{1,3})?$/.test(strike)) return null;
  const [whole, frac = ""] = strike.split(".");
  const type = String(details.option_type).toLowerCase() === "put" ? "P" : "C";
  // OCC roots drop the share-class dot (BRK.B options trade as BRKB).
  return occ(
    root.replace(".", ""),
    exp[1] + exp[2] + exp[3],
    type,
    whole.padStart(5, "0") + frac.padEnd(3, "0"),
  );
}

function occ(root: string, date: string, type: string, strike: string) {
  if (root.length > 6) return null;
  return {
    padded: `${root.padEnd(6, " ")}${date}${type}${strike}`,
    compact: `${root}${date}${type}${strike}`,
  };
}

/** Decides which instrument a position is, or why it has none. */
export function resolveInstrument(p: PositionIdentity): Resolution {
  const provider_id = p.provider_security_id
    ? { column: PROVIDER_ID_COLUMN[p.provider], value: p.provider_security_id }
    : null;
  const unresolved = (reason: string): Resolution => ({ kind: "unresolved", reason, provider_id });
  if (p.security_type === "cash") {
    return { kind: "unresolved", reason: "cash is counted as a balance", provider_id: null };
  }
  const kind = KIND_OF[p.security_type];
  let symbol: string | null;
  let occSym: string | null = null;
  if (kind === "option") {
    const o = occSymbol(p.symbol, p.option_details);
    if (!o) return unresolved("the option's contract does not make an OCC symbol");
    symbol = o.compact;
    occSym = o.padded;
  } else if (kind === "crypto") {
    symbol = canonicalCryptoPair(p.symbol, p.currency);
    if (!symbol) return unresolved(`"${p.symbol}" is not a crypto pair`);
  } else {
    symbol = canonicalTicker(p.symbol);
    if (!symbol) return unresolved(`the provider gives no ticker ("${p.symbol}")`);
  }
  return {
    kind: "resolved",
    instrument: {
      kind,
      symbol,
      currency: p.currency,
      name: p.name,
      occ_symbol: occSym,
      provider_id,
    },
  };
}
