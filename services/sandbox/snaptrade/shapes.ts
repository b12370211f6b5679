/**
 * SnapTrade's JSON shapes: symbols, brokerages, connections, accounts, balances, positions and
 * activities as the SDK types them (money mostly as JSON numbers; `positions/all` keeps
 * decimal strings). Ids of reference data are stable, derived from names.
 * @module
 */
// Exact: decimal.js's default precision (20 digits) would round quantities and amounts.
import { Exact as Decimal } from "@meridian/portfolio/exact";
import { iso, num } from "../core.ts";
import {
  accountValue,
  type DemoBrokerage,
  type Holding,
  type Security,
  securityFor,
  type Transaction,
} from "../demo_data.ts";
import { stableUuid } from "../prng.ts";
import type { Account, Authorization } from "./state.ts";

/** A currency object. */
export function currency(code: string) {
  const names: Record<string, string> = { USD: "US Dollar", CAD: "Canadian Dollar" };
  return { id: stableUuid(`currency:${code}`), code, name: names[code] ?? code };
}

function exchange(sec: Security) {
  const tsx = sec.exchange === "TSX";
  return {
    id: stableUuid(`exchange:${sec.exchange}`),
    code: sec.exchange,
    mic_code: tsx ? "XTSE" : sec.exchange === "NASDAQ" ? "XNAS" : null,
    name: tsx ? "Toronto Stock Exchange" : sec.exchange,
    timezone: tsx ? "America/Toronto" : "America/New_York",
    start_time: "09:30:00",
    close_time: "16:00:00",
    suffix: tsx ? ".TO" : null,
  };
}

const TYPE_CODES: Record<string, [string, string]> = {
  stock: ["cs", "Common Stock"],
  etf: ["et", "ETF"],
  crypto: ["crypto", "Cryptocurrency"],
  mutualfund: ["oef", "Open Ended Fund"],
  cash: ["cash", "Cash"],
  option: ["op", "Option"],
};

/** A security as a `UniversalSymbol`. */
export function universalSymbol(sec: Security) {
  const [code, description] = TYPE_CODES[sec.kind];
  return {
    id: sec.id,
    symbol: sec.ticker,
    raw_symbol: sec.ticker.replace(/\.TO$/, ""),
    description: sec.name,
    currency: currency(sec.currency),
    exchange: exchange(sec),
    type: { id: stableUuid(`type:${code}`), code, description, is_supported: true },
    figi_code: null,
    figi_instrument: null,
    currencies: [currency(sec.currency)],
  };
}

function optionSymbol(sec: Security) {
  const o = sec.option!;
  return {
    id: sec.id,
    ticker: sec.ticker,
    option_type: o.type,
    strike_price: Number(o.strike),
    expiration_date: o.expiration,
    is_mini_option: false,
    underlying_symbol: universalSymbol(securityFor(o.underlying)),
  };
}

function instrument(sec: Security): Record<string, unknown> {
  if (sec.option) {
    const o = sec.option;
    const u = securityFor(o.underlying);
    return {
      kind: "option",
      id: sec.id,
      symbol: sec.ticker,
      option_type: o.type,
      strike_price: o.strike,
      expiration_date: o.expiration,
      multiplier: o.multiplier,
      description: sec.name,
      underlying: instrument(u),
    };
  }
  return {
    kind: sec.kind === "cash" ? "other" : sec.kind,
    id: sec.id,
    symbol: sec.ticker,
    raw_symbol: sec.ticker.replace(/\.TO$/, ""),
    description: sec.name,
    currency: sec.currency,
    exchange: sec.exchange,
    figi_instrument: null,
  };
}

function brokerageJson(b: DemoBrokerage) {
  return {
    id: stableUuid(`brokerage:${b.slug}`),
    slug: b.slug,
    name: b.name,
    display_name: b.name,
    description: `${b.name} (Meridian sandbox)`,
    aws_s3_logo_url: "",
    aws_s3_square_logo_url: null,
    url: null,
    enabled: true,
    maintenance_mode: false,
    is_degraded: false,
    allows_trading: b.allowsTrading,
    allows_fractional_units: b.allowsFractional,
    has_reporting: true,
    is_real_time_connection: false,
    brokerage_type: { id: stableUuid("brokerage-type:traditional"), name: "Traditional Brokerage" },
    exchanges: [],
    open_url: null,
  };
}

