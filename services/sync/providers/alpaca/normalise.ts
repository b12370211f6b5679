/**
 * Alpaca → Meridian: assets, positions, the account and its activities. The Alpaca SDK
 * returns camelCase models with decimals already as strings. Pure.
 * @module
 */
import { abs, mul, neg, toDecimalString, toDecimalStringOrNull } from "../../normalise/decimal.ts";
import {
  clipSymbol,
  currency,
  isoDate,
  mask,
  parseOcc,
  previousClose,
} from "../../normalise/fields.ts";
import { arr, obj, str } from "../../normalise/json.ts";
import {
  type NormAccount,
  NormaliseError,
  type NormBalance,
  type NormPosition,
  type NormTransaction,
  type Security,
  type SecurityType,
  type TransactionType,
} from "../../normalise/model.ts";

/** An Alpaca asset (or a position's asset fields) as a Meridian security. */
export function alpacaAsset(raw: unknown): Security {
  const a = obj(raw);
  const symbol = str(a.symbol);
  if (!symbol) throw new NormaliseError("Alpaca asset without a symbol");
  const cls = String(a.assetClass ?? a._class ?? a["class"] ?? a.asset_class ?? "us_equity")
    .toLowerCase();
  let type: SecurityType = "equity";
  let option = null;
  if (cls === "crypto") type = "crypto";
  else if (cls === "us_option") {
    type = "option";
    option = parseOcc(symbol);
    if (!option) throw new NormaliseError(`Alpaca option symbol is not OCC: ${symbol}`);
  } else if (/\betf\b/i.test(String(a.name ?? ""))) type = "etf";
  return {
    symbol: clipSymbol(symbol),
    name: str(a.name),
    type,
    currency: "USD",
    option_details: option,
    provider_security_id: str(a.assetId ?? a.id),
  };
}

/** An Alpaca `Position`. `costBasis` is already the total cost of the position. */
export function alpacaPosition(accountId: string, raw: unknown): NormPosition {
  const p = obj(raw);
  const sec = alpacaAsset(p);
  return {
    account_external_id: accountId,
    symbol: sec.symbol,
    name: sec.name,
    security_type: sec.type,
    quantity: toDecimalString(p.qty),
    price: p.currentPrice === null || p.currentPrice === undefined
      ? null
      : abs(toDecimalString(p.currentPrice)),
    previous_close: previousClose(p.lastdayPrice ?? p.lastday_price, sec.type),
    cost_basis: toDecimalStringOrNull(p.costBasis),
    currency: "USD",
    option_details: sec.option_details,
    provider_security_id: sec.provider_security_id,
  };
}

/** The Alpaca `Account` as a Meridian account. */
export function alpacaAccount(raw: unknown, canTrade: boolean): NormAccount {
  const a = obj(raw);
  const id = str(a.id);
  if (!id) throw new NormaliseError("Alpaca account without an id");
  const status = String(a.status ?? "ACTIVE").toUpperCase();
  return {
    external_id: id,
    name: `Alpaca ${str(a.accountNumber) ?? ""}`.trim(),
    number_mask: mask(a.accountNumber),
    type: "brokerage",
    currency: currency(a.currency),
    status: status === "ACTIVE" ? "open" : status === "ACCOUNT_CLOSED" ? "closed" : "unavailable",
    can_trade: canTrade && a.tradingBlocked !== true && a.accountBlocked !== true,
  };
}

/** The Alpaca account's cash balance. */
export function alpacaBalance(raw: unknown): NormBalance {
  const a = obj(raw);
  return {
    account_external_id: String(a.id),
    currency: currency(a.currency),
    cash: toDecimalString(a.cash ?? "0"),
    buying_power: toDecimalStringOrNull(a.buyingPower),
  };
}

const NTA: Record<string, TransactionType> = {
  DIV: "dividend",
  DIVCGL: "dividend",
  DIVCGS: "dividend",
  DIVOA: "dividend",
  DIVROC: "dividend",
  DIVTXEX: "dividend",
  DIVNRA: "tax",
  DIVFT: "tax",
  DIVTW: "tax",
  INT: "interest",
  INTNRA: "tax",
  INTTW: "tax",
  FEE: "fee",
  CFEE: "fee",
  PTC: "fee",
  CSD: "contribution",
  CSW: "withdrawal",
  JNL: "transfer",
  JNLC: "transfer",
  JNLS: "transfer",
  ACATC: "transfer",
  ACATS: "transfer",
  TAX: "tax",
  REORG: "other",
  SPLIT: "other",
  SSO: "other",
  SSP: "other",
  MA: "other",
};

/** The Meridian type of an Alpaca activity type (`FILL` needs its side). */
export function alpacaActivityType(activityType: unknown, side?: unknown): TransactionType {
  const t = String(activityType ?? "").toUpperCase();
  if (t === "FILL") {
    return String(side ?? "").toLowerCase().startsWith("sell") ? "sell" : "buy";
  }
  return NTA[t] ?? (t.startsWith("DIV") ? "dividend" : t.startsWith("INT") ? "interest" : "other");
}

/**
 * One Alpaca activity (a trade fill or a non-trade activity), in the shape the REST API
 * returns (snake_case) or the SDK's camelCase.
 */
export function alpacaActivity(accountId: string, raw: unknown): NormTransaction {
  const a = obj(raw);
  const id = str(a.id);
  const kind = str(a.activity_type ?? a.activityType);
  if (!id || !kind) throw new NormaliseError("Alpaca activity without an id or type");
  const type = alpacaActivityType(kind, a.side);
  if (kind.toUpperCase() === "FILL") {
    const qty = toDecimalString(a.qty);
    const price = toDecimalString(a.price);
    const gross = mul(qty, price);
    const date = isoDate(a.transaction_time ?? a.transactionTime);
    if (!date) throw new NormaliseError("Alpaca fill without a time");
    return {
      account_external_id: accountId,
      external_id: id,
      type,
      symbol: str(a.symbol),
      description: `${type === "sell" ? "Sell" : "Buy"} ${qty} ${str(a.symbol) ?? ""}`.trim(),
      quantity: qty,
      price,
      amount: type === "sell" ? gross : neg(gross),
      fee: null,
      currency: "USD",
      trade_date: date,
      settlement_date: null,
    };
  }
  const date = isoDate(a.date) ?? isoDate(a.created_at ?? a.createdAt);
  if (!date) throw new NormaliseError("Alpaca activity without a date");
  return {
    account_external_id: accountId,
    external_id: id,
    type,
    symbol: str(a.symbol),
    description: str(a.description),
    quantity: toDecimalStringOrNull(a.qty),
    price: toDecimalStringOrNull(a.per_share_amount ?? a.perShareAmount),
    amount: toDecimalString(a.net_amount ?? a.netAmount ?? 0),
    fee: null,
    currency: "USD",
    trade_date: date,
    settlement_date: null,
  };
}

/** Helper for adapters: every element of an SDK list response. */
export function alpacaList(raw: unknown): unknown[] {
  return arr(raw);
}
