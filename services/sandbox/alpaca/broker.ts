/**
 * The simulated Alpaca paper brokerage: accounts, positions, orders and fills, with Alpaca's
 * order-validation rules and exact decimal money. No I/O: the REST and stream layers call in,
 * and fills are reported through `onTradeUpdate` listeners.
 * @module
 */

import { Decimal } from "decimal.js";
import {
  type AlpacaAsset,
  assetJson,
  ASSETS,
  findAsset,
  positionSymbol,
  stableId,
} from "./assets.ts";
import type { PriceBook } from "./prices.ts";

// Enough digits that averaging cost basis never loses anything visible.
const D = Decimal.clone({ precision: 60, toExpNeg: -40, toExpPos: 40 });
/** The exact decimal type the broker computes with. */
export type Dec = InstanceType<typeof D>;

/** Parses a decimal string (throws on garbage). */
export function decimal(v: string): Dec {
  const d = new D(v.trim());
  if (!d.isFinite()) throw new Error(`not a number: ${v}`);
  return d;
}

/** An error answered as `{code, message, ...extra}` with an HTTP status. */
export class AlpacaError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
  /** The wire body. */
  body(): Record<string, unknown> {
    return { code: this.code, message: this.message, ...this.extra };
  }
}

const invalid = (message: string) => new AlpacaError(422, 40010001, message);

interface Holding {
  qty: Dec;
  cost: Dec; // total cost basis
}

/** An order as kept in memory; `json()` renders Alpaca's wire shape. */
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
const SIDES = new Set(["buy", "sell"]);
const TYPES = new Set(["market", "limit", "stop", "stop_limit", "trailing_stop"]);
const TIFS = new Set(["day", "gtc", "opg", "cls", "ioc", "fok"]);

function str(v: Dec | null): string | null {
  return v === null ? null : v.toFixed();
}

