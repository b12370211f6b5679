/**
 * The order flow: preview, place, settle, cancel, list. A preview is kept server-side (with
 * SnapTrade's trade id) and bound to its user. Placing records the order in one transaction
 * that consumes the preview and the idempotency key (unique indexes make both exactly-once
 * whatever the concurrency), checks the kill switch, the rate and the caps, and only after
 * it commits sends the order, once. An answer that does not come is never retried: the order
 * becomes `unknown` and the broker is asked.
 * @module
 */
import { Exact as Decimal } from "@meridian/portfolio/exact";
import { encode, HoldingsChanged, OrderEvent, type OrderState, subjects } from "@meridian/proto";
import type { Sql, TransactionSql } from "@meridian/runtime";
import type { SyncDeps } from "../deps.ts";
import type { SecretRow } from "../secrets.ts";
import type { OrderUpdates } from "../providers/types.ts";
import { holdingsOf } from "../store.ts";
import { applyFillProvisionally } from "./provisional.ts";
import { type Actor, audit, type AuditRefs } from "./audit.ts";
import { haltReason } from "./halts.ts";
import { advance, isTerminal, type OrderReport } from "./order_state.ts";
import { checkRisk, type RiskLimits } from "./risk.ts";
import { type RoutableAccount, routeOrder } from "./routing.ts";
import {
  AmbiguousOutcome,
  type BrokerAccount,
  type BrokerOrder,
  BrokerRefusal,
  type OrderIntent,
  type PlaceRequest,
} from "./types.ts";

/** How long a preview may be confirmed (SnapTrade's trade id lives as long). */
export const PREVIEW_TTL_MS = 5 * 60_000;
/** How long placing an order may take before its outcome is unknown. */
export const PLACE_TIMEOUT_MS = 10_000;
/** At most one order a second per account (SnapTrade's soft limit, kept for every broker). */
export const ORDER_INTERVAL_MS = 1_000;

/** A refusal the person can act on: an HTTP status and a sentence. */
export class TradingError extends Error {
  override name = "TradingError";
  constructor(
    readonly status: 403 | 404 | 409 | 410 | 422 | 429 | 503,
    message: string,
    readonly extra: {
      ineligible?: { account_id: string; reason: string }[];
      retryAfterS?: number;
      code?: string;
    } = {},
  ) {
    super(message);
  }
}

/** What the flow needs. */
export interface TradingDeps {
  sync: SyncDeps;
  /** The last price of a symbol (the prices KV), or null when none is known. */
  lastPrice(symbol: string): Promise<string | null>;
  now?: () => Date;
  /** How long placing may take before its outcome is unknown. */
  placeTimeoutMs?: number;
}

/** An order as the api shows it. */
export interface OrderView {
  id: string;
  state: OrderState;
  account_id: string;
  provider: string;
  symbol: string;
  side: "buy" | "sell";
  type: string;
  time_in_force: string;
  quantity: string | null;
  notional: string | null;
  limit_price: string | null;
  stop_price: string | null;
  filled_quantity: string;
  average_price: string | null;
  estimated_amount: string | null;
  currency: string | null;
  reason: string | null;
  created_at: string;
  updated_at: string;
}

interface OrderRow extends OrderView {
  user_id: string;
  connection_id: string;
  broker_order_id: string | null;
  preview_id: string | null;
  submitted_at: Date | null;
}

interface AccountRow {
  id: string;
  name: string;
  provider: string;
  external_id: string;
  currency: string;
  open: boolean;
  can_trade: boolean;
  access: string;
  connection_id: string;
  connection_active: boolean;
  held: string;
}

const ORDER_COLUMNS = `id, user_id, account_id, connection_id, provider, symbol, side, type,
  time_in_force, quantity::text, notional::text, limit_price::text, stop_price::text, state,
  filled_quantity::text, average_price::text, estimated_amount::text, currency, reason,
  broker_order_id, preview_id, submitted_at, created_at, updated_at`;

