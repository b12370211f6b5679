/**
 * Trading through a SnapTrade trade connection on the official SDK: the order impact
 * (`/trade/impact`, whose trade id lives five minutes and is placed at most once), placing that
 * trade, cancelling, and the account's orders. SnapTrade takes no client order id on this
 * path, so an order whose outcome is unknown is found among the account's orders by what it
 * was: symbol, action, units, and placed after it was sent.
 * @module
 */
import { Exact as Decimal } from "@meridian/portfolio/exact";
import type { OrderState } from "@meridian/proto";
import { arr, obj, str } from "../../normalise/json.ts";
import { changingCall, readingCall } from "../../trading/broker_call.ts";
import { type BrokerOrder, BrokerRefusal, type OrderIntent } from "../../trading/types.ts";
import type { TradingCapability } from "../types.ts";
import type { SnaptradeCredentials, SnaptradeProvider } from "./mod.ts";

/** How long SnapTrade keeps a trade from `/trade/impact` placeable. */
export const SNAPTRADE_TRADE_TTL_MS = 5 * 60_000;

/** SnapTrade's order statuses, normalised. Statuses of a live order not listed are `accepted`. */
const STATES: Record<string, OrderState> = {
  PARTIAL: "partially_filled",
  EXECUTED: "filled",
  CANCELED: "canceled",
  PARTIAL_CANCELED: "canceled",
  REPLACED: "canceled",
  REJECTED: "rejected",
  FAILED: "rejected",
  EXPIRED: "expired",
};

const ORDER_TYPES = { market: "Market", limit: "Limit", stop: "Stop", stop_limit: "StopLimit" };
const TIMES_IN_FORCE = { day: "Day", gtc: "GTC", ioc: "IOC", fok: "FOK" };

/** A SnapTrade `AccountOrderRecord`, normalised. */
export function snaptradeOrder(raw: unknown): BrokerOrder {
  const o = obj(raw);
  const status = str(o.status) ?? "NONE";
  return {
    broker_order_id: str(o.brokerage_order_id) ?? "",
    state: STATES[status] ?? "accepted",
    quantity: str(o.total_quantity),
    filled_quantity: str(o.filled_quantity) ?? "0",
    average_price: str(o.execution_price),
    broker_status: status,
  };
}

function tickerOf(record: Record<string, unknown>): string | null {
  const u = obj(record.universal_symbol);
  return str(u.symbol) ?? str(obj(u.symbol).symbol);
}

/** SnapTrade's trading, for the provider `st`. */
export function snaptradeTrading(st: SnaptradeProvider): TradingCapability<SnaptradeCredentials> {
  const api = st.client;
  const user = (c: SnaptradeCredentials) => ({ userId: c.userId, userSecret: c.userSecret });

  /** The universal symbol id SnapTrade trades `ticker` by in this account. */
  async function universalSymbolId(
    creds: SnaptradeCredentials,
    accountId: string,
    ticker: string,
  ): Promise<string> {
    const res = await readingCall(() =>
      st.call("symbolSearchUserAccount", () =>
        api.referenceData.symbolSearchUserAccount(
          { ...user(creds), accountId, substring: ticker } as never,
        ))
    );
    const match = arr(res.data).map(obj).find((s) => str(s.symbol) === ticker);
    const id = match && str(match.id);
    if (!id) throw new BrokerRefusal(`${ticker} cannot be traded in this account.`, null);
    return id;
  }

  async function accountOrders(creds: SnaptradeCredentials, accountId: string) {
    const res = await readingCall(() =>
      st.call("getUserAccountOrders", () =>
        api.accountInformation.getUserAccountOrders(
          { ...user(creds), accountId, state: "all", days: 7 } as never,
        ))
    );
    return arr(res.data).map(obj);
  }

  return {
    async preview(creds, account, intent: OrderIntent) {
      const symbolId = await universalSymbolId(creds, account.external_id, intent.symbol);
      const res = await readingCall(() =>
        st.call("getOrderImpact", () =>
          api.trading.getOrderImpact({
            ...user(creds),
            account_id: account.external_id,
            action: intent.side === "buy" ? "BUY" : "SELL",
            universal_symbol_id: symbolId,
            order_type: ORDER_TYPES[intent.type],
            time_in_force: TIMES_IN_FORCE[intent.time_in_force],
            ...(intent.limit_price !== null ? { price: Number(intent.limit_price) } : {}),
            ...(intent.stop_price !== null ? { stop: Number(intent.stop_price) } : {}),
            ...(intent.quantity !== null
              ? { units: Number(intent.quantity) }
              : { notional_value: intent.notional! }),
          } as never))
      );
      const body = obj(res.data);
      const trade = obj(body.trade);
      const impact = obj(arr(body.trade_impacts)[0]);
      const tradeId = str(trade.id);
      const units = str(trade.units);
      const price = str(trade.price);
      if (!tradeId || !units || !price) {
        throw new Error("SnapTrade answered an impact without a trade");
      }
      return {
        quantity: units,
        price,
        estimated_amount: new Decimal(units).mul(price).toDecimalPlaces(2).toFixed(2),
        commission: str(impact.estimated_commission) ?? "0",
        remaining_cash: str(impact.remaining_cash),
        available: null,
        trade_id: tradeId,
        trade_expires_at: new Date(Date.now() + SNAPTRADE_TRADE_TTL_MS).toISOString(),
      };
    },

    async place(creds, _account, request) {
      if (!request.trade_id) throw new BrokerRefusal("The preview has no SnapTrade trade.", null);
      const res = await changingCall(() =>
        st.call(
          "placeOrder",
          () =>
            api.trading.placeOrder(
              { ...user(creds), tradeId: request.trade_id!, wait_to_confirm: true } as never,
            ),
          undefined,
          1,
        )
      );
      return snaptradeOrder(res.data);
    },

    async find(creds, account, request, sentAt) {
      const { intent } = request;
      const action = intent.side === "buy" ? "BUY" : "SELL";
      const since = sentAt.getTime() - 5_000;
      const match = (await accountOrders(creds, account.external_id)).find((o) =>
        tickerOf(o) === intent.symbol && str(o.action) === action &&
        (intent.quantity === null ||
          new Decimal(str(o.total_quantity) ?? "0").eq(intent.quantity)) &&
        Date.parse(str(o.time_placed) ?? "") >= since
      );
      return match ? snaptradeOrder(match) : null;
    },

    async status(creds, account, brokerOrderId) {
      const found = (await accountOrders(creds, account.external_id)).find((o) =>
        str(o.brokerage_order_id) === brokerOrderId
      );
      if (!found) throw new BrokerRefusal("SnapTrade no longer lists this order.", 404);
      return snaptradeOrder(found);
    },

    async searchSymbols(creds, account, query) {
      const res = await readingCall(() =>
        st.call("symbolSearchUserAccount", () =>
          api.referenceData.symbolSearchUserAccount(
            { ...user(creds), accountId: account.external_id, substring: query } as never,
          ))
      );
      return arr(res.data).map(obj)
        .map((s) => ({ symbol: str(s.symbol) ?? "", name: str(s.description) ?? "" }))
        .filter((s) => s.symbol !== "")
        .slice(0, 20);
    },

    async cancel(creds, account, brokerOrderId) {
      await changingCall(() =>
        st.call(
          "cancelOrder",
          () =>
            api.trading.cancelOrder(
              {
                ...user(creds),
                accountId: account.external_id,
                brokerage_order_id: brokerOrderId,
              } as never,
            ),
          undefined,
          1,
        )
      );
    },
  };
}
