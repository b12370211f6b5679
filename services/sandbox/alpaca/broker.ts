/**
 * The simulated Alpaca paper brokerage: accounts, positions, orders and fills, with Alpaca's
 * order-validation rules and exact decimal money. No I/O: the REST and stream layers call in,
 * and fills are reported through `onTradeUpdate` listeners.
 * @module
 */

import { recordFill } from "./activities.ts";
import { type AlpacaAsset, findAsset, stableId } from "./assets.ts";
import { D, type Dec, decimalOrNull, exact } from "./decimal.ts";
import { AlpacaError, invalid } from "./errors.ts";
import type { PriceBook } from "./prices.ts";
import * as shapes from "./shapes.ts";
import {
  type Account,
  type AccountState,
  buyingPower,
  isOpen,
  loadAccount,
  newAccount,
  type OrderRec,
  reservedSells,
  saveAccount,
} from "./state.ts";

const SIDES = new Set(["buy", "sell"]);
const TYPES = new Set(["market", "limit", "stop", "stop_limit", "trailing_stop"]);
const TIFS = new Set(["day", "gtc", "opg", "cls", "ioc", "fok"]);

/** Parses a positive decimal given as a string or a JSON number. */
function positive(name: string, v: unknown): Dec {
  if (typeof v !== "string" && typeof v !== "number") throw invalid(`invalid ${name}`);
  let d: Dec;
  try {
    d = new D(String(v).trim());
  } catch {
    throw invalid(`invalid ${name}`);
  }
  if (!d.isFinite()) throw invalid(`invalid ${name}`);
  if (d.lte(0)) throw invalid(`${name} must be > 0`);
  return d;
}

/** What a well-formed order asks for. */
interface Terms {
  asset: AlpacaAsset;
  side: "buy" | "sell";
  type: string;
  tif: string;
  qty: Dec | null;
  notional: Dec | null;
  limit: Dec | null;
  stop: Dec | null;
  trailPrice: Dec | null;
  trailPercent: Dec | null;
  extended: boolean;
  clientId: string;
}