/** The api's view of an order row. */
export function orderView(r: OrderRow): OrderView {
  const iso = (d: unknown) => d instanceof Date ? d.toISOString() : String(d);
  return {
    id: r.id,
    state: r.state,
    account_id: r.account_id,
    provider: r.provider,
    symbol: r.symbol,
    side: r.side,
    type: r.type,
    time_in_force: r.time_in_force,
    quantity: r.quantity,
    notional: r.notional,
    limit_price: r.limit_price,
    stop_price: r.stop_price,
    filled_quantity: r.filled_quantity,
    average_price: r.average_price,
    estimated_amount: r.estimated_amount,
    currency: r.currency,
    reason: r.reason,
    created_at: iso(r.created_at),
    updated_at: iso(r.updated_at),
  };
}

/** The limits of `config`. */
function limitsOf(deps: TradingDeps): RiskLimits {
  const c = deps.sync.config;
  return {
    maxOrderNotional: c.TRADING_MAX_ORDER_NOTIONAL,
    maxDailyNotional: c.TRADING_MAX_DAILY_NOTIONAL,
    collarPercent: c.TRADING_PRICE_COLLAR_PCT,
  };
}

/** The estimated amount of `userId`'s orders since midnight UTC, refused ones aside. */
async function placedToday(sql: Sql | TransactionSql, userId: string, now: Date): Promise<string> {
  const midnight = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  const [r] = await sql<{ total: string }[]>`
    select coalesce(sum(estimated_amount), 0)::text as total from orders
     where user_id = ${userId} and created_at >= ${midnight}
       and state not in ('rejected', 'failed')`;
  return r.total;
}

/** The order flow over `deps`. */
export class OrderDesk {
  readonly #now: () => Date;
  constructor(readonly deps: TradingDeps) {
    this.#now = deps.now ?? (() => new Date());
  }

