/**
 * The simulated Alpaca paper brokerage: every account, and the timing of its orders (accepted,
 * checked against each price move, filled after a delay, canceled). No I/O: the REST and stream
 * layers call in, and order events are reported through `onTradeUpdate` listeners. The rules
 * live beside it: `order_entry.ts` (validation), `matching.ts` (when and how an order fills),
 * `state.ts` (accounts and their persisted form), `shapes.ts` (wire JSON).
 * @module
 */

import { stableId } from "./assets.ts";
import { D, type Dec, exact } from "./decimal.ts";
import { AlpacaError } from "./errors.ts";
import { executable, fillAt } from "./matching.ts";
import { newOrder } from "./order_entry.ts";
import type { PriceBook } from "./prices.ts";
import * as shapes from "./shapes.ts";
import {
  type Account,
  type AccountState,
  isOpen,
  loadAccount,
  newAccount,
  type OrderRec,
  saveAccount,
} from "./state.ts";

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