/** Checks the order's shape (422 `40010001`, or 400 for a body that is no object). */
function terms(acct: Account, body: unknown): Terms {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new AlpacaError(400, 40010000, "request body format is invalid");
  }
  const b = body as Record<string, unknown>;
  const has = (k: string) => b[k] !== undefined && b[k] !== null && b[k] !== "";

  if (!has("symbol") || typeof b.symbol !== "string") throw invalid("symbol is required");
  const asset = findAsset(b.symbol);
  if (!asset) throw invalid(`asset "${b.symbol}" not found`);
  if (!asset.tradable) throw invalid(`asset ${asset.symbol} is not tradable`);
  if (!has("side") || !SIDES.has(String(b.side))) throw invalid("invalid side");
  const side = b.side as "buy" | "sell";
  if (!has("type") || !TYPES.has(String(b.type))) throw invalid("invalid order type");
  const type = String(b.type);
  if (!has("time_in_force") || !TIFS.has(String(b.time_in_force))) {
    throw invalid("invalid time_in_force");
  }
  const tif = String(b.time_in_force);
  if (has("order_class") && !["simple", ""].includes(String(b.order_class))) {
    throw invalid(`order_class ${String(b.order_class)} is not supported by the sandbox`);
  }

  if (has("qty") && has("notional")) throw invalid("only one of qty or notional is accepted");
  if (!has("qty") && !has("notional")) throw invalid("qty or notional is required");
  const qty = has("qty") ? positive("qty", b.qty) : null;
  const notional = has("notional") ? positive("notional", b.notional) : null;

  const isCrypto = asset.class === "crypto";
  if (isCrypto) {
    if (tif !== "gtc" && tif !== "ioc") throw invalid("invalid crypto time_in_force");
    if (type === "trailing_stop" || type === "stop") throw invalid("invalid crypto order type");
    if (qty && asset.min_order_size && qty.lt(asset.min_order_size)) {
      throw invalid(`qty must be >= ${asset.min_order_size}`);
    }
  }
  if (notional) {
    if (type !== "market" || (!isCrypto && tif !== "day")) {
      throw invalid(
        "notional orders are only supported for market orders with time_in_force=day",
      );
    }
    if (!isCrypto && notional.lt(1)) throw invalid("notional must be >= 1");
  }
  if (qty && !qty.isInteger() && !isCrypto) {
    if (!asset.fractionable) throw invalid(`asset ${asset.symbol} is not fractionable`);
    if (tif !== "day") throw invalid("fractional orders must be DAY orders");
  }

  const priceOf = (name: "limit_price" | "stop_price" | "trail_price"): Dec => {
    const p = positive(name, b[name]);
    if (!isCrypto) {
      const maxDp = p.gte(1) ? 2 : 4;
      if (p.decimalPlaces() > maxDp) {
        throw invalid("sub-penny increment does not fulfill minimum pricing criteria");
      }
    }
    return p;
  };
  let limit: Dec | null = null;
  let stop: Dec | null = null;
  let trailPrice: Dec | null = null;
  let trailPercent: Dec | null = null;
  if (type === "limit" || type === "stop_limit") {
    if (!has("limit_price")) throw invalid("limit_price is required");
    limit = priceOf("limit_price");
  } else if (has("limit_price")) {
    throw invalid(`limit_price must not be set for ${type} orders`);
  }
  if (type === "stop" || type === "stop_limit") {
    if (!has("stop_price")) throw invalid("stop_price is required");
    stop = priceOf("stop_price");
  } else if (has("stop_price")) {
    throw invalid(`stop_price must not be set for ${type} orders`);
  }
  if (type === "trailing_stop") {
    if (has("trail_price") === has("trail_percent")) {
      throw invalid("exactly one of trail_price or trail_percent is required");
    }
    if (has("trail_price")) trailPrice = priceOf("trail_price");
    else trailPercent = positive("trail_percent", b.trail_percent);
    if (tif !== "day" && tif !== "gtc") throw invalid("trailing_stop orders must be day or gtc");
  }
  const extended = b.extended_hours === true;
  if (extended && (type !== "limit" || (tif !== "day" && tif !== "gtc"))) {
    throw invalid("extended hours order must be DAY limit orders");
  }

  let clientId: string;
  if (has("client_order_id")) {
    if (typeof b.client_order_id !== "string") throw invalid("invalid client_order_id");
    clientId = b.client_order_id;
    if (clientId.length > 128) {
      throw invalid("client_order_id must be no more than 128 characters");
    }
    if (acct.byClientId.has(clientId)) throw invalid("client_order_id must be unique");
  } else {
    clientId = crypto.randomUUID();
  }
  return {
    asset,
    side,
    type,
    tif,
    qty,
    notional,
    limit,
    stop,
    trailPrice,
    trailPercent,
    extended,
    clientId,
  };
}

/**
 * What the order holds back (cash for a buy, shares for a sell), or 403 `40310000` when the
 * account cannot cover it; checked after the shape like Alpaca does.
 */
function reserve(acct: Account, t: Terms, market: Dec): Dec {
  const { asset, qty, notional } = t;
  if (t.side === "buy") {
    const unit = t.limit ?? t.stop ?? market;
    const reserved = notional ?? qty!.mul(unit);
    const bp = buyingPower(acct);
    if (reserved.gt(bp)) {
      throw new AlpacaError(403, 40310000, "insufficient buying power", {
        buying_power: bp.toFixed(),
        cost_basis: reserved.toFixed(),
      });
    }
    return reserved;
  }
  const h = acct.holdings.get(asset.symbol);
  const available = h ? h.qty.minus(reservedSells(acct, asset.symbol)) : new D(0);
  const wanted = qty ?? notional!.div(market).toDecimalPlaces(9, D.ROUND_DOWN);
  if (!h) {
    // No position: a sell would open a short, and this paper account cannot short.
    throw new AlpacaError(403, 40310000, `account is not allowed to short`);
  }
  if (wanted.gt(available)) {
    throw new AlpacaError(
      403,
      40310000,
      `insufficient qty available for order (requested: ${wanted.toFixed()}, available: ${available.toFixed()})`,
      {
        available: available.toFixed(),
        existing_qty: h.qty.toFixed(),
        held_for_orders: h.qty.minus(available).toFixed(),
        symbol: asset.symbol,
      },
    );
  }
  return wanted;
}

/**
 * Validates an order for `acct` and returns it as accepted (`status: "new"`), not yet booked;
 * throws `AlpacaError` like Alpaca.
 */