/** An `Account` of connection `a`. */
export function accountJson(acct: Account, a: Authorization) {
  const first = acct.data.transactions[0]?.date ?? null;
  return {
    id: acct.id,
    brokerage_authorization: a.id,
    portfolio_group: null,
    name: acct.data.name,
    number: acct.data.number,
    institution_account_id: acct.data.number,
    institution_name: a.brokerage.name,
    created_date: iso(acct.createdAt),
    funding_date: null,
    opening_date: null,
    sync_status: {
      transactions: {
        initial_sync_completed: true,
        last_successful_sync: first ? iso(a.lastRefreshAt ?? acct.createdAt).slice(0, 10) : null,
        first_transaction_date: first,
      },
      holdings: {
        initial_sync_completed: true,
        last_successful_sync: iso(a.lastRefreshAt ?? acct.createdAt),
        holdings_unavailable: false,
      },
    },
    balance: { total: { amount: num(accountValue(acct.data)), currency: acct.data.currency } },
    status: "open",
    raw_type: acct.data.type,
    account_category: "INVESTMENT",
    meta: { type: acct.data.type, institution_name: a.brokerage.name },
    cash_restrictions: [],
    is_paper: false,
  };
}

/** A `BrokerageAuthorization`. */
export function authJson(a: Authorization) {
  return {
    id: a.id,
    created_date: iso(a.createdAt),
    updated_date: iso(a.updatedAt),
    brokerage: brokerageJson(a.brokerage),
    name: a.name,
    type: a.type,
    disabled: a.disabled,
    disabled_date: a.disabledAt === null ? null : iso(a.disabledAt),
    meta: {},
    is_eligible_for_payout: false,
    data_freshness_mode: "daily",
  };
}

/** An account's `Balance` list (one currency). */
export function balancesJson(acct: Account) {
  return [{
    currency: currency(acct.data.currency),
    cash: num(acct.data.cash),
    buying_power: num(acct.data.cash),
  }];
}

/** A stock/ETF/crypto `Position`; fractional units only where connection `a`'s brokerage allows. */
export function positionJson(a: Authorization, h: Holding) {
  const units = new Decimal(h.units);
  return {
    symbol: {
      symbol: universalSymbol(h.security),
      id: h.security.id,
      description: h.security.name,
      local_id: null,
      is_quotable: true,
      is_tradable: true,
    },
    units: units.toNumber(),
    price: num(h.security.price),
    open_pnl: new Decimal(h.security.price).minus(h.averageCost).mul(units).toDecimalPlaces(2)
      .toNumber(),
    average_purchase_price: num(h.averageCost),
    fractional_units: a.brokerage.allowsFractional && !units.isInteger() ? units.toNumber() : null,
    currency: currency(h.security.currency),
    cash_equivalent: h.security.cashEquivalent,
    tax_lots: [],
  };
}

/** An `OptionsPosition` (average price per contract, ×100). */
export function optionPositionJson(h: Holding) {
  return {
    symbol: {
      id: h.security.id,
      option_symbol: optionSymbol(h.security),
      description: h.security.name,
    },
    price: num(h.security.price),
    units: num(h.units),
    average_purchase_price: new Decimal(h.averageCost).mul(100).toNumber(),
    currency: currency("USD"),
  };
}

/** A `positions/all` result: decimal strings, `cost_basis` the position's total. */
export function allPositionJson(h: Holding) {
  const mult = h.security.option ? h.security.option.multiplier : "1";
  return {
    instrument: instrument(h.security),
    units: h.units,
    price: h.security.price,
    cost_basis: new Decimal(h.units).mul(h.averageCost).mul(mult).toFixed(2),
    currency: h.security.currency,
    cash_equivalent: h.security.cashEquivalent,
    tax_lots: [],
  };
}

/** A `UniversalActivity` of an account of connection `a` (settles two days after trade). */
export function activityJson(acct: Account, a: Authorization, t: Transaction) {
  const settle = new Date(Date.parse(`${t.date}T00:00:00Z`) + 2 * 86_400_000).toISOString();
  const sec = t.security;
  return {
    id: t.id,
    account: {
      id: acct.id,
      name: acct.data.name,
      number: acct.data.number,
      institution_account_id: acct.data.number,
      sync_status: accountJson(acct, a).sync_status,
    },
    symbol: sec && !sec.option ? universalSymbol(sec) : null,
    option_symbol: sec?.option ? optionSymbol(sec) : null,
    currency_universal_symbol: null,
    price: Number(t.price),
    units: Number(t.units),
    amount: Number(t.amount),
    currency: currency(t.currency),
    type: t.type,
    option_type: sec?.option ? (t.type === "BUY" ? "BUY_TO_OPEN" : "SELL_TO_CLOSE") : "",
    description: t.description,
    trade_date: `${t.date}T00:00:00Z`,
    settlement_date: settle,
    fee: Number(t.fee),
    fx_rate: null,
    institution: a.brokerage.name,
    external_reference_id: null,
  };
}
