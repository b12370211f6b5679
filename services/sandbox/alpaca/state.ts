/**
 * The Alpaca broker's state model: paper accounts with their cash, holdings, orders and
 * activities; what open orders hold back from buying power and from sellable shares; and the
 * persisted form, {@link AccountState}.
 * @module
 */

import { type AlpacaAsset, findAsset, stableId } from "./assets.ts";
import { D, type Dec, decimal, decimalOrNull } from "./decimal.ts";

/** A position: the average entry price is `cost / qty`. */
export interface Holding {
  qty: Dec;
  cost: Dec; // total cost basis
}

/** An order as kept in memory; `orderJson` renders Alpaca's wire shape. */
export interface OrderRec {
  id: string;
  client_order_id: string;
  created_at: string;
  updated_at: string;
  submitted_at: string;
  filled_at: string | null;
  expired_at: string | null;
  canceled_at: string | null;
  failed_at: string | null;
  asset: AlpacaAsset;
  notional: string | null;
  qty: string | null;
  filled_qty: Dec;
  filled_cost: Dec;
  type: string;
  side: "buy" | "sell";
  time_in_force: string;
  limit_price: string | null;
  stop_price: string | null;
  trail_price: string | null;
  trail_percent: string | null;
  hwm: Dec | null;
  triggered: boolean;
  status: string;
  extended_hours: boolean;
  position_intent: string;
  /** Cash held back for an open buy, or shares held back for an open sell. */
  reserved: Dec;
}

/** A paper account with its keys. */
export interface Account {
  id: string;
  account_number: string;
  key_id: string;
  secret: string;
  created_at: string;
  cash: Dec;
  holdings: Map<string, Holding>; // keyed by canonical asset symbol
  orders: OrderRec[];
  byClientId: Map<string, OrderRec>;
  broken: boolean;
  rate: { window: number; count: number };
  /** Account activities, oldest first (`GET /v2/account/activities`). */
  activities: Record<string, unknown>[];
}

const OPEN = new Set([
  "new",
  "partially_filled",
  "accepted",
  "pending_new",
  "held",
  "accepted_for_bidding",
]);

/** Whether an order can still fill or be canceled. */
export function isOpen(o: OrderRec): boolean {
  return OPEN.has(o.status);
}

/** A new empty account; its id comes from the key id, and so does its number unless given. */
export function newAccount(
  init: { keyId: string; secret: string; cash: string; number?: string },
  createdAt: string,
): Account {
  return {
    id: stableId(`account:${init.keyId}`),
    account_number: init.number ?? `PA${init.keyId.slice(-10).toUpperCase()}`,
    key_id: init.keyId,
    secret: init.secret,
    created_at: createdAt,
    cash: new D(init.cash),
    holdings: new Map(),
    orders: [],
    byClientId: new Map(),
    broken: false,
    rate: { window: 0, count: 0 },
    activities: [],
  };
}

/** Sets a holding outright (admin); `"0"` removes it. Cost basis is qty × last-day price. */
export function setHolding(acct: Account, symbol: string, quantity: string): void {
  const asset = findAsset(symbol);
  if (!asset) throw new Error(`unknown Alpaca symbol ${symbol}`);
  const qty = decimal(quantity);
  if (qty.isNegative()) throw new Error("quantity must not be negative");
  if (qty.isZero()) {
    acct.holdings.delete(asset.symbol);
    return;
  }
  acct.holdings.set(asset.symbol, { qty, cost: qty.mul(asset.basePrice) });
}

/** Sets a holding with an explicit average entry price (demo data). */
export function seedHolding(acct: Account, symbol: string, qty: string, avgPrice: string): void {
  const asset = findAsset(symbol)!;
  acct.holdings.set(asset.symbol, { qty: new D(qty), cost: new D(qty).mul(avgPrice) });
}

/** Shares of `symbol` that open sells hold back. */
export function reservedSells(acct: Account, symbol: string): Dec {
  let sum = new D(0);
  for (const o of acct.orders) {
    if (isOpen(o) && o.side === "sell" && o.asset.symbol === symbol) sum = sum.plus(o.reserved);
  }
  return sum;
}

/** Buying power of a cash (multiplier 1) account: cash minus what open buys hold back. */
export function buyingPower(acct: Account): Dec {
  let reserved = new D(0);
  for (const o of acct.orders) {
    if (isOpen(o) && o.side === "buy") reserved = reserved.plus(o.reserved);
  }
  const bp = acct.cash.minus(reserved);
  return bp.isNegative() ? new D(0) : bp;
}

/** An order as persisted: decimals as strings, the asset by symbol. */
export type OrderState =
  & Omit<OrderRec, "asset" | "filled_qty" | "filled_cost" | "hwm" | "reserved">
  & {
    asset: string;
    filled_qty: string;
    filled_cost: string;
    hwm: string | null;
    reserved: string;
  };

/** An account as persisted (rate-limit windows are left out). */
export interface AccountState {
  id: string;
  account_number: string;
  key_id: string;
  secret: string;
  created_at: string;
  cash: string;
  /** `[asset symbol, quantity, total cost]`. */
  holdings: [string, string, string][];
  orders: OrderState[];
  broken: boolean;
  activities: Record<string, unknown>[];
}

/** An account as plain JSON (exact decimal strings). */
export function saveAccount(a: Account): AccountState {
  return {
    id: a.id,
    account_number: a.account_number,
    key_id: a.key_id,
    secret: a.secret,
    created_at: a.created_at,
    cash: a.cash.toFixed(),
    holdings: [...a.holdings].map(([s, h]) => [s, h.qty.toFixed(), h.cost.toFixed()]),
    orders: a.orders.map((o) => ({
      ...o,
      asset: o.asset.symbol,
      filled_qty: o.filled_qty.toFixed(),
      filled_cost: o.filled_cost.toFixed(),
      hwm: decimalOrNull(o.hwm),
      reserved: o.reserved.toFixed(),
    })),
    broken: a.broken,
    activities: a.activities,
  };
}

/** An account from {@link saveAccount}'s JSON; throws if it is malformed. */
export function loadAccount(s: AccountState): Account {
  const orders = s.orders.map((o): OrderRec => {
    const asset = findAsset(o.asset);
    if (!asset) throw new Error(`saved Alpaca state: unknown asset ${o.asset}`);
    return {
      ...o,
      asset,
      filled_qty: decimal(o.filled_qty),
      filled_cost: decimal(o.filled_cost),
      hwm: o.hwm === null ? null : decimal(o.hwm),
      reserved: decimal(o.reserved),
    };
  });
  return {
    id: s.id,
    account_number: s.account_number,
    key_id: s.key_id,
    secret: s.secret,
    created_at: s.created_at,
    cash: decimal(s.cash),
    holdings: new Map(
      s.holdings.map(([sym, qty, cost]) => [sym, { qty: decimal(qty), cost: decimal(cost) }]),
    ),
    orders,
    byClientId: new Map(orders.map((o) => [o.client_order_id, o])),
    broken: s.broken === true,
    rate: { window: 0, count: 0 },
    activities: [...s.activities],
  };
}
