/**
 * Plaid's JSON shapes: accounts with balances, securities, holdings (cash as a holding of the
 * `CUR:USD` security), investment transactions (Plaid's sign: positive = money out) and items.
 * Money is JSON numbers; security ids are stable, derived from the ticker.
 * @module
 */
// Exact: decimal.js's default precision (20 digits) would round quantities and amounts.
import { Exact as Decimal } from "@meridian/portfolio/exact";
import { num } from "../core.ts";
import {
  accountValue,
  type DemoInstitution,
  type Holding,
  INSTITUTIONS,
  previousCloseFor,
  type Security,
  securityFor,
  type Transaction,
} from "../demo_data.ts";
import { stableUuid } from "../prng.ts";
import type { Item, PlaidAccount } from "./state.ts";

/** A demo institution by id (items only ever name known ones). */
export function institution(id: string): DemoInstitution {
  return INSTITUTIONS.find((i) => i.id === id)!;
}

function plaidSecurityId(sec: Security): string {
  return stableUuid(`plaid-security:${sec.ticker}`).replaceAll("-", "").slice(0, 27);
}

const PLAID_TYPES: Record<string, [string, string]> = {
  stock: ["equity", "common stock"],
  etf: ["etf", "etf"],
  crypto: ["cryptocurrency", "cryptocurrency"],
  mutualfund: ["mutual fund", "mutual fund"],
  option: ["derivative", "option"],
  cash: ["cash", "cash"],
};

const TXN_TYPES: Record<string, [string, string]> = {
  BUY: ["buy", "buy"],
  SELL: ["sell", "sell"],
  DIVIDEND: ["cash", "dividend"],
  FEE: ["fee", "account fee"],
  CONTRIBUTION: ["cash", "contribution"],
  INTEREST: ["cash", "interest"],
};

const CASH = securityFor("CUR:USD");

/** An `AccountBase` of item `item`; `available` counts cash and cash equivalents. */
export function accountJson(item: Item, a: PlaidAccount) {
  const cashLike = a.data.holdings.filter((h) => h.security.cashEquivalent)
    .reduce(
      (s, h) => s.plus(new Decimal(h.units).mul(h.security.price)),
      new Decimal(a.data.cash),
    );
  return {
    account_id: a.accountId,
    balances: {
      available: num(cashLike.toFixed(2)),
      current: num(accountValue(a.data)),
      limit: null,
      iso_currency_code: a.data.currency,
      unofficial_currency_code: null,
      last_updated_datetime: null,
    },
    mask: a.data.number.slice(-4),
    name: a.data.name,
    official_name: `${a.data.name} (${institution(item.institutionId).name})`,
    type: a.data.type,
    subtype: a.data.subtype,
    verification_status: null,
    persistent_account_id: a.accountId,
    holder_category: "personal",
  };
}

/** A `Security`. */
export function securityJson(sec: Security) {
  const [type, subtype] = PLAID_TYPES[sec.kind];
  const ticker = sec.ticker.replaceAll(" ", "");
  return {
    security_id: plaidSecurityId(sec),
    isin: null,
    cusip: null,
    sedol: null,
    institution_security_id: null,
    institution_id: null,
    proxy_security_id: null,
    name: sec.name,
    ticker_symbol: ticker,
    is_cash_equivalent: sec.cashEquivalent,
    type,
    subtype,
    // The previous session's close; holdings are priced a session later.
    close_price: num(previousCloseFor(sec)),
    close_price_as_of: "2026-10-29",
    update_datetime: null,
    iso_currency_code: sec.currency,
    unofficial_currency_code: null,
    market_identifier_code: sec.kind === "option" ? "XCBO" : sec.kind === "cash" ? null : "XNAS",
    sector: null,
    industry: null,
    option_contract: sec.option
      ? {
        contract_type: sec.option.type.toLowerCase(),
        expiration_date: sec.option.expiration,
        strike_price: Number(sec.option.strike),
        underlying_security_ticker: sec.option.underlying,
      }
      : null,
    fixed_income: null,
  };
}

/** Holdings as Plaid reports them: cash is a holding of the "U S Dollar" security. */
export function holdingsOf(a: PlaidAccount): Holding[] {
  const cash: Holding = { security: CASH, units: a.data.cash, averageCost: "1.00" };
  return [...a.data.holdings, cash];
}

/** A `Holding` of account `a` (value and cost basis are totals, options ×multiplier). */
export function holdingJson(a: PlaidAccount, h: Holding) {
  const mult = h.security.option ? h.security.option.multiplier : "1";
  const value = new Decimal(h.units).mul(h.security.price).mul(mult).toFixed(2);
  return {
    account_id: a.accountId,
    security_id: plaidSecurityId(h.security),
    institution_price: num(h.security.price),
    institution_price_as_of: "2026-10-30",
    institution_price_datetime: null,
    institution_value: num(value),
    cost_basis: num(new Decimal(h.units).mul(h.averageCost).mul(mult).toFixed(2)),
    quantity: num(h.units),
    iso_currency_code: h.security.currency,
    unofficial_currency_code: null,
    vested_quantity: null,
    vested_value: null,
  };
}

/** An `InvestmentTransaction` of account `a`. */
export function transactionJson(a: PlaidAccount, t: Transaction) {
  const [type, subtype] = TXN_TYPES[t.type];
  return {
    investment_transaction_id: t.id.replaceAll("-", ""),
    cancel_transaction_id: null,
    account_id: a.accountId,
    security_id: t.security ? plaidSecurityId(t.security) : null,
    date: t.date,
    transaction_datetime: null,
    name: t.description,
    quantity: Number(t.units),
    // Plaid's sign convention: positive amounts are money leaving the account.
    amount: Number(new Decimal(t.amount).neg().toFixed(2)),
    price: Number(t.price),
    fees: Number(t.fee),
    type,
    subtype,
    iso_currency_code: t.currency,
    unofficial_currency_code: null,
  };
}

/** An `Item`. */
export function itemJson(item: Item) {
  return {
    item_id: item.itemId,
    institution_id: item.institutionId,
    institution_name: institution(item.institutionId).name,
    webhook: item.webhook,
    auth_method: null,
    error: item.error,
    available_products: ["balance"],
    billed_products: ["investments"],
    products: ["investments"],
    consented_products: ["investments"],
    consent_expiration_time: null,
    update_type: "background",
  };
}