export function newOrder(
  acct: Account,
  body: unknown,
  prices: PriceBook,
  now: () => number,
): OrderRec {
  const t = terms(acct, body);
  const market = exact(prices.price(t.asset.symbol));
  const reserved = reserve(acct, t, market);
  const ts = new Date(now()).toISOString();
  return {
    id: crypto.randomUUID(),
    client_order_id: t.clientId,
    created_at: ts,
    updated_at: ts,
    submitted_at: ts,
    filled_at: null,
    expired_at: null,
    canceled_at: null,
    failed_at: null,
    asset: t.asset,
    notional: t.notional ? t.notional.toFixed() : null,
    qty: t.qty ? t.qty.toFixed() : null,
    filled_qty: new D(0),
    filled_cost: new D(0),
    type: t.type,
    side: t.side,
    time_in_force: t.tif,
    limit_price: decimalOrNull(t.limit),
    stop_price: decimalOrNull(t.stop),
    trail_price: decimalOrNull(t.trailPrice),
    trail_percent: decimalOrNull(t.trailPercent),
    hwm: t.type === "trailing_stop" ? market : null,
    triggered: false,
    status: "new",
    extended_hours: t.extended,
    position_intent: t.side === "buy" ? "buy_to_open" : "sell_to_close",
    reserved,
  };
}

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

/** One `trade_updates` payload (the `data` of the stream message). */
export interface TradeUpdate {
  event: string;
  execution_id: string;
  order: Record<string, unknown>;
  timestamp: string;
  price?: string;
  qty?: string;
  position_qty?: string;
}

/** Options for the broker. */
export interface BrokerOptions {
  prices: PriceBook;
  now: () => number;
  /** Delay between acceptance and a market fill (ms). */
  fillDelayMs: number;
}

/** All accounts and their orders. */
export class Broker {
  readonly accounts = new Map<string, Account>(); // by key id
  #listeners = new Set<(keyId: string, u: TradeUpdate) => void>();
  #timers = new Set<ReturnType<typeof setTimeout>>();
  #seq = 0;
  #closed = false;

  constructor(readonly opts: BrokerOptions) {}

