/**
 * Plaid Investments → Meridian: securities, holdings, accounts, balances and investment
 * transactions. Pure.
 *
 * Plaid reports cash held in an investment account as a holding of a `cash` security
 * (ticker `CUR:USD`); Meridian turns those into the account's cash balance, never a
 * position. Money-market funds and the like (`is_cash_equivalent`) stay positions typed
 * `cash_equivalent`.
 * @module
 */
import { add, neg, toDecimalString, toDecimalStringOrNull } from "../../normalise/decimal.ts";
import {
  accountType,
  clipSymbol,
  currency,
  isoDate,
  mask,
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
  type Snapshot,
  type TransactionType,
} from "../../normalise/model.ts";

const TYPES: Record<string, SecurityType> = {
  cash: "cash",
  cryptocurrency: "crypto",
  equity: "equity",
  etf: "etf",
  "fixed income": "bond",
  "mutual fund": "mutual_fund",
  loan: "other",
  other: "other",
};

/** A Plaid `Security` as a Meridian security. */
export function plaidSecurity(raw: unknown): Security {
  const s = obj(raw);
  const id = str(s.security_id);
  const rawType = (str(s.type) ?? "other").toLowerCase();
  const contract = s.option_contract ? obj(s.option_contract) : null;
  let type: SecurityType = TYPES[rawType] ?? "other";
  if (rawType === "derivative") type = contract ? "option" : "other";
  if (contract) type = "option";
  if (type !== "cash" && type !== "option" && s.is_cash_equivalent === true) {
    type = "cash_equivalent";
  }
  const cur = currency(s.iso_currency_code ?? s.unofficial_currency_code);
  const ticker = str(s.ticker_symbol);
  const symbol = ticker ?? (type === "cash" ? `CUR:${cur}` : null) ?? str(s.cusip) ??
    str(s.isin) ?? str(s.name) ?? id;
  if (!symbol) throw new NormaliseError("Plaid security without any identifier");
  return {
    symbol: clipSymbol(symbol),
    name: str(s.name),
    type,
    currency: cur,
    option_details: contract
      ? {
        underlying: str(contract.underlying_security_ticker) ?? symbol,
        strike: toDecimalString(contract.strike_price),
        expiration: isoDate(contract.expiration_date) ??
          (() => {
            throw new NormaliseError("Plaid option without an expiration");
          })(),
        option_type: String(contract.contract_type).toLowerCase() === "put" ? "put" : "call",
        multiplier: "100",
      }
      : null,
    provider_security_id: id,
  };
}

/** A Plaid `AccountBase`/`InvestmentAccount`. Plaid accounts are read-only in Meridian. */
export function plaidAccount(raw: unknown): NormAccount {
  const a = obj(raw);
  const id = str(a.account_id);
  if (!id) throw new NormaliseError("Plaid account without an id");
  const b = obj(a.balances);
  return {
    external_id: id,
    name: str(a.official_name) ?? str(a.name) ?? "Account",
    number_mask: mask(a.mask),
    type: accountType(str(a.type), str(a.subtype)),
    currency: currency(b.iso_currency_code ?? b.unofficial_currency_code),
    status: "open",
    can_trade: false,
  };
}

/**
 * The result of `/investments/holdings/get` as accounts, positions and balances. Cash
 * holdings become the balance; an account without one falls back to `balances.available`.
 */
export function plaidHoldings(raw: unknown): Omit<Snapshot, "transactions"> {
  const r = obj(raw);
  const securities = new Map<string, Security>();
  // Per security: Plaid's close of the previous session and the date it is for.
  const closes = new Map<string, { price: unknown; asOf: string | null }>();
  for (const s of arr(r.securities)) {
    const sec = plaidSecurity(s);
    if (sec.provider_security_id) {
      securities.set(sec.provider_security_id, sec);
      const o = obj(s);
      closes.set(sec.provider_security_id, {
        price: o.close_price,
        asOf: isoDate(o.close_price_as_of),
      });
    }
  }
  const accounts = arr(r.accounts).map(plaidAccount);
  const known = new Set(accounts.map((a) => a.external_id));
  const positions: NormPosition[] = [];
  const cash = new Map<string, Map<string, string>>();
  for (const h of arr(r.holdings).map(obj)) {
    const accountId = str(h.account_id);
    if (!accountId || !known.has(accountId)) continue;
    const sec = securities.get(str(h.security_id) ?? "");
    if (!sec) throw new NormaliseError("Plaid holding of an unknown security");
    const cur = currency(h.iso_currency_code ?? h.unofficial_currency_code, sec.currency);
    const quantity = toDecimalString(h.quantity);
    if (sec.type === "cash") {
      // A cash holding's value is its quantity at price 1; prefer institution_value.
      const value = toDecimalStringOrNull(h.institution_value) ?? quantity;
      const perCur = cash.get(accountId) ?? new Map<string, string>();
      perCur.set(cur, add(perCur.get(cur) ?? "0", value));
      cash.set(accountId, perCur);
      continue;
    }
    const price = toDecimalStringOrNull(h.institution_price);
    positions.push({
      account_external_id: accountId,
      symbol: sec.symbol,
      name: sec.name,
      security_type: sec.type,
      quantity,
      price,
      previous_close: price === null ? null : plaidPreviousClose(sec, closes, h),
      cost_basis: toDecimalStringOrNull(h.cost_basis),
      currency: cur,
      option_details: sec.option_details,
      provider_security_id: sec.provider_security_id,
    });
  }
  const balances: NormBalance[] = [];
  for (const a of arr(r.accounts).map(obj)) {
    const id = String(a.account_id);
    const perCur = cash.get(id);
    if (perCur) {
      for (const [cur, value] of perCur) {
        balances.push({ account_external_id: id, currency: cur, cash: value, buying_power: null });
      }
    } else {
      const b = obj(a.balances);
      balances.push({
        account_external_id: id,
        currency: currency(b.iso_currency_code ?? b.unofficial_currency_code),
        cash: toDecimalStringOrNull(b.available) ?? "0",
        buying_power: null,
      });
    }
  }
  return { accounts, positions, balances };
}

