/**
 * SnapTrade → Meridian: universal symbols, positions (legacy and v2 instrument shapes),
 * option positions, balances, accounts and activities. Pure.
 * @module
 */
import { abs, mul, toDecimalString, toDecimalStringOrNull } from "../../normalise/decimal.ts";
import { accountType, clipSymbol, currency, isoDate, mask } from "../../normalise/fields.ts";
import { arr, obj, str } from "../../normalise/json.ts";
import {
  type NormAccount,
  NormaliseError,
  type NormBalance,
  type NormPosition,
  type NormTransaction,
  type OptionDetails,
  type Security,
  type SecurityType,
  type TransactionType,
} from "../../normalise/model.ts";

const TYPE_CODES: Record<string, SecurityType> = {
  cs: "equity",
  ad: "equity",
  adr: "equity",
  ps: "equity",
  pfd: "equity",
  stock: "equity",
  et: "etf",
  etf: "etf",
  etn: "etf",
  oef: "mutual_fund",
  mf: "mutual_fund",
  mutualfund: "mutual_fund",
  cef: "mutual_fund",
  bnd: "bond",
  bond: "bond",
  crypto: "crypto",
  option: "option",
  cash: "cash",
};

/** The security type of a SnapTrade universal-symbol type code (`cs`, `et`, `oef`, …). */
export function snaptradeSecurityType(code: unknown, cashEquivalent = false): SecurityType {
  if (cashEquivalent) return "cash_equivalent";
  const c = typeof code === "string" ? code.trim().toLowerCase() : "";
  return TYPE_CODES[c] ?? "other";
}

/** A SnapTrade `UniversalSymbol` as a Meridian security. */
export function snaptradeUniversalSymbol(raw: unknown, cashEquivalent = false): Security {
  const u = obj(raw);
  const symbol = str(u.symbol) ?? str(u.raw_symbol);
  if (!symbol) throw new NormaliseError("SnapTrade symbol without a ticker");
  const cur = obj(u.currency);
  return {
    symbol: clipSymbol(symbol),
    name: str(u.description),
    type: snaptradeSecurityType(obj(u.type).code, cashEquivalent),
    currency: currency(cur.code ?? u.currency),
    option_details: null,
    provider_security_id: str(u.id),
  };
}

/** A v2 `Instrument` (`kind` discriminated) as a Meridian security. */
export function snaptradeInstrument(raw: unknown, cashEquivalent = false): Security {
  const i = obj(raw);
  const kind = str(i.kind) ?? "other";
  const symbol = str(i.symbol) ?? str(i.raw_symbol);
  if (!symbol) throw new NormaliseError("SnapTrade instrument without a symbol");
  let option: OptionDetails | null = null;
  if (kind === "option") {
    const u = obj(i.underlying);
    option = {
      underlying: str(u.symbol) ?? symbol,
      strike: toDecimalString(i.strike_price),
      expiration: isoDate(i.expiration_date) ?? "",
      option_type: String(i.option_type).toUpperCase() === "PUT" ? "put" : "call",
      multiplier: toDecimalStringOrNull(i.multiplier) ?? "100",
    };
    if (!option.expiration) throw new NormaliseError("SnapTrade option without an expiration");
  }
  return {
    symbol: clipSymbol(symbol),
    name: str(i.description),
    type: option ? "option" : snaptradeSecurityType(kind, cashEquivalent),
    currency: currency(i.currency),
    option_details: option,
    provider_security_id: str(i.id),
  };
}

/** A SnapTrade option symbol (`OptionsSymbol`) as a Meridian security. */
export function snaptradeOptionSymbol(raw: unknown): Security {
  const o = obj(raw);
  const ticker = str(o.ticker);
  if (!ticker) throw new NormaliseError("SnapTrade option without a ticker");
  const underlying = obj(o.underlying_symbol);
  const expiration = isoDate(o.expiration_date);
  if (!expiration) throw new NormaliseError("SnapTrade option without an expiration");
  return {
    symbol: clipSymbol(ticker),
    name: str(o.description) ?? null,
    type: "option",
    currency: currency(obj(underlying.currency).code),
    option_details: {
      underlying: str(underlying.symbol) ?? ticker,
      strike: toDecimalString(o.strike_price),
      expiration,
      option_type: String(o.option_type).toUpperCase() === "PUT" ? "put" : "call",
      multiplier: o.is_mini_option === true ? "10" : "100",
    },
    provider_security_id: str(o.id),
  };
}

function position(
  accountId: string,
  sec: Security,
  p: Record<string, unknown>,
  costPerUnit: unknown,
  curFallback: unknown,
): NormPosition {
  const quantity = toDecimalString(p.units ?? p.fractional_units);
  const per = toDecimalStringOrNull(costPerUnit);
  return {
    account_external_id: accountId,
    symbol: sec.symbol,
    name: sec.name,
    security_type: sec.type,
    quantity,
    price: p.price === null || p.price === undefined ? null : abs(toDecimalString(p.price)),
    // SnapTrade positions carry no previous close.
    previous_close: null,
    cost_basis: per === null ? null : mul(per, quantity),
    currency: currency(curFallback, sec.currency),
    option_details: sec.option_details,
    provider_security_id: sec.provider_security_id,
  };
}