  get #sql(): Sql {
    return this.deps.sync.sql;
  }

  /** Appends an entry to the trading audit trail (the kill switch's changes, for one). */
  audit(actor: Actor, action: string, refs: AuditRefs, detail?: Record<string, unknown>) {
    return audit(this.#sql, actor, action, refs, detail);
  }

  async #accounts(userId: string, symbol: string): Promise<AccountRow[]> {
    return await this.#sql<AccountRow[]>`
      select a.id, a.name, a.provider, a.external_id, a.currency, a.status = 'open' as open,
             a.can_trade, c.access, c.id as connection_id, c.status = 'active' as connection_active,
             coalesce((select sum(p.quantity) from positions p
                        where p.account_id = a.id and p.symbol = ${symbol}), 0)::text as held
        from accounts a join connections c on c.id = a.connection_id and c.user_id = a.user_id
       where a.user_id = ${userId}
       order by a.name, a.id`;
  }

  #routable(a: AccountRow): RoutableAccount {
    const provider = this.deps.sync.providers.providerFor(a.provider);
    return {
      id: a.id,
      name: a.name,
      provider: a.provider,
      providerTrades: provider.trading !== undefined,
      tradingEnabled: provider.tradeAccess(this.deps.sync.config),
      tradeAccess: a.access === "trade",
      connectionActive: a.connection_active,
      canTrade: a.can_trade,
      open: a.open,
      held: a.held,
    };
  }

  /** The provider, its credentials and the account as the broker knows it. */
  async #broker(userId: string, accountId: string) {
    const [conn] = await this.#sql<
      (SecretRow & { provider: string; account_external_id: string; currency: string })[]
    >`
      select c.*, a.external_id as account_external_id, a.currency
        from accounts a join connections c on c.id = a.connection_id
       where a.id = ${accountId} and a.user_id = ${userId}`;
    if (!conn) throw new TradingError(404, "That account was not found.");
    const provider = this.deps.sync.providers.providerFor(conn.provider);
    const trading = provider.trading;
    if (!trading) throw new TradingError(422, "This account's provider cannot place trades.");
    const credentials = await provider.credentials(this.deps.sync, conn);
    const account: BrokerAccount = {
      id: accountId,
      external_id: conn.account_external_id,
      currency: conn.currency,
    };
    return { trading, credentials, account };
  }

  /** Which accounts can take the order, best first; and why the others cannot. */
  async route(userId: string, intent: OrderIntent, accountId?: string) {
    const rows = await this.#accounts(userId, intent.symbol);
    if (accountId !== undefined && !rows.some((r) => r.id === accountId)) {
      throw new TradingError(404, "That account was not found.");
    }
    const route = routeOrder(
      rows.map((r) => this.#routable(r)),
      intent.side,
      intent.quantity,
      accountId,
    );
    return { route, rows };
  }

  /**
   * The accounts that can take an order for `side` of `symbol` (best first, with what each
   * holds), and why each other account cannot.
   */
  async accountsFor(userId: string, symbol: string, side: "buy" | "sell", quantity: string | null) {
    const { route, rows } = await this.route(userId, {
      symbol,
      side,
      quantity,
      notional: null,
      type: "market",
      limit_price: null,
      stop_price: null,
      time_in_force: "day",
    });
    const byId = new Map(rows.map((r) => [r.id, r]));
    return {
      eligible: route.eligible.map((a) => ({
        account_id: a.id,
        name: a.name,
        provider: a.provider,
        currency: byId.get(a.id)!.currency,
        held: a.held,
      })),
      ineligible: route.ineligible,
    };
  }

  /** Symbols the user's trading accounts can trade matching `query` (one account per provider). */
  async searchSymbols(userId: string, query: string) {
    const rows = await this.#accounts(userId, "");
    const seen = new Set<string>();
    const out: { symbol: string; name: string }[] = [];
    const providers = new Set<string>();
    for (const row of rows) {
      const r = this.#routable(row);
      if (providers.has(r.provider) || !r.providerTrades || !r.tradeAccess || !r.canTrade) continue;
      const { trading, credentials, account } = await this.#broker(userId, row.id);
      let found;
      try {
        found = await trading.searchSymbols(credentials, account, query);
      } catch (e) {
        // This account cannot search (gone at the broker): another of the provider's may.
        if (e instanceof BrokerRefusal) continue;
        throw e;
      }
      providers.add(r.provider);
      for (const s of found) {
        if (seen.has(s.symbol)) continue;
        seen.add(s.symbol);
        out.push(s);
      }
    }
    return out.slice(0, 20);
  }

  /** Previews an order: what a confirmation shows, kept server-side under a preview id. */
  async preview(actor: Actor, intent: OrderIntent, accountId?: string) {
    const sql = this.#sql;
    await audit(sql, actor, "preview.requested", { accountId }, { intent });
    const refuse = async (e: TradingError): Promise<never> => {
      await audit(sql, actor, "preview.refused", { accountId }, {
        reason: e.message,
        code: e.extra.code,
      });
      throw e;
    };
    const { route, rows } = await this.route(actor.userId, intent, accountId);
    const chosen = route.eligible[0];
    if (!chosen) {
      return await refuse(
        new TradingError(422, "No account can place this order.", { ineligible: route.ineligible }),
      );
    }
    const row = rows.find((r) => r.id === chosen.id)!;
    const halted = await haltReason(
      sql,
      this.deps.sync.config.TRADING_HALTED,
      actor.userId,
      row.id,
    );
    if (halted) return await refuse(new TradingError(403, halted, { code: "halted" }));
    const { trading, credentials, account } = await this.#broker(actor.userId, row.id);
    const lastPrice = await this.deps.lastPrice(intent.symbol);
    let impact;
    try {
      impact = await trading.preview(credentials, account, intent, lastPrice);
    } catch (e) {
      if (e instanceof BrokerRefusal) {
        return await refuse(new TradingError(422, e.reason, { code: "broker" }));
      }
      throw e;
    }
    const now = this.#now();
    const risk = checkRisk({
      estimatedAmount: impact.estimated_amount,
      placedToday: await placedToday(sql, actor.userId, now),
      lastPrice,
      limitPrice: intent.limit_price,
      stopPrice: intent.stop_price,
    }, limitsOf(this.deps));
    if (risk) return await refuse(new TradingError(422, risk.message, { code: risk.code }));
    const ttl = impact.trade_expires_at
      ? Math.min(Date.parse(impact.trade_expires_at), now.getTime() + PREVIEW_TTL_MS)
      : now.getTime() + PREVIEW_TTL_MS;
    const expiresAt = new Date(ttl);
    const confirmation = {
      account_id: row.id,
      account_name: row.name,
      provider: row.provider,
      symbol: intent.symbol,
      side: intent.side,
      quantity: impact.quantity,
      notional: intent.notional,
      type: intent.type,
      limit_price: intent.limit_price,
      stop_price: intent.stop_price,
      time_in_force: intent.time_in_force,
      price: impact.price,
      estimated_amount: impact.estimated_amount,
      commission: impact.commission,
      remaining_cash: impact.remaining_cash,
      currency: row.currency,
      risk: intent.side === "buy"
        ? `You are buying ${impact.quantity} ${intent.symbol} for about ${impact.estimated_amount} ${row.currency}. Prices move: a market order fills at the price when it executes, which may differ from this estimate.`
        : `You are selling ${impact.quantity} ${intent.symbol} for about ${impact.estimated_amount} ${row.currency}. Prices move: a market order fills at the price when it executes, which may differ from this estimate.`,
    };
    const [preview] = await sql<{ id: string }[]>`
      insert into order_previews (user_id, account_id, connection_id, provider, intent, confirmation,
                                  broker_trade_id, expires_at, created_at)
      values (${actor.userId}, ${row.id}, ${row.connection_id}, ${row.provider},
              ${sql.json(intent as never)}, ${sql.json(confirmation as never)}, ${impact.trade_id},
              ${expiresAt}, ${now})
      returning id`;
    await audit(sql, actor, "preview.created", { accountId: row.id, previewId: preview.id }, {
      confirmation,
    });
    return { preview_id: preview.id, expires_at: expiresAt.toISOString(), ...confirmation };
  }

  /**
   * Places a previewed order once per preview and per idempotency key. Answers the order and
   * whether it was this call that created it (false: a repeat of the key).
   */
  async place(actor: Actor, previewId: string, idempotencyKey: string) {
    const sql = this.#sql;
    const now = this.#now();
    const recorded = await sql.begin(async (tx) => {
      const byKey = async () => {
        const [o] = await tx.unsafe<OrderRow[]>(
          `select ${ORDER_COLUMNS} from orders where user_id = $1 and idempotency_key = $2`,
          [actor.userId, idempotencyKey],
        );
        return o;
      };
      const repeat = await byKey();
      if (repeat) return { order: repeat, created: false };
      const [preview] = await tx<
        {
          id: string;
          account_id: string;
          connection_id: string;
          provider: string;
          intent: OrderIntent;
          confirmation: Record<string, string | null>;
          broker_trade_id: string | null;
          expires_at: Date;
        }[]
      >`select id, account_id, connection_id, provider, intent, confirmation, broker_trade_id, expires_at
          from order_previews where id = ${previewId} and user_id = ${actor.userId}`;
      if (!preview) throw new TradingError(404, "That preview was not found.");
      // One order at a time per account: the rate check and the caps see every order before.
      await tx`select id from accounts where id = ${preview.account_id} for update`;
      const raced = await byKey();
      if (raced) return { order: raced, created: false };
      const [used] = await tx<
        { id: string }[]
      >`select id from orders where preview_id = ${previewId}`;
      if (used) {
        throw new TradingError(
          409,
          "This preview was already placed: its order is listed under Orders.",
          {
            code: "preview_used",
          },
        );
      }
      if (preview.expires_at.getTime() <= now.getTime()) {
        throw new TradingError(410, "This preview has expired: preview the order again.", {
          code: "preview_expired",
        });
      }
      const halted = await haltReason(
        tx,
        this.deps.sync.config.TRADING_HALTED,
        actor.userId,
        preview.account_id,
      );
      if (halted) throw new TradingError(403, halted, { code: "halted" });
      const [last] = await tx<{ created_at: Date }[]>`
        select created_at from orders where account_id = ${preview.account_id}
         order by created_at desc limit 1`;
      const since = last ? now.getTime() - last.created_at.getTime() : Infinity;
      if (since < ORDER_INTERVAL_MS) {
        throw new TradingError(
          429,
          "At most one order a second per account: try again in a moment.",
          {
            retryAfterS: 1,
            code: "rate",
          },
        );
      }
      const c = preview.confirmation;
      const risk = checkRisk({
        estimatedAmount: c.estimated_amount ?? "0",
        placedToday: await placedToday(tx, actor.userId, now),
        lastPrice: null,
        limitPrice: null,
        stopPrice: null,
      }, limitsOf(this.deps));
      if (risk) throw new TradingError(422, risk.message, { code: risk.code });
      const id = crypto.randomUUID();
      const i = preview.intent;
      const [order] = await tx.unsafe<OrderRow[]>(
        `insert into orders (id, user_id, account_id, connection_id, provider, client_order_id, symbol,
                             side, type, time_in_force, quantity, notional, limit_price, stop_price,
                             state, preview_id, idempotency_key, estimated_amount, currency,
                             submitted_at, created_at, updated_at)
         values ($1::uuid, $2, $3, $4, $5, $1::text, $6, $7, $8, $9, $10, $11, $12, $13, 'submitted', $14, $15,
                 $16, $17, $18, $18, $18)
         returning ${ORDER_COLUMNS}`,
        [
          id,
          actor.userId,
          preview.account_id,
          preview.connection_id,
          preview.provider,
          i.symbol,
          i.side,
          i.type,
          i.time_in_force,
          i.quantity,
          i.quantity === null ? i.notional : null,
          i.limit_price,
          i.stop_price,
          previewId,
          idempotencyKey,
          c.estimated_amount,
          c.currency,
          now,
        ],
      );
      await tx`
        insert into order_events (order_id, user_id, event_id, state, detail, at)
        values (${id}, ${actor.userId}, 'submitted', 'submitted', '{}', ${now})`;
      await audit(tx, actor, "order.submitted", {
        accountId: preview.account_id,
        previewId,
        orderId: id,
      }, { intent: i, idempotency_key: idempotencyKey, consented: c });
      return { order, created: true, tradeId: preview.broker_trade_id };
    }).catch(async (e) => {
      if (e instanceof TradingError) {
        await audit(sql, actor, "order.refused", { previewId }, {
          reason: e.message,
          code: e.extra.code,
        });
      }
      throw e;
    });
    if (!recorded.created) {
      await audit(sql, actor, "order.repeated", { orderId: recorded.order.id }, {
        idempotency_key: idempotencyKey,
      });
      return { order: orderView(recorded.order), created: false };
    }
    const order = await this.#send(actor, recorded.order, recorded.tradeId ?? null);
    return { order, created: true };
  }

  /** Sends a recorded order to its broker, once, and records what came back. */
  async #send(actor: Actor, order: OrderRow, tradeId: string | null): Promise<OrderView> {
    const sql = this.#sql;
    // The kill switch again, right before the broker: an order recorded just before a halt
    // does not go out after it.
    const halted = await haltReason(
      sql,
      this.deps.sync.config.TRADING_HALTED,
      order.user_id,
      order.account_id,
    );
    if (halted) {
      return await this.applyReport(order.id, { state: "failed" }, false, "halted", {
        reason: halted,
      });
    }
    const { trading, credentials, account } = await this.#broker(order.user_id, order.account_id);
    const request = this.#request(order, tradeId);
    await audit(sql, actor, "broker.place", { orderId: order.id, accountId: order.account_id }, {
      provider: order.provider,
    });
    try {
      const placed = await withTimeout(
        trading.place(credentials, account, request),
        this.deps.placeTimeoutMs ?? PLACE_TIMEOUT_MS,
      );
      return await this.applyReport(order.id, reportOf(placed), true, "placed", {
        broker_order_id: placed.broker_order_id,
        broker_status: placed.broker_status,
      });
    } catch (e) {
      if (e instanceof BrokerRefusal) {
        return await this.applyReport(order.id, { state: "rejected" }, true, "refused", {
          reason: e.reason,
        });
      }
      const detail = e instanceof AmbiguousOutcome ? e.detail : "the request failed";
      await this.applyReport(order.id, { state: "unknown" }, false, "unknown", { reason: detail });
      return await this.settle(order.id);
    }
  }

  #request(order: OrderRow, tradeId: string | null): PlaceRequest {
    return {
      order_id: order.id,
      trade_id: tradeId,
      intent: {
        symbol: order.symbol,
        side: order.side,
        quantity: order.quantity,
        notional: order.notional,
        type: order.type as OrderIntent["type"],
        limit_price: order.limit_price,
        stop_price: order.stop_price,
        time_in_force: order.time_in_force as OrderIntent["time_in_force"],
      },
    };
  }

  /**
   * Settles an order whose outcome is unknown by asking its broker: found, it takes the
   * broker's state; not found, it stays unknown (the broker may still record it) until a
   * later pass. Nothing is re-sent.
   */
  async settle(orderId: string): Promise<OrderView> {
    const order = await this.#row(orderId);
    if (order.state !== "unknown") return orderView(order);
    const { trading, credentials, account } = await this.#broker(order.user_id, order.account_id);
    const [preview] = order.preview_id
      ? await this.#sql<{ broker_trade_id: string | null }[]>`
          select broker_trade_id from order_previews where id = ${order.preview_id}`
      : [];
    let found: BrokerOrder | null;
    try {
      found = await trading.find(
        credentials,
        account,
        this.#request(order, preview?.broker_trade_id ?? null),
        order.submitted_at ?? new Date(order.created_at),
      );
    } catch (e) {
      this.deps.sync.log.warn("settling an order failed", { order_id: orderId, error: e });
      return orderView(order);
    }
    await audit(this.#sql, null, "broker.find", { userId: order.user_id, orderId }, {
      found: found?.broker_order_id ?? null,
    });
    if (!found) return orderView(order);
    return await this.applyReport(orderId, reportOf(found), true, "settled", {
      broker_order_id: found.broker_order_id,
      broker_status: found.broker_status,
    });
  }

  async #row(orderId: string, userId?: string): Promise<OrderRow> {
    const [o] = userId === undefined
      ? await this.#sql.unsafe<OrderRow[]>(`select ${ORDER_COLUMNS} from orders where id = $1`, [
        orderId,
      ])
      : await this.#sql.unsafe<OrderRow[]>(
        `select ${ORDER_COLUMNS} from orders where id = $1 and user_id = $2`,
        [orderId, userId],
      );
    if (!o) throw new TradingError(404, "That order was not found.");
    return o;
  }

  /**
   * Applies a report to an order in one transaction (the state machine decides), records the
   * change as an order event and in the audit trail, then publishes it on `orders.<user>`.
   */
  async applyReport(
    orderId: string,
    report: OrderReport & { broker_order_id?: string },
    fromBroker: boolean,
    source: string,
    detail: Record<string, unknown> = {},
  ): Promise<OrderView> {
    const sql = this.#sql;
    const at = this.#now();
    const outcome = await sql.begin(async (tx) => {
      const [o] = await tx.unsafe<OrderRow[]>(
        `select ${ORDER_COLUMNS} from orders where id = $1 for update`,
        [orderId],
      );
      if (!o) throw new TradingError(404, "That order was not found.");
      const t = advance(o, report, fromBroker);
      await audit(
        tx,
        null,
        "order.report",
        { userId: o.user_id, orderId, accountId: o.account_id },
        {
          source,
          report: { state: report.state, filled_quantity: report.filled_quantity ?? null },
          outcome: t.kind,
          ...(t.kind === "apply" ? {} : { why: t.reason }),
          ...detail,
        },
      );
      if (t.kind !== "apply") return { order: o, changed: false, holdingsVersion: null };
      const reason = typeof detail.reason === "string" ? detail.reason.slice(0, 500) : null;
      const [next] = await tx.unsafe<OrderRow[]>(
        `update orders set state = $2, quantity = coalesce(quantity, $3), filled_quantity = $4,
                average_price = $5, broker_order_id = coalesce(broker_order_id, $6),
                reason = coalesce($7, reason), updated_at = $8
          where id = $1 returning ${ORDER_COLUMNS}`,
        [
          orderId,
          t.next.state,
          o.notional === null ? null : t.next.quantity,
          t.next.filled_quantity,
          t.next.average_price,
          report.broker_order_id ?? null,
          reason,
          at,
        ],
      );
      await tx`
        insert into order_events (order_id, user_id, event_id, state, detail, at)
        values (${orderId}, ${o.user_id}, ${`${source}:${t.next.state}:${t.next.filled_quantity}`},
                ${t.next.state}, ${tx.json({ source } as never)}, ${at})
        on conflict (order_id, event_id) do nothing`;
      const filled = new Decimal(t.next.filled_quantity).minus(o.filled_quantity);
      const price = t.next.average_price ?? o.limit_price;
      const holdingsVersion = filled.gt(0) && price !== null && o.currency !== null
        ? await applyFillProvisionally(tx, {
          userId: o.user_id,
          accountId: o.account_id,
          connectionId: o.connection_id,
          provider: o.provider,
          currency: o.currency,
          symbol: o.symbol,
          side: o.side,
          units: filled.toFixed(),
          price,
        })
        : null;
      return { order: next, changed: true, holdingsVersion };
    });
    if (outcome.changed) await this.#publish(outcome.order, at);
    if (outcome.holdingsVersion !== null) {
      await this.#publishHoldings(outcome.order.user_id, outcome.holdingsVersion, at);
    }
    return orderView(outcome.order);
  }

  /** `holdings.changed` after a fill, so the value moves before the brokerage's next sync. */
  async #publishHoldings(userId: string, version: number, at: Date): Promise<void> {
    try {
      const holdings = await holdingsOf(this.#sql, userId, version, at);
      await this.deps.sync.js.publish(
        subjects.holdingsChanged(userId),
        encode(HoldingsChanged, holdings),
        { msgID: `${userId}:${version}` },
      );
    } catch (e) {
      this.deps.sync.log.warn("cannot publish holdings after a fill", { error: e });
    }
  }

  async #publish(o: OrderRow, at: Date): Promise<void> {
    const event: OrderEvent = {
      event_id: `${o.id}:${o.state}:${o.filled_quantity}`,
      user_id: o.user_id,
      order_id: o.id,
      account_id: o.account_id,
      provider: o.provider as OrderEvent["provider"],
      broker_order_id: o.broker_order_id,
      client_order_id: o.id,
      state: o.state,
      symbol: o.symbol,
      filled_quantity: o.filled_quantity,
      average_price: o.average_price,
      at: at.toISOString(),
    };
    try {
      await this.deps.sync.js.publish(subjects.orders(o.user_id), encode(OrderEvent, event), {
        msgID: event.event_id,
      });
    } catch (e) {
      // The database holds the order; the event is how screens learn of it sooner.
      this.deps.sync.log.warn("cannot publish an order event", { order_id: o.id, error: e });
    }
  }

  /** Asks the broker to cancel an order (202); a final order answers 409. */
  async cancel(actor: Actor, orderId: string): Promise<OrderView> {
    const order = await this.#row(orderId, actor.userId);
    await audit(this.#sql, actor, "cancel.requested", { orderId, accountId: order.account_id });
    if (isTerminal(order.state)) {
      throw new TradingError(409, `This order is already ${order.state.replace("_", " ")}.`);
    }
    if (!order.broker_order_id) {
      throw new TradingError(
        409,
        "This order has not reached the broker yet: try again in a moment.",
      );
    }
    const { trading, credentials, account } = await this.#broker(order.user_id, order.account_id);
    try {
      await trading.cancel(credentials, account, order.broker_order_id);
    } catch (e) {
      if (e instanceof BrokerRefusal) throw new TradingError(409, e.reason);
      throw new TradingError(
        503,
        "The broker did not confirm the cancel: check the order's state.",
        {
          retryAfterS: 5,
        },
      );
    }
    await audit(this.#sql, actor, "broker.cancel", { orderId, accountId: order.account_id });
    return await this.refresh(orderId).catch(() => orderView(order));
  }

  /**
   * Opens the broker's push of order updates for a connection (Alpaca's `trade_updates`), each
   * update applied to the order Meridian placed as it (client order id = order id); null where
   * the broker pushes none and its orders are polled instead.
   */
  async openUpdates(
    connectionId: string,
    onClose: (reason: string) => void,
  ): Promise<OrderUpdates | null> {
    const [conn] = await this.#sql<(SecretRow & { provider: string })[]>`
      select * from connections where id = ${connectionId}`;
    if (!conn) return null;
    const provider = this.deps.sync.providers.providerFor(conn.provider);
    if (!provider.trading?.updates) return null;
    const credentials = await provider.credentials(this.deps.sync, conn);
    return provider.trading.updates(credentials, {
      onUpdate: (o) => {
        if (!o.client_order_id || !UUID.test(o.client_order_id)) return;
        this.#applyPushed(connectionId, o.client_order_id, o).catch((e) =>
          this.deps.sync.log.warn("applying an order update failed", { error: e })
        );
      },
      onClose,
    });
  }

  async #applyPushed(connectionId: string, orderId: string, o: BrokerOrder): Promise<void> {
    // Only an order of this connection: another connection's id in an update changes nothing.
    const [mine] = await this.#sql`
      select 1 from orders where id = ${orderId} and connection_id = ${connectionId}`;
    if (!mine) return;
    await this.applyReport(orderId, reportOf(o), true, "stream", {
      broker_status: o.broker_status,
    });
  }

  /** Reads the order's state from its broker and applies it. */
  async refresh(orderId: string): Promise<OrderView> {
    const order = await this.#row(orderId);
    if (!order.broker_order_id || isTerminal(order.state)) return orderView(order);
    const { trading, credentials, account } = await this.#broker(order.user_id, order.account_id);
    const status = await trading.status(credentials, account, order.broker_order_id);
    return await this.applyReport(orderId, reportOf(status), true, "status", {
      broker_status: status.broker_status,
    });
  }

  /** One of the user's orders. */
  async get(userId: string, orderId: string): Promise<OrderView> {
    return orderView(await this.#row(orderId, userId));
  }

  /** The user's orders, newest first, optionally of one state and one account. */
  async list(userId: string, filter: { state?: OrderState; account_id?: string } = {}) {
    const rows = await this.#sql.unsafe<OrderRow[]>(
      `select ${ORDER_COLUMNS} from orders
        where user_id = $1 and ($2::text is null or state = $2) and ($3::uuid is null or account_id = $3)
        order by created_at desc, id limit 500`,
      [userId, filter.state ?? null, filter.account_id ?? null],
    );
    return rows.map(orderView);
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A broker order as a report to the state machine. */
function reportOf(o: BrokerOrder): OrderReport & { broker_order_id: string } {
  return {
    state: o.state,
    filled_quantity: o.filled_quantity,
    average_price: o.average_price,
    quantity: o.quantity,
    broker_order_id: o.broker_order_id,
  };
}

/** `p`, or an {@link AmbiguousOutcome} when it has not settled within `ms`. */
async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new AmbiguousOutcome(`no answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