/** Alpaca's sortable activity id: `YYYYMMDDhhmmssmmm::<uuid>`. */
function activityId(ms: number): string {
  const stamp = new Date(ms).toISOString().replace(/[-:T.Z]/g, "");
  return `${stamp}::${crypto.randomUUID()}`;
}

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

  /** Subscribes to trade updates for every account; returns an unsubscribe function. */
  onTradeUpdate(fn: (keyId: string, u: TradeUpdate) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  #emit(acct: Account, event: string, o: OrderRec, fill?: { price: Dec; qty: Dec }): void {
    const u: TradeUpdate = {
      event,
      execution_id: stableId(`exec:${o.id}:${++this.#seq}`),
      order: this.orderJson(o),
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
    return [...this.accounts.values()].map((a) => ({
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
        hwm: str(o.hwm),
        reserved: o.reserved.toFixed(),
      })),
      broken: a.broken,
      activities: a.activities,
    }));
  }

  /**
   * Replaces every account with `saved` (from {@link snapshot}); throws if it is malformed.
   * Orders still open are checked again, as after their acceptance.
   */
  restore(saved: AccountState[]): void {
    const accounts = saved.map((s): Account => {
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
    });
    this.accounts.clear();
    for (const a of accounts) {
      this.accounts.set(a.key_id, a);
      for (const o of a.orders) {
        if (OPEN.has(o.status)) this.#later(0, () => this.#evaluate(a, o, true));
      }
    }
  }

  /** Creates an account; keys and number are derived from `seed` when given. */
  createAccount(
    init: { keyId: string; secret: string; cash: string; number?: string },
  ): Account {
    const acct: Account = {
      id: stableId(`account:${init.keyId}`),
      account_number: init.number ?? `PA${init.keyId.slice(-10).toUpperCase()}`,
      key_id: init.keyId,
      secret: init.secret,
      created_at: this.#iso(),
      cash: new D(init.cash),
      holdings: new Map(),
      orders: [],
      byClientId: new Map(),
      broken: false,
      rate: { window: 0, count: 0 },
      activities: [],
    };
    this.accounts.set(init.keyId, acct);
    return acct;
  }

  /** Sets a holding outright (admin); `"0"` removes it. Cost basis is qty × last-day price. */
  setHolding(keyId: string, symbol: string, quantity: string): void {
    const acct = this.accounts.get(keyId);
    if (!acct) throw new Error(`unknown Alpaca key ${keyId}`);
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
  seedHolding(acct: Account, symbol: string, qty: string, avgPrice: string): void {
    const asset = findAsset(symbol)!;
    acct.holdings.set(asset.symbol, { qty: new D(qty), cost: new D(qty).mul(avgPrice) });
  }

  /**
   * Seeds a history that explains the current book: one cash deposit (`CSD`) covering the cash and
   * every holding's cost, then a buy `FILL` per holding at its average price, on fixed past dates.
   */
  seedHistory(acct: Account, startMs: number): void {
    let deposit = acct.cash;
    for (const h of acct.holdings.values()) deposit = deposit.plus(h.cost);
    const day = (n: number) => new Date(startMs + n * 86_400_000);
    acct.activities.push({
      id: activityId(day(0).getTime()),
      activity_type: "CSD",
      date: day(0).toISOString().slice(0, 10),
      net_amount: deposit.toFixed(),
      description: "Cash deposit",
      status: "executed",
    });
    let n = 1;
    for (const [symbol, h] of acct.holdings) {
      const t = day(n++).getTime() + 15 * 3_600_000; // 15:00 UTC, inside market hours
      acct.activities.push({
        id: activityId(t),
        activity_type: "FILL",
        transaction_time: new Date(t).toISOString(),
        type: "fill",
        price: h.cost.div(h.qty).toFixed(),
        qty: h.qty.toFixed(),
        side: "buy",
        symbol,
        leaves_qty: "0",
        order_id: stableId(`seed-order:${acct.key_id}:${symbol}`),
        cum_qty: h.qty.toFixed(),
        order_status: "filled",
      });
    }
  }

  /** `GET /v2/account/activities[/{type}]` with Alpaca's filters and page tokens. */
  listActivities(acct: Account, q: URLSearchParams, type?: string): Record<string, unknown>[] {
    const types = type
      ? new Set([type.toUpperCase()])
      : q.get("activity_types")
      ? new Set(q.get("activity_types")!.split(",").map((t) => t.trim().toUpperCase()))
      : null;
    const direction = q.get("direction") ?? "desc";
    if (direction !== "asc" && direction !== "desc") throw invalid("invalid direction");
    const sizeRaw = q.get("page_size");
    let size = 100;
    if (sizeRaw !== null) {
      size = Number(sizeRaw);
      if (!Number.isInteger(size) || size < 1) throw invalid("invalid page_size");
      size = Math.min(size, 100);
    }
    const time = (name: string): number | null => {
      const v = q.get(name);
      if (!v) return null;
      const t = Date.parse(v);
      if (Number.isNaN(t)) throw invalid(`invalid ${name}`);
      return t;
    };
    const after = time("after");
    const until = time("until");
    const date = q.get("date");
    const when = (a: Record<string, unknown>) =>
      Date.parse(String(a.transaction_time ?? `${a.date}T00:00:00Z`));
    let list = acct.activities.filter((a) => {
      if (types && !types.has(String(a.activity_type))) return false;
      const t = when(a);
      if (after !== null && t <= after) return false;
      if (until !== null && t >= until) return false;
      if (date && new Date(t).toISOString().slice(0, 10) !== date.slice(0, 10)) return false;
      return true;
    });
    list.sort((a, b) => String(a.id) < String(b.id) ? -1 : String(a.id) > String(b.id) ? 1 : 0);
    if (direction === "desc") list.reverse();
    const token = q.get("page_token");
    if (token) {
      const i = list.findIndex((a) => a.id === token);
      list = i >= 0 ? list.slice(i + 1) : [];
    }
    return list.slice(0, size);
  }

  /** Authenticates a key pair; `undefined` when unknown, wrong or broken. */
  authenticate(keyId: string | null | undefined, secret: string | null | undefined) {
    if (!keyId || !secret) return undefined;
    const acct = this.accounts.get(keyId);
    if (!acct || acct.secret !== secret || acct.broken) return undefined;
    return acct;
  }

  // ---------- views ----------

  #reservedBuys(acct: Account): Dec {
    let sum = new D(0);
    for (const o of acct.orders) {
      if (OPEN.has(o.status) && o.side === "buy") sum = sum.plus(o.reserved);
    }
    return sum;
  }

  #reservedSells(acct: Account, symbol: string): Dec {
    let sum = new D(0);
    for (const o of acct.orders) {
      if (OPEN.has(o.status) && o.side === "sell" && o.asset.symbol === symbol) {
        sum = sum.plus(o.reserved);
      }
    }
    return sum;
  }

  /** Buying power of a cash (multiplier 1) account: cash minus what open buys hold back. */
  buyingPower(acct: Account): Dec {
    const bp = acct.cash.minus(this.#reservedBuys(acct));
    return bp.isNegative() ? new D(0) : bp;
  }

  /** `GET /v2/account`. */
  accountJson(acct: Account): Record<string, unknown> {
    let lmv = new D(0);
    let lastLmv = new D(0);
    for (const [symbol, h] of acct.holdings) {
      lmv = lmv.plus(h.qty.mul(this.opts.prices.price(symbol).toString()));
      lastLmv = lastLmv.plus(h.qty.mul(this.opts.prices.lastDay(symbol).toString()));
    }
    const equity = acct.cash.plus(lmv);
    const bp = this.buyingPower(acct).toFixed();
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
      balance_asof: new Date(this.opts.now() - 86_400_000).toISOString().slice(0, 10),
      crypto_tier: 1,
      intraday_adjustments: "0",
      pending_reg_taf_fees: "0",
    };
  }

  /** One position in Alpaca's shape (all numbers as decimal strings). */
  positionJson(acct: Account, symbol: string): Record<string, unknown> | undefined {
    const h = acct.holdings.get(symbol);
    const asset = ASSETS.get(symbol);
    if (!h || !asset) return undefined;
    const price = new D(this.opts.prices.price(symbol).toString());
    const last = new D(this.opts.prices.lastDay(symbol).toString());
    const mv = h.qty.mul(price);
    const pl = mv.minus(h.cost);
    const intradayPl = h.qty.mul(price.minus(last));
    const lastMv = h.qty.mul(last);
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
      qty_available: h.qty.minus(this.#reservedSells(acct, symbol)).toFixed(),
    };
  }

  /** `GET /v2/positions`, sorted by symbol like Alpaca. */
  positionsJson(acct: Account): Record<string, unknown>[] {
    return [...acct.holdings.keys()].sort().map((s) => this.positionJson(acct, s)!);
  }

  /** The wire shape of an order. */
  orderJson(o: OrderRec): Record<string, unknown> {
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
      hwm: str(o.hwm),
      subtag: null,
      source: null,
      expires_at: null,
    };
  }

  // ---------- orders ----------

  /** Validates and accepts an order (`POST /v2/orders`); throws `AlpacaError` like Alpaca. */
  placeOrder(acct: Account, body: unknown): OrderRec {
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

    // Funds and shares, checked after the shape like Alpaca does.
    const market = new D(this.opts.prices.price(asset.symbol).toString());
    let reserved: Dec;
    if (side === "buy") {
      const unit = limit ?? stop ?? market;
      reserved = notional ?? qty!.mul(unit);
      const bp = this.buyingPower(acct);
      if (reserved.gt(bp)) {
        throw new AlpacaError(403, 40310000, "insufficient buying power", {
          buying_power: bp.toFixed(),
          cost_basis: reserved.toFixed(),
        });
      }
    } else {
      const h = acct.holdings.get(asset.symbol);
      const available = h ? h.qty.minus(this.#reservedSells(acct, asset.symbol)) : new D(0);
      const wanted = qty ?? notional!.div(market).toDecimalPlaces(9, Decimal.ROUND_DOWN);
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
      reserved = wanted;
    }

    const ts = this.#iso();
    const o: OrderRec = {
      id: crypto.randomUUID(),
      client_order_id: clientId,
      created_at: ts,
      updated_at: ts,
      submitted_at: ts,
      filled_at: null,
      expired_at: null,
      canceled_at: null,
      failed_at: null,
      asset,
      notional: notional ? notional.toFixed() : null,
      qty: qty ? qty.toFixed() : null,
      filled_qty: new D(0),
      filled_cost: new D(0),
      type,
      side,
      time_in_force: tif,
      limit_price: str(limit),
      stop_price: str(stop),
      trail_price: str(trailPrice),
      trail_percent: str(trailPercent),
      hwm: type === "trailing_stop" ? market : null,
      triggered: false,
      status: "new",
      extended_hours: extended,
      position_intent: side === "buy" ? "buy_to_open" : "sell_to_close",
      reserved,
    };
    acct.orders.push(o);
    acct.byClientId.set(clientId, o);
    // "new" goes out now so it always precedes a cancel; trading waits for the next turn.
    this.#emit(acct, "new", o);
    this.#later(0, () => this.#evaluate(acct, o, true));
    return o;
  }

  /** Whether the order can trade at `price` now, and at which price. */
  #executable(o: OrderRec, price: Dec): boolean {
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

  /** Checks an open order against the current price; `first` is the check right after acceptance. */
  #evaluate(acct: Account, o: OrderRec, first: boolean): void {
    if (!OPEN.has(o.status)) return;
    const price = new D(this.opts.prices.price(o.asset.symbol).toString());
    if (this.#executable(o, price)) {
      if (first && o.type === "market") {
        this.#later(this.opts.fillDelayMs, () => this.#fill(acct, o));
      } else this.#fill(acct, o);
      return;
    }
    if (first && (o.time_in_force === "ioc" || o.time_in_force === "fok")) {
      this.#later(this.opts.fillDelayMs, () => this.#cancel(acct, o, "canceled"));
    }
  }

  /**
   * Fills an order at the current price. Market orders of 100 shares or more fill in two halves
   * (a `partial_fill` then a `fill`) so clients see both events.
   */
  #fill(acct: Account, o: OrderRec): void {
    if (!OPEN.has(o.status)) return;
    const asset = o.asset;
    const price = new D(this.opts.prices.price(asset.symbol).toString());
    // Notional orders buy (or sell) as many shares as the amount covers, to 9 places.
    let total = o.qty !== null
      ? new D(o.qty)
      : new D(o.notional!).div(price).toDecimalPlaces(9, Decimal.ROUND_DOWN);
    if (o.side === "sell") {
      // A sell never sells more than is held (a notional sell can round above it).
      const held = acct.holdings.get(asset.symbol)?.qty ?? new D(0);
      if (total.minus(o.filled_qty).gt(held)) total = o.filled_qty.plus(held);
    }
    let part = total.minus(o.filled_qty);
    const split = o.type === "market" && o.filled_qty.isZero() && total.gte(100) &&
      total.isInteger();
    if (split) part = total.div(2).floor();
    if (part.lte(0)) return;
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
        h.cost = h.cost.mul(newQty).div(h.qty);
        h.qty = newQty;
      }
    }
    o.filled_qty = o.filled_qty.plus(part);
    o.filled_cost = o.filled_cost.plus(cost);
    const ts = this.#iso();
    o.updated_at = ts;
    const done = o.filled_qty.gte(total);
    if (o.side === "buy") {
      o.reserved = done ? new D(0) : D.max(new D(0), o.reserved.minus(cost));
    } else {
      o.reserved = done ? new D(0) : D.max(new D(0), o.reserved.minus(part));
    }
    o.status = done ? "filled" : "partially_filled";
    if (done) o.filled_at = ts;
    acct.activities.push({
      id: activityId(this.opts.now()),
      activity_type: "FILL",
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
    this.#emit(acct, done ? "fill" : "partial_fill", o, { price, qty: part });
    if (!done) this.#later(this.opts.fillDelayMs, () => this.#fill(acct, o));
  }

  #cancel(acct: Account, o: OrderRec, status: "canceled" | "expired"): void {
    if (!OPEN.has(o.status)) return;
    const ts = this.#iso();
    o.status = status;
    o.updated_at = ts;
    if (status === "canceled") o.canceled_at = ts;
    else o.expired_at = ts;
    o.reserved = new D(0);
    this.#emit(acct, status, o);
  }

  /** Re-checks every open order on `symbol` after its price moved. */
  onPrice(symbol: string): void {
    for (const acct of this.accounts.values()) {
      for (const o of acct.orders) {
        if (o.asset.symbol === symbol.toUpperCase() && OPEN.has(o.status) && o.type !== "market") {
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
        if (OPEN.has(o.status) && o.type !== "market") out.add(o.asset.symbol);
      }
    }
    return out;
  }

  /** `DELETE /v2/orders/{id}`: 404 unknown, 422 not cancelable. */
  cancelOrder(acct: Account, id: string): void {
    const o = acct.orders.find((x) => x.id === id);
    if (!o) throw new AlpacaError(404, 40410000, "order not found");
    if (!OPEN.has(o.status)) {
      throw new AlpacaError(422, 42210000, `order is not cancelable (status: ${o.status})`);
    }
    this.#cancel(acct, o, "canceled");
  }

  /** `DELETE /v2/orders`: cancels every open order. */
  cancelAll(acct: Account): { id: string; status: number; body: Record<string, unknown> }[] {
    const out = [];
    for (const o of acct.orders) {
      if (!OPEN.has(o.status)) continue;
      this.#cancel(acct, o, "canceled");
      out.push({ id: o.id, status: 200, body: this.orderJson(o) });
    }
    return out;
  }

  /** `GET /v2/orders` with Alpaca's filters. */
  listOrders(acct: Account, q: URLSearchParams): Record<string, unknown>[] {
    const status = q.get("status") ?? "open";
    if (!["open", "closed", "all"].includes(status)) throw invalid("invalid status");
    const limitRaw = q.get("limit");
    let limit = 50;
    if (limitRaw !== null) {
      limit = Number(limitRaw);
      if (!Number.isInteger(limit) || limit < 1) throw invalid("invalid limit");
      limit = Math.min(limit, 500);
    }
    const direction = q.get("direction") ?? "desc";
    if (direction !== "asc" && direction !== "desc") throw invalid("invalid direction");
    const symbols = q.get("symbols")
      ? new Set(q.get("symbols")!.split(",").map((s) => s.trim().toUpperCase()).filter(Boolean))
      : null;
    const side = q.get("side");
    const time = (name: string): number | null => {
      const v = q.get(name);
      if (!v) return null;
      const t = Date.parse(v);
      if (Number.isNaN(t)) throw invalid(`invalid ${name}`);
      return t;
    };
    const after = time("after");
    const until = time("until");
    let list = acct.orders.filter((o) => {
      const open = OPEN.has(o.status);
      if (status === "open" && !open) return false;
      if (status === "closed" && open) return false;
      if (
        symbols && !symbols.has(o.asset.symbol) && !symbols.has(o.asset.symbol.replace("/", ""))
      ) {
        return false;
      }
      if (side && o.side !== side) return false;
      const t = Date.parse(o.submitted_at);
      if (after !== null && t <= after) return false;
      if (until !== null && t >= until) return false;
      return true;
    });
    list = direction === "asc" ? list : [...list].reverse();
    return list.slice(0, limit).map((o) => this.orderJson(o));
  }

  /** `GET /v2/assets` filtered by `status` and `asset_class`. */
  listAssets(q: URLSearchParams): Record<string, unknown>[] {
    const status = q.get("status");
    const cls = q.get("asset_class");
    return [...ASSETS.values()]
      .filter((a) => (!status || a.status === status) && (!cls || a.class === cls))
      .map(assetJson);
  }
}
