/**
 * Order matching and fills: when an open order can trade at the current price (limit, stop and
 * trailing-stop rules), and what a fill does to the account's cash, holding and activities.
 * Timing (fill delays, re-checks on each tick) is the broker's.
 * @module
 */

import { recordFill } from "./activities.ts";
import { D, type Dec } from "./decimal.ts";
import type { Account, OrderRec } from "./state.ts";

/**
 * Whether the order can trade at `price` now. Advances the order's own trigger state: a stop
 * stays triggered once reached, and a trailing stop's high-water mark follows the price.
 */
export function executable(o: OrderRec, price: Dec): boolean {
  const buy = o.side === "buy";
  if (o.type === "stop" || o.type === "stop_limit") {
    if (!o.triggered) {
      const stop = new D(o.stop_price!);
      if (buy ? price.gte(stop) : price.lte(stop)) o.triggered = true;
      else return false;
    }
  }
  if (o.type === "trailing_stop") {
    o.hwm = o.hwm === null ? price : buy ? D.min(o.hwm, price) : D.max(o.hwm, price);
    const trail = o.trail_price
      ? new D(o.trail_price)
      : o.hwm.mul(new D(o.trail_percent!).div(100));
    const trigger = buy ? o.hwm.plus(trail) : o.hwm.minus(trail);
    if (!(buy ? price.gte(trigger) : price.lte(trigger))) return false;
  }
  if (o.limit_price !== null) {
    const limit = new D(o.limit_price);
    return buy ? price.lte(limit) : price.gte(limit);
  }
  return true;
}

/** What one call of {@link fillAt} filled. */
export interface Fill {
  qty: Dec;
  /** Whether the order is now filled in full. */
  done: boolean;
}

/**
 * Fills (part of) an open order at `price`: moves cash and shares, updates the order and records
 * a `FILL` activity; `null` when nothing was left to fill. Market orders of 100 shares or more
 * fill in two halves (a `partial_fill` then a `fill`) so clients see both events.
 */
export function fillAt(acct: Account, o: OrderRec, price: Dec, now: () => number): Fill | null {
  const asset = o.asset;
  // Notional orders buy (or sell) as many shares as the amount covers, to 9 places.
  let total = o.qty !== null
    ? new D(o.qty)
    : new D(o.notional!).div(price).toDecimalPlaces(9, D.ROUND_DOWN);
  if (o.side === "sell") {
    // A sell never sells more than is held (a notional sell can round above it).
    const held = acct.holdings.get(asset.symbol)?.qty ?? new D(0);
    if (total.minus(o.filled_qty).gt(held)) total = o.filled_qty.plus(held);
  }
  let part = total.minus(o.filled_qty);
  const split = o.type === "market" && o.filled_qty.isZero() && total.gte(100) &&
    total.isInteger();
  if (split) part = total.div(2).floor();
  if (part.lte(0)) return null;
  const cost = part.mul(price);

  const h = acct.holdings.get(asset.symbol) ?? { qty: new D(0), cost: new D(0) };
  if (o.side === "buy") {
    acct.cash = acct.cash.minus(cost);
    h.qty = h.qty.plus(part);
    h.cost = h.cost.plus(cost);
    acct.holdings.set(asset.symbol, h);
  } else {
    const sold = D.min(part, h.qty);
    acct.cash = acct.cash.plus(sold.mul(price));
    const newQty = h.qty.minus(sold);
    if (newQty.lte(0)) acct.holdings.delete(asset.symbol);
    else {
      // A sale keeps the average entry price.
      h.cost = h.cost.mul(newQty).div(h.qty);
      h.qty = newQty;
    }
  }
  o.filled_qty = o.filled_qty.plus(part);
  o.filled_cost = o.filled_cost.plus(cost);
  const ts = new Date(now()).toISOString();
  o.updated_at = ts;
  const done = o.filled_qty.gte(total);
  if (o.side === "buy") {
    o.reserved = done ? new D(0) : D.max(new D(0), o.reserved.minus(cost));
  } else {
    o.reserved = done ? new D(0) : D.max(new D(0), o.reserved.minus(part));
  }
  o.status = done ? "filled" : "partially_filled";
  if (done) o.filled_at = ts;
  recordFill(acct, now(), {
    transaction_time: ts,
    type: done ? "fill" : "partial_fill",
    price: price.toFixed(),
    qty: part.toFixed(),
    side: o.side,
    symbol: asset.symbol,
    leaves_qty: total.minus(o.filled_qty).toFixed(),
    order_id: o.id,
    cum_qty: o.filled_qty.toFixed(),
    order_status: done ? "filled" : "partially_filled",
  });
  return { qty: part, done };
}
