/**
 * SnapTrade trading: `/trade/impact` quotes placed once within five minutes, `/trade/place`,
 * and order cancels. Only trade connections to brokerages that trade may, at most one trade per
 * account a second (SnapTrade's soft limit; 429 beyond it). A market order or a marketable
 * limit is answered `ACCEPTED` and executes {@link FILL_DELAY_MS} later (position, cash and an
 * activity change, then `ACCOUNT_HOLDINGS_UPDATED`); other limits rest `ACCEPTED` until canceled.
 * @module
 */
// Exact: decimal.js's default precision (20 digits) would round quantities and amounts.
import { Exact as Decimal } from "@meridian/portfolio/exact";
import type { Context, Hono } from "hono";
import { z } from "zod";
import { iso, num, type SandboxCore } from "../core.ts";
import { KNOWN_TICKERS, type Security, securityFor } from "../demo_data.ts";
import type { RollingLimit } from "../rolling_limit.ts";
import type { Timers } from "../timers.ts";
import { authUser, callerAccount, fail, ownAccount } from "./request.ts";
import { accountJson, currency, universalSymbol } from "./shapes.ts";
import {
  type Account,
  FILL_DELAY_MS,
  type Order,
  type SnapTradeStore,
  TRADE_TTL_MS,
  type TradeQuote,
} from "./state.ts";
import type { SnapTradeWebhooks } from "./webhooks.ts";

const DecimalInput = z.union([z.number(), z.string().regex(/^-?\d+(\.\d+)?$/)]).transform(String);

const ImpactBody = z.object({
  account_id: z.string(),
  action: z.enum(["BUY", "SELL"]),
  universal_symbol_id: z.string(),
  order_type: z.enum(["Limit", "Market", "StopLimit", "Stop"]),
  time_in_force: z.enum(["FOK", "Day", "GTC", "IOC"]),
  price: DecimalInput.nullish(),
  stop: DecimalInput.nullish(),
  units: DecimalInput.nullish(),
  notional_value: DecimalInput.nullish(),
});

const ForceBody = z.object({
  account_id: z.string(),
  action: z.enum(["BUY", "SELL", "BUY_TO_OPEN", "BUY_TO_CLOSE", "SELL_TO_OPEN", "SELL_TO_CLOSE"]),
  universal_symbol_id: z.string().nullish(),
  symbol: z.string().nullish(),
  order_type: z.enum(["Limit", "Market", "StopLimit", "Stop"]),
  time_in_force: z.enum(["FOK", "Day", "GTC", "IOC", "GTD"]),
  trading_session: z.enum(["REGULAR", "EXTENDED"]).nullish(),
  expiry_date: z.string().nullish(),
  price: DecimalInput.nullish(),
  stop: DecimalInput.nullish(),
  units: DecimalInput.nullish(),
  notional_value: DecimalInput.nullish(),
  client_order_id: z.string().nullish(),
});

function symbolById(acct: Account, id: string): Security | undefined {
  const held = acct.data.holdings.find((h) => h.security.id === id)?.security;
  return held ?? KNOWN_TICKERS.map(securityFor).find((s) => s.id === id);
}

/** What trading works with. */
export interface TradingDeps {
  core: SandboxCore;
  store: SnapTradeStore;
  hooks: SnapTradeWebhooks;
  /** Trades per account (SnapTrade's soft limit: one a second). */
  tradeLimit: RollingLimit;
  /** Runs the delayed executions; closing the sandbox cancels them. */
  timers: Timers;
  /** Called when an order changed outside a request (it executed), for the state file. */
  changed: () => void;
}

/**
 * Registers the trading routes on the API app, and schedules the execution of accepted
 * marketable orders restored from saved state.
 */