/**
 * The security's `close_price` as the previous close of a holding priced at its
 * `institution_price`; null when the institution's price is not newer than that close (it
 * would be the same session's close, not today's price).
 */
function plaidPreviousClose(
  sec: Security,
  closes: Map<string, { price: unknown; asOf: string | null }>,
  h: Record<string, unknown>,
): string | null {
  const close = closes.get(sec.provider_security_id ?? "");
  if (!close) return null;
  const priceAsOf = isoDate(h.institution_price_as_of) ??
    isoDate(h.institution_price_datetime);
  if (priceAsOf !== null && close.asOf !== null && priceAsOf <= close.asOf) return null;
  return previousClose(close.price, sec.type);
}

const CASH_SUBTYPES: Record<string, TransactionType> = {
  "account fee": "fee",
  "fund fee": "fee",
  "legal fee": "fee",
  "management fee": "fee",
  "margin expense": "fee",
  "miscellaneous fee": "fee",
  "transfer fee": "fee",
  "trust fee": "fee",
  contribution: "contribution",
  deposit: "contribution",
  dividend: "dividend",
  "qualified dividend": "dividend",
  "non-qualified dividend": "dividend",
  "long-term capital gain": "dividend",
  "short-term capital gain": "dividend",
  interest: "interest",
  "interest receivable": "interest",
  withdrawal: "withdrawal",
  distribution: "withdrawal",
  tax: "tax",
  "tax withheld": "tax",
  "non-resident tax": "tax",
  transfer: "transfer",
  send: "transfer",
  request: "transfer",
};

/** The Meridian type of a Plaid investment transaction `type`/`subtype`. */
export function plaidTransactionType(type: unknown, subtype: unknown): TransactionType {
  const t = String(type ?? "").toLowerCase();
  const s = String(subtype ?? "").toLowerCase();
  if (s.endsWith("reinvestment")) return "reinvestment";
  if (CASH_SUBTYPES[s] && (t === "cash" || t === "fee" || t === "transfer")) {
    return CASH_SUBTYPES[s];
  }
  switch (t) {
    case "buy":
      return "buy";
    case "sell":
      return "sell";
    case "fee":
      return s.includes("tax") ? "tax" : "fee";
    case "transfer":
      return "transfer";
    case "cash":
      return CASH_SUBTYPES[s] ?? "other";
    default:
      return "other";
  }
}

/**
 * A Plaid `InvestmentTransaction`. Plaid's `amount` is positive when cash leaves the
 * account; Meridian's is positive when cash comes in, so the sign flips.
 */
export function plaidTransaction(
  raw: unknown,
  securities: Map<string, Security>,
): NormTransaction {
  const t = obj(raw);
  const id = str(t.investment_transaction_id);
  const accountId = str(t.account_id);
  const date = isoDate(t.date);
  if (!id || !accountId || !date) throw new NormaliseError("Plaid transaction missing fields");
  const sec = securities.get(str(t.security_id) ?? "");
  return {
    account_external_id: accountId,
    external_id: id,
    type: plaidTransactionType(t.type, t.subtype),
    symbol: sec && sec.type !== "cash" ? sec.symbol : null,
    description: str(t.name),
    quantity: toDecimalStringOrNull(t.quantity),
    price: toDecimalStringOrNull(t.price),
    amount: neg(toDecimalString(t.amount ?? 0)),
    fee: toDecimalStringOrNull(t.fees),
    currency: currency(t.iso_currency_code ?? t.unofficial_currency_code),
    trade_date: date,
    settlement_date: null,
  };
}

/** Securities of a Plaid response by id. */
export function plaidSecurities(raw: unknown): Map<string, Security> {
  const out = new Map<string, Security>();
  for (const s of arr(raw)) {
    const sec = plaidSecurity(s);
    if (sec.provider_security_id) out.set(sec.provider_security_id, sec);
  }
  return out;
}