/**
 * One SnapTrade position: the legacy `Position` (`symbol.symbol` is a UniversalSymbol), the
 * v2 `AccountPosition` (`instrument`), or an `OptionsPosition` (`symbol.option_symbol`).
 */
export function snaptradePosition(accountId: string, raw: unknown): NormPosition {
  const p = obj(raw);
  const cashEq = p.cash_equivalent === true;
  if (p.instrument) {
    const sec = snaptradeInstrument(p.instrument, cashEq);
    // v2: `cost_basis` is the book cost of the whole position, already multiplied out.
    const pos = position(accountId, sec, p, null, p.currency);
    return { ...pos, cost_basis: toDecimalStringOrNull(p.cost_basis) };
  }
  const sym = obj(p.symbol);
  if (sym.option_symbol) {
    const sec = snaptradeOptionSymbol(sym.option_symbol);
    return position(accountId, sec, p, p.average_purchase_price, obj(p.currency).code);
  }
  const universal = sym.symbol && typeof sym.symbol === "object" ? sym.symbol : sym;
  const sec = snaptradeUniversalSymbol(universal, cashEq);
  return position(accountId, sec, p, p.average_purchase_price, obj(p.currency).code);
}

/** SnapTrade balances (`Balance[]`) of one account. */
export function snaptradeBalances(accountId: string, raw: unknown): NormBalance[] {
  const out = new Map<string, NormBalance>();
  for (const b of arr(raw).map(obj)) {
    const cur = currency(obj(b.currency).code ?? b.currency);
    out.set(cur, {
      account_external_id: accountId,
      currency: cur,
      cash: toDecimalStringOrNull(b.cash) ?? "0",
      buying_power: toDecimalStringOrNull(b.buying_power),
    });
  }
  return [...out.values()];
}

/** A SnapTrade `Account`. */
export function snaptradeAccount(raw: unknown, canTrade: boolean): NormAccount {
  const a = obj(raw);
  const id = str(a.id);
  if (!id) throw new NormaliseError("SnapTrade account without an id");
  const meta = obj(a.meta);
  const status = str(a.status);
  const total = obj(obj(a.balance).total);
  return {
    external_id: id,
    name: str(a.name) ?? str(a.institution_name) ?? "Account",
    number_mask: mask(a.number),
    type: accountType(str(a.raw_type), str(meta.type), str(a.account_category), str(a.name)),
    currency: currency(total.currency ?? meta.currency),
    status: status === "closed" || status === "archived" || status === "unavailable"
      ? status
      : "open",
    can_trade: canTrade,
  };
}

const ACTIVITY_TYPES: Record<string, TransactionType> = {
  BUY: "buy",
  SELL: "sell",
  DIVIDEND: "dividend",
  STOCK_DIVIDEND: "dividend",
  CONTRIBUTION: "contribution",
  DEPOSIT: "contribution",
  WITHDRAWAL: "withdrawal",
  REI: "reinvestment",
  INTEREST: "interest",
  FEE: "fee",
  TAX: "tax",
  TRANSFER: "transfer",
  EXTERNAL_ASSET_TRANSFER_IN: "transfer",
  EXTERNAL_ASSET_TRANSFER_OUT: "transfer",
  OPTIONASSIGNMENT: "other",
  OPTIONEXERCISE: "other",
  OPTIONEXPIRATION: "other",
};

/** The Meridian type of a SnapTrade activity type. */
export function snaptradeActivityType(type: unknown): TransactionType {
  const t = typeof type === "string" ? type.trim().toUpperCase() : "";
  return ACTIVITY_TYPES[t] ?? (t.includes("TRANSFER") ? "transfer" : "other");
}

/** A SnapTrade `UniversalActivity`; SnapTrade's `amount` is already the signed cash effect. */
export function snaptradeActivity(accountId: string, raw: unknown): NormTransaction {
  const a = obj(raw);
  const id = str(a.id);
  if (!id) throw new NormaliseError("SnapTrade activity without an id");
  const sym = obj(a.symbol);
  const opt = obj(a.option_symbol);
  const tradeDate = isoDate(a.trade_date) ?? isoDate(a.settlement_date);
  if (!tradeDate) throw new NormaliseError("SnapTrade activity without a date");
  const units = toDecimalStringOrNull(a.units);
  const price = toDecimalStringOrNull(a.price);
  return {
    account_external_id: accountId,
    external_id: id,
    type: snaptradeActivityType(a.type),
    symbol: str(opt.ticker) ?? str(sym.symbol) ?? null,
    description: str(a.description),
    quantity: units,
    price,
    amount: toDecimalStringOrNull(a.amount) ?? (units && price ? mul(units, price) : "0"),
    fee: toDecimalStringOrNull(a.fee),
    currency: currency(obj(a.currency).code),
    trade_date: tradeDate,
    settlement_date: isoDate(a.settlement_date),
  };
}
