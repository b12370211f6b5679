/**
 * Alpaca's wire shapes of an account, a position and an order, as the SDK types them: money and
 * quantities as exact decimal strings, valued at the simulated market's current prices.
 * @module
 */

import { ASSETS, positionSymbol } from "./assets.ts";
import { D, type Dec, decimalOrNull, exact } from "./decimal.ts";
import type { PriceBook } from "./prices.ts";
import { type Account, buyingPower, type OrderRec, reservedSells } from "./state.ts";

/** `GET /v2/account`; `nowMs` dates the balances (as of yesterday). */
export function accountJson(
  acct: Account,
  prices: PriceBook,
  nowMs: number,
): Record<string, unknown> {
  let lmv = new D(0);
  let lastLmv = new D(0);
  for (const [symbol, h] of acct.holdings) {
    lmv = lmv.plus(h.qty.mul(prices.price(symbol).toString()));
    lastLmv = lastLmv.plus(h.qty.mul(prices.lastDay(symbol).toString()));
  }
  const equity = acct.cash.plus(lmv);
  const bp = buyingPower(acct).toFixed();
  return {
    id: acct.id,
    admin_configurations: {},
    user_configurations: null,
    account_number: acct.account_number,
    status: "ACTIVE",
    crypto_status: "ACTIVE",
    options_approved_level: 0,
    options_trading_level: 0,
    currency: "USD",
    buying_power: bp,
    regt_buying_power: bp,
    daytrading_buying_power: "0",
    effective_buying_power: bp,
    non_marginable_buying_power: bp,
    options_buying_power: bp,
    bod_dtbp: "0",
    cash: acct.cash.toFixed(),
    accrued_fees: "0",
    portfolio_value: equity.toFixed(),
    pattern_day_trader: false,
    trading_blocked: false,
    transfers_blocked: false,
    account_blocked: false,
    created_at: acct.created_at,
    trade_suspended_by_user: false,
    multiplier: "1",
    shorting_enabled: false,
    equity: equity.toFixed(),
    last_equity: acct.cash.plus(lastLmv).toFixed(),
    long_market_value: lmv.toFixed(),
    short_market_value: "0",
    position_market_value: lmv.toFixed(),
    initial_margin: "0",
    maintenance_margin: "0",
    last_maintenance_margin: "0",
    sma: "0",
    daytrade_count: 0,
    balance_asof: new Date(nowMs - 86_400_000).toISOString().slice(0, 10),
    crypto_tier: 1,
    intraday_adjustments: "0",
    pending_reg_taf_fees: "0",
  };
}

/** One position in Alpaca's shape; `undefined` when the account holds none of `symbol`. */
export function positionJson(
  acct: Account,
  symbol: string,
  prices: PriceBook,
): Record<string, unknown> | undefined {
  const h = acct.holdings.get(symbol);
  const asset = ASSETS.get(symbol);
  if (!h || !asset) return undefined;
  const price = exact(prices.price(symbol));
  const last = exact(prices.lastDay(symbol));
  const mv = h.qty.mul(price);
  const pl = mv.minus(h.cost);
  const intradayPl = h.qty.mul(price.minus(last));
  const lastMv = h.qty.mul(last);
  // Quotients are cut to 16 places; everything else is exact.
  const fmt = (d: Dec) => d.toDecimalPlaces(16).toFixed();
  return {
    asset_id: asset.id,
    symbol: positionSymbol(asset),
    exchange: asset.exchange,
    asset_class: asset.class,
    asset_marginable: asset.marginable,
    qty: h.qty.toFixed(),
    avg_entry_price: fmt(h.cost.div(h.qty)),
    side: "long",
    market_value: mv.toFixed(),
    cost_basis: h.cost.toFixed(),
    unrealized_pl: pl.toFixed(),
    unrealized_plpc: h.cost.isZero() ? "0" : fmt(pl.div(h.cost)),
    unrealized_intraday_pl: intradayPl.toFixed(),
    unrealized_intraday_plpc: lastMv.isZero() ? "0" : fmt(intradayPl.div(lastMv)),
    current_price: price.toFixed(),
    lastday_price: last.toFixed(),
    change_today: last.isZero() ? "0" : fmt(price.minus(last).div(last)),
    qty_available: h.qty.minus(reservedSells(acct, symbol)).toFixed(),
  };
}

/** `GET /v2/positions`, sorted by symbol like Alpaca. */
export function positionsJson(acct: Account, prices: PriceBook): Record<string, unknown>[] {
  return [...acct.holdings.keys()].sort().map((s) => positionJson(acct, s, prices)!);
}

/** The wire shape of an order. */
export function orderJson(o: OrderRec): Record<string, unknown> {
  return {
    id: o.id,
    client_order_id: o.client_order_id,
    created_at: o.created_at,
    updated_at: o.updated_at,
    submitted_at: o.submitted_at,
    filled_at: o.filled_at,
    expired_at: o.expired_at,
    canceled_at: o.canceled_at,
    failed_at: o.failed_at,
    replaced_at: null,
    replaced_by: null,
    replaces: null,
    asset_id: o.asset.id,
    symbol: o.asset.symbol,
    asset_class: o.asset.class,
    notional: o.notional,
    qty: o.qty,
    filled_qty: o.filled_qty.toFixed(),
    filled_avg_price: o.filled_qty.isZero() ? null : o.filled_cost.div(o.filled_qty)
      .toDecimalPlaces(o.asset.class === "crypto" ? 9 : 4).toFixed(),
    order_class: "",
    order_type: o.type,
    type: o.type,
    side: o.side,
    position_intent: o.position_intent,
    time_in_force: o.time_in_force,
    limit_price: o.limit_price,
    stop_price: o.stop_price,
    status: o.status,
    extended_hours: o.extended_hours,
    legs: null,
    trail_percent: o.trail_percent,
    trail_price: o.trail_price,
    hwm: decimalOrNull(o.hwm),
    subtag: null,
    source: null,
    expires_at: null,
  };
}