  #iso(): string {
    return new Date(this.opts.now()).toISOString();
  }

  #price(symbol: string): Dec {
    return exact(this.opts.prices.price(symbol));
  }

  /** Subscribes to trade updates for every account; returns an unsubscribe function. */
  onTradeUpdate(fn: (keyId: string, u: TradeUpdate) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  #emit(acct: Account, event: string, o: OrderRec, fill?: { price: Dec; qty: Dec }): void {
    const u: TradeUpdate = {
      event,
      execution_id: stableId(`exec:${o.id}:${++this.#seq}`),
      order: shapes.orderJson(o),
      timestamp: o.updated_at,
    };
    if (fill) {
      u.price = fill.price.toFixed();
      u.qty = fill.qty.toFixed();
      const h = acct.holdings.get(o.asset.symbol);
      u.position_qty = (h ? h.qty : new D(0)).toFixed();
    }
    for (const l of this.#listeners) {
      try {
        l(acct.key_id, u);
      } catch { /* a broken listener must not break the broker */ }
    }
  }

  #later(ms: number, fn: () => void): void {
    if (this.#closed) return;
    const t = setTimeout(() => {
      this.#timers.delete(t);
      if (!this.#closed) fn();
    }, ms);
    this.#timers.add(t);
  }

  /** Stops pending fills. */
  close(): void {
    this.#closed = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    this.#listeners.clear();
  }

  /** Every account as plain JSON (exact decimal strings). */
  snapshot(): AccountState[] {
    return [...this.accounts.values()].map(saveAccount);
  }

  /**
   * Replaces every account with `saved` (from {@link snapshot}); throws if it is malformed.
   * Orders still open are checked again, as after their acceptance.
   */
  restore(saved: AccountState[]): void {
    // Everything is parsed before anything is replaced, so a bad file leaves the broker as it was.
    const accounts = saved.map(loadAccount);
    this.accounts.clear();
    for (const a of accounts) {
      this.accounts.set(a.key_id, a);
      for (const o of a.orders) {
        if (isOpen(o)) this.#later(0, () => this.#evaluate(a, o, true));
      }
    }
  }

  /** Creates an empty account with `cash` (see {@link newAccount} for its id and number). */
  createAccount(
    init: { keyId: string; secret: string; cash: string; number?: string },
  ): Account {
    const acct = newAccount(init, this.#iso());
    this.accounts.set(init.keyId, acct);
    return acct;
  }

  /** Authenticates a key pair; `undefined` when unknown, wrong or broken. */
  authenticate(keyId: string | null | undefined, secret: string | null | undefined) {
    if (!keyId || !secret) return undefined;
    const acct = this.accounts.get(keyId);
    if (!acct || acct.secret !== secret || acct.broken) return undefined;
    return acct;
  }

  /** `GET /v2/account`, valued at current prices. */
  accountJson(acct: Account): Record<string, unknown> {
    return shapes.accountJson(acct, this.opts.prices, this.opts.now());
  }

  /** One position at the current price; `undefined` when not held. */
  positionJson(acct: Account, symbol: string): Record<string, unknown> | undefined {
    return shapes.positionJson(acct, symbol, this.opts.prices);
  }

  /** `GET /v2/positions` at current prices. */
  positionsJson(acct: Account): Record<string, unknown>[] {
    return shapes.positionsJson(acct, this.opts.prices);
  }

  /** Validates and accepts an order (`POST /v2/orders`); throws `AlpacaError` like Alpaca. */
  placeOrder(acct: Account, body: unknown): OrderRec {
    const o = newOrder(acct, body, this.opts.prices, this.opts.now);
    acct.orders.push(o);
    acct.byClientId.set(o.client_order_id, o);
    // "new" goes out now so it always precedes a cancel; trading waits for the next turn.
    this.#emit(acct, "new", o);
    this.#later(0, () => this.#evaluate(acct, o, true));
    return o;
  }

  /** Checks an open order against the current price; `first` is the check right after acceptance. */
  #evaluate(acct: Account, o: OrderRec, first: boolean): void {
    if (!isOpen(o)) return;
    if (executable(o, this.#price(o.asset.symbol))) {
      if (first && o.type === "market") {
        this.#later(this.opts.fillDelayMs, () => this.#fill(acct, o));
      } else this.#fill(acct, o);
      return;
    }
    if (first && (o.time_in_force === "ioc" || o.time_in_force === "fok")) {
      this.#later(this.opts.fillDelayMs, () => this.#cancel(acct, o));
    }
  }

  /** Fills at the current price; a partial fill schedules the rest after the fill delay. */
  #fill(acct: Account, o: OrderRec): void {
    if (!isOpen(o)) return;
    const price = this.#price(o.asset.symbol);
    const filled = fillAt(acct, o, price, this.opts.now);
    if (!filled) return;
    this.#emit(acct, filled.done ? "fill" : "partial_fill", o, { price, qty: filled.qty });
    if (!filled.done) this.#later(this.opts.fillDelayMs, () => this.#fill(acct, o));
  }

  #cancel(acct: Account, o: OrderRec): void {
    if (!isOpen(o)) return;
    const ts = this.#iso();
    o.status = "canceled";
    o.updated_at = ts;
    o.canceled_at = ts;
    o.reserved = new D(0);
    this.#emit(acct, "canceled", o);
  }

  /** Re-checks every open order on `symbol` after its price moved. */
  onPrice(symbol: string): void {
    for (const acct of this.accounts.values()) {
      for (const o of acct.orders) {
        if (o.asset.symbol === symbol.toUpperCase() && isOpen(o) && o.type !== "market") {
          this.#evaluate(acct, o, false);
        }
      }
    }
  }

  /** Symbols with open non-market orders (the price ticker keeps these moving). */
  watchedSymbols(): Set<string> {
    const out = new Set<string>();
    for (const acct of this.accounts.values()) {
      for (const o of acct.orders) {
        if (isOpen(o) && o.type !== "market") out.add(o.asset.symbol);
      }
    }
    return out;
  }

  /** `DELETE /v2/orders/{id}`: 404 unknown, 422 not cancelable. */
  cancelOrder(acct: Account, id: string): void {
    const o = acct.orders.find((x) => x.id === id);
    if (!o) throw new AlpacaError(404, 40410000, "order not found");
    if (!isOpen(o)) {
      throw new AlpacaError(422, 42210000, `order is not cancelable (status: ${o.status})`);
    }
    this.#cancel(acct, o);
  }

  /** `DELETE /v2/orders`: cancels every open order. */
  cancelAll(acct: Account): { id: string; status: number; body: Record<string, unknown> }[] {
    const out = [];
    for (const o of acct.orders) {
      if (!isOpen(o)) continue;
      this.#cancel(acct, o);
      out.push({ id: o.id, status: 200, body: shapes.orderJson(o) });
    }
    return out;
  }
}