export function tradingRoutes(api: Hono, deps: TradingDeps): void {
  const { core, store, hooks, tradeLimit, timers } = deps;

  /**
   * SnapTrade's throttle answer when the account traded less than a second ago, else null (and
   * the trade counts). Asked once a trade passed every other check, just before it is placed.
   */
  function throttled(c: Context, acct: Account): Response | null {
    const r = tradeLimit.take(acct.id, core.now());
    if (r.allowed) return null;
    c.header("Retry-After", String(r.resetSeconds));
    return fail(
      c,
      429,
      `Request was throttled. Expected available in ${r.resetSeconds} seconds.`,
      "0000",
    );
  }

  /** Checks a trade is allowed; answers the refusal or the units to trade. */
  function checkTrade(
    c: Context,
    acct: Account,
    sec: Security,
    action: "BUY" | "SELL",
    units: string | null | undefined,
    notional: string | null | undefined,
    limitPrice: string | null | undefined,
  ): Response | string {
    const a = store.authOf(acct);
    if (a.type !== "trade" || !a.brokerage.allowsTrading) {
      return fail(
        c,
        403,
        "This connection is read-only. Reconnect it with connectionType=trade to place trades.",
        "1141",
      );
    }
    const price = new Decimal(limitPrice ?? sec.price);
    let u: Decimal;
    if (units) u = new Decimal(units);
    else if (notional) u = new Decimal(notional).div(price).toDecimalPlaces(6, Decimal.ROUND_DOWN);
    else return fail(c, 400, "Either units or notional_value is required", "1068");
    if (u.lte(0)) return fail(c, 400, "units must be positive", "1068");
    if (!u.isInteger() && !a.brokerage.allowsFractional) {
      return fail(c, 400, `${a.brokerage.name} does not support fractional units`, "1068");
    }
    if (action === "SELL") {
      const held = acct.data.holdings.find((h) => h.security.id === sec.id);
      if (!held || new Decimal(held.units).lt(u)) {
        return fail(c, 400, "Insufficient units to sell", "1068");
      }
    } else if (u.mul(price).gt(acct.data.cash)) {
      return fail(c, 400, "Insufficient buying power", "1068");
    }
    return u.toFixed();
  }

  /** Records an order `ACCEPTED`; a marketable one executes {@link FILL_DELAY_MS} later. */
  function placeOrder(
    acct: Account,
    sec: Security,
    action: "BUY" | "SELL",
    orderType: string,
    timeInForce: string,
    units: string,
    limitPrice: string | null,
    stopPrice: string | null,
  ): Record<string, unknown> {
    const now = core.now();
    const market = new Decimal(sec.price);
    const fills = orderType === "Market" ||
      (orderType === "Limit" && limitPrice !== null &&
        (action === "BUY" ? market.lte(limitPrice) : market.gte(limitPrice)));
    const record: Record<string, unknown> = {
      brokerage_order_id: crypto.randomUUID(),
      status: "ACCEPTED",
      universal_symbol: universalSymbol(sec),
      option_symbol: null,
      action,
      total_quantity: units,
      open_quantity: units,
      canceled_quantity: "0",
      filled_quantity: "0",
      execution_price: null,
      limit_price: limitPrice,
      stop_price: stopPrice,
      order_type: orderType,
      time_in_force: timeInForce,
      time_placed: iso(now),
      time_updated: iso(now),
      time_executed: null,
      expiry_date: null,
      symbol: sec.id,
      child_brokerage_order_ids: null,
    };
    const order: Order = {
      record,
      placedAt: now,
      open: true,
      executed: false,
      fill: fills ? { at: now + FILL_DELAY_MS, security: sec } : null,
    };
    acct.orders.push(order);
    scheduleFill(acct, order);
    // A copy: the stored record changes when the order executes.
    return { ...record };
  }

  /** Schedules the execution of an accepted marketable order (no-op for any other). */
  function scheduleFill(acct: Account, o: Order): void {
    if (!o.open || !o.fill) return;
    const wait = Math.min(FILL_DELAY_MS, Math.max(0, o.fill.at - core.now()));
    timers.later(
      wait,
      () => execute(acct, o),
      (e) =>
        core.log("error", "SnapTrade order execution failed", {
          order: o.record.brokerage_order_id,
          error: e instanceof Error ? e.message : String(e),
        }),
    );
  }

  /**
   * Executes an accepted marketable order at its security's price, unless it was canceled or its
   * connection removed meanwhile; refused (`REJECTED`) if the cash or units are no longer there.
   */
  function execute(acct: Account, o: Order): void {
    const fill = o.fill;
    if (!o.open || !fill || store.accounts.get(acct.id) !== acct) return;
    const sec = fill.security;
    const action = o.record.action === "SELL" ? "SELL" : "BUY";
    const units = String(o.record.total_quantity);
    const now = iso(core.now());
    o.fill = null;
    o.open = false;
    const held = acct.data.holdings.find((h) => h.security.id === sec.id);
    const possible = action === "SELL"
      ? held !== undefined && new Decimal(held.units).gte(units)
      : new Decimal(units).mul(sec.price).lte(acct.data.cash);
    if (!possible) {
      Object.assign(o.record, { status: "REJECTED", open_quantity: "0", time_updated: now });
      deps.changed();
      return;
    }
    o.executed = true;
    Object.assign(o.record, {
      status: "EXECUTED",
      open_quantity: "0",
      filled_quantity: units,
      execution_price: sec.price,
      time_updated: now,
      time_executed: now,
    });
    applyFill(acct, sec, action, units);
    hooks.holdingsUpdated(store.authOf(acct), acct, 50);
    deps.changed();
  }

  function applyFill(acct: Account, sec: Security, action: "BUY" | "SELL", units: string) {
    const d = acct.data;
    const cost = new Decimal(units).mul(sec.price);
    const existing = d.holdings.find((h) => h.security.id === sec.id);
    if (action === "BUY") {
      d.cash = new Decimal(d.cash).minus(cost).toFixed(2);
      if (existing) {
        const total = new Decimal(existing.units).plus(units);
        existing.averageCost = new Decimal(existing.units).mul(existing.averageCost).plus(cost)
          .div(total).toDecimalPlaces(4).toFixed();
        existing.units = total.toFixed();
      } else d.holdings.push({ security: sec, units, averageCost: sec.price });
    } else if (existing) {
      d.cash = new Decimal(d.cash).plus(cost).toFixed(2);
      const left = new Decimal(existing.units).minus(units);
      if (left.isZero()) d.holdings.splice(d.holdings.indexOf(existing), 1);
      else existing.units = left.toFixed();
    }
    d.transactions.push({
      id: crypto.randomUUID(),
      date: iso(core.now()).slice(0, 10),
      type: action,
      security: sec,
      units: action === "BUY" ? units : new Decimal(units).neg().toFixed(),
      price: sec.price,
      amount: (action === "BUY" ? cost.neg() : cost).toFixed(2),
      fee: "0",
      currency: d.currency,
      description: `${action === "BUY" ? "Bought" : "Sold"} ${units} ${sec.ticker}`,
    });
  }

  api.post("/trade/impact", async (c) => {
    const u = authUser(c, store);
    if (u instanceof Response) return u;
    const parsed = ImpactBody.safeParse(await c.req.json().catch(() => null));
    if (!parsed.success) return fail(c, 400, "Invalid trade parameters", "1068");
    const b = parsed.data;
    const acct = ownAccount(c, store, u, b.account_id);
    if (acct instanceof Response) return acct;
    const sec = symbolById(acct, b.universal_symbol_id);
    if (!sec) return fail(c, 400, "Unknown universal_symbol_id", "1068");
    if ((b.order_type === "Limit" || b.order_type === "StopLimit") && !b.price) {
      return fail(c, 400, "price is required for limit orders", "1068");
    }
    const units = checkTrade(c, acct, sec, b.action, b.units, b.notional_value, b.price);
    if (units instanceof Response) return units;
    const quote: TradeQuote = {
      id: crypto.randomUUID(),
      accountId: acct.id,
      userId: u.userId,
      security: sec,
      action: b.action,
      orderType: b.order_type,
      timeInForce: b.time_in_force,
      units,
      price: b.price ?? null,
      stop: b.stop ?? null,
      createdAt: core.now(),
      placed: false,
    };
    store.trades.set(quote.id, quote);
    const value = new Decimal(units).mul(b.price ?? sec.price);
    const remaining = b.action === "BUY"
      ? new Decimal(acct.data.cash).minus(value)
      : new Decimal(acct.data.cash).plus(value);
    const impact = {
      account: acct.id,
      currency: acct.data.currency,
      remaining_cash: remaining.toDecimalPlaces(2).toNumber(),
      estimated_commission: 0,
      forex_fees: 0,
    };
    return c.json({
      trade: {
        id: quote.id,
        account: acct.id,
        order_type: b.order_type,
        time_in_force: b.time_in_force,
        symbol: {
          universal_symbol_id: sec.id,
          currency: currency(sec.currency),
          local_id: null,
          description: sec.name,
          symbol: sec.ticker,
          brokerage_symbol_id: sec.id,
        },
        action: b.action,
        units: Number(units),
        price: num(b.price ?? sec.price),
      },
      trade_impacts: [impact],
      combined_remaining_balance: {
        account: accountJson(acct, store.authOf(acct)),
        currency: currency(acct.data.currency),
        cash: impact.remaining_cash,
      },
    });
  });

  api.post("/trade/place", async (c) => {
    const u = authUser(c, store);
    if (u instanceof Response) return u;
    const parsed = ForceBody.safeParse(await c.req.json().catch(() => null));
    if (!parsed.success) return fail(c, 400, "Invalid trade parameters", "1068");
    const b = parsed.data;
    const acct = ownAccount(c, store, u, b.account_id);
    if (acct instanceof Response) return acct;
    const sec = b.universal_symbol_id
      ? symbolById(acct, b.universal_symbol_id)
      : b.symbol
      ? securityFor(b.symbol)
      : undefined;
    if (!sec) return fail(c, 400, "Unknown symbol", "1068");
    const action = b.action.startsWith("BUY") ? "BUY" : "SELL";
    if ((b.order_type === "Limit" || b.order_type === "StopLimit") && !b.price) {
      return fail(c, 400, "price is required for limit orders", "1068");
    }
    const units = checkTrade(c, acct, sec, action, b.units, b.notional_value, b.price);
    if (units instanceof Response) return units;
    const limited = throttled(c, acct);
    if (limited) return limited;
    return c.json(
      placeOrder(
        acct,
        sec,
        action,
        b.order_type,
        b.time_in_force,
        units,
        b.price ?? null,
        b.stop ?? null,
      ),
    );
  });

  api.post("/trade/:tradeId", (c) => {
    const u = authUser(c, store);
    if (u instanceof Response) return u;
    const quote = store.trades.get(c.req.param("tradeId"));
    if (!quote || quote.userId !== u.userId) {
      return fail(c, 404, "Unable to find the specified trade", "1011");
    }
    if (quote.placed) return fail(c, 400, "This trade has already been placed", "1071");
    if (core.now() - quote.createdAt > TRADE_TTL_MS) {
      return fail(c, 400, "This trade has expired; request a new trade impact", "1072");
    }
    const acct = ownAccount(c, store, u, quote.accountId);
    if (acct instanceof Response) return acct;
    const units = checkTrade(c, acct, quote.security, quote.action, quote.units, null, quote.price);
    if (units instanceof Response) return units;
    const limited = throttled(c, acct);
    if (limited) return limited;
    quote.placed = true;
    return c.json(
      placeOrder(
        acct,
        quote.security,
        quote.action,
        quote.orderType,
        quote.timeInForce,
        units,
        quote.price,
        quote.stop,
      ),
    );
  });

  // The legacy route answers the whole order; the current one only its id.
  const cancel = (legacy: boolean) => async (c: Context) => {
    const acct = callerAccount(c, store);
    if (acct instanceof Response) return acct;
    const body = await c.req.json().catch(() => ({})) as { brokerage_order_id?: string };
    const o = acct.orders.find((o) => o.record.brokerage_order_id === body.brokerage_order_id);
    if (!o) return fail(c, 404, "Unable to find the specified order", "1011");
    if (!o.open) return fail(c, 400, "The order can no longer be canceled", "1073");
    o.open = false;
    o.fill = null;
    Object.assign(o.record, {
      status: "CANCELED",
      canceled_quantity: o.record.open_quantity,
      open_quantity: "0",
      time_updated: iso(core.now()),
    });
    return c.json(
      legacy ? o.record : { brokerage_order_id: o.record.brokerage_order_id, raw_response: null },
    );
  };
  api.post("/accounts/:accountId/trading/cancel", cancel(false));
  api.post("/accounts/:accountId/orders/cancel", cancel(true));

  // Orders accepted before a restart execute after it.
  for (const acct of store.accounts.values()) {
    for (const o of acct.orders) scheduleFill(acct, o);
  }
}
