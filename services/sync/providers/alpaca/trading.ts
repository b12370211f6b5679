/**
 * Trading through an Alpaca account on the official SDK's OrdersApi. Meridian's order id is
 * the order's `client_order_id`, which Alpaca keeps unique per account: an order whose outcome
 * is unknown is found by it (`/v2/orders:by_client_order_id`), and a second submission of the
 * same id would be refused rather than placed twice.
 * @module
 */
import { Exact as Decimal } from "@meridian/portfolio/exact";
import type { OrderState } from "@meridian/proto";
import { obj, str } from "../../normalise/json.ts";
import { ProviderError } from "../call.ts";
import { changingCall, readingCall } from "../../trading/broker_call.ts";
import { type BrokerOrder, BrokerRefusal, type OrderIntent } from "../../trading/types.ts";
import type { TradingCapability } from "../types.ts";
import { alpacaApis, alpacaBasePath } from "./client.ts";
import { alpacaTradeUpdates } from "./trade_updates.ts";
import type { AlpacaCredentials, AlpacaProvider } from "./mod.ts";

/** Alpaca's order statuses, normalised. Statuses of a live order not listed are `accepted`. */
const STATES: Record<string, OrderState> = {
  partially_filled: "partially_filled",
  filled: "filled",
  canceled: "canceled",
  expired: "expired",
  rejected: "rejected",
  replaced: "canceled",
};

/** An SDK order, normalised. */
export function alpacaOrder(raw: unknown): BrokerOrder {
  const o = obj(raw);
  const status = str(o.status) ?? "new";
  return {
    broker_order_id: str(o.id) ?? "",
    state: STATES[status] ?? "accepted",
    quantity: str(o.qty),
    filled_quantity: str(o.filledQty) ?? str(o.filled_qty) ?? "0",
    average_price: str(o.filledAvgPrice) ?? str(o.filled_avg_price),
    broker_status: status,
  };
}

function orderRequest(orderId: string, intent: OrderIntent) {
  return {
    clientOrderId: orderId,
    symbol: intent.symbol,
    side: intent.side,
    type: intent.type,
    timeInForce: intent.time_in_force,
    ...(intent.quantity !== null ? { qty: intent.quantity } : { notional: intent.notional! }),
    ...(intent.limit_price !== null ? { limitPrice: intent.limit_price } : {}),
    ...(intent.stop_price !== null ? { stopPrice: intent.stop_price } : {}),
  };
}

/** Alpaca's trading, for the provider `al`. */
export function alpacaTrading(al: AlpacaProvider): TradingCapability<AlpacaCredentials> {
  const apis = (c: AlpacaCredentials) => alpacaApis(al.config, c.keyId, c.secret, c.paper);
  const alpacaAssets = (c: AlpacaCredentials) => apis(c).assets;
  /** The account's buying power, when it covers `amount`. */
  function checkBuyingPower(account: Record<string, unknown>, amount: string): string {
    const buyingPower = str(account.buyingPower) ?? str(account.buying_power) ?? "0";
    if (new Decimal(amount).gt(buyingPower)) {
      throw new BrokerRefusal(
        `Insufficient buying power: the order needs about ${amount}, ${buyingPower} is available.`,
        null,
      );
    }
    return buyingPower;
  }

  /** The units of the symbol the account holds, when they cover `quantity`. */
  async function checkHeld(
    creds: AlpacaCredentials,
    intent: OrderIntent,
    quantity: string,
  ): Promise<string> {
    let held = "0";
    try {
      const position = obj(
        await al.call(
          creds.keyId,
          "getOpenPosition",
          () => apis(creds).positions.getOpenPosition({ symbolOrAssetId: intent.symbol }),
        ),
      );
      held = str(position.qty) ?? "0";
    } catch (e) {
      if (!(e instanceof ProviderError && e.status === 404)) throw e;
    }
    if (new Decimal(quantity).gt(held)) {
      throw new BrokerRefusal(
        `Insufficient quantity: the account holds ${held} ${intent.symbol}.`,
        null,
      );
    }
    return held;
  }

  return {
    async preview(creds, _account, intent, lastPrice) {
      const api = apis(creds);
      const price = intent.limit_price ?? intent.stop_price ?? lastPrice;
      if (price === null) {
        throw new BrokerRefusal(
          `There is no price for ${intent.symbol} yet to estimate the order.`,
          null,
        );
      }
      const quantity = intent.quantity ??
        new Decimal(intent.notional!).div(price).toDecimalPlaces(9, Decimal.ROUND_DOWN).toFixed();
      const amount = intent.notional ??
        new Decimal(quantity).mul(price).toDecimalPlaces(2).toFixed(2);
      const account = obj(
        await readingCall(() =>
          al.call(creds.keyId, "getAccount", () => api.accounts.getAccount())
        ),
      );
      const cash = str(account.cash);
      const available = intent.side === "buy"
        ? checkBuyingPower(account, amount)
        : await checkHeld(creds, intent, quantity);
      // A buy spends the amount, a sell brings it in.
      const signed = intent.side === "buy" ? new Decimal(amount).neg() : new Decimal(amount);
      return {
        quantity,
        price,
        estimated_amount: amount,
        commission: "0",
        remaining_cash: cash === null ? null : signed.plus(cash).toFixed(2),
        available,
        trade_id: null,
        trade_expires_at: null,
      };
    },

    async place(creds, _account, request) {
      const api = apis(creds);
      const raw = await changingCall(() =>
        al.call(
          creds.keyId,
          "postOrder",
          () =>
            api.orders.postOrder({
              postOrderRequest: orderRequest(request.order_id, request.intent) as never,
            }),
          undefined,
          1,
        )
      );
      return alpacaOrder(raw);
    },

    async find(creds, _account, request) {
      const api = apis(creds);
      try {
        return alpacaOrder(
          await al.call(
            creds.keyId,
            "getOrderByClientOrderId",
            () => api.orders.getOrderByClientOrderId({ clientOrderId: request.order_id }),
          ),
        );
      } catch (e) {
        if (e instanceof ProviderError && e.status === 404) return null;
        throw e;
      }
    },

    async status(creds, _account, brokerOrderId) {
      const api = apis(creds);
      return alpacaOrder(
        await readingCall(() =>
          al.call(
            creds.keyId,
            "getOrderByOrderID",
            () => api.orders.getOrderByOrderID({ orderId: brokerOrderId }),
          )
        ),
      );
    },

    updates(creds, handlers) {
      const url = `${alpacaBasePath(al.config, creds.paper).replace(/^http/, "ws")}/stream`;
      return alpacaTradeUpdates(url, creds, handlers);
    },

    async searchSymbols(creds, _account, query) {
      const api = alpacaAssets(creds);
      const assets = await readingCall(() =>
        al.call(
          creds.keyId,
          "getV2Assets",
          () => api.getV2Assets({ status: "active", assetClass: "us_equity" } as never),
        )
      ) as unknown[];
      const q = query.toUpperCase();
      return assets.map(obj)
        .filter((a) => a.tradable !== false)
        .map((a) => ({ symbol: str(a.symbol) ?? "", name: str(a.name) ?? "" }))
        .filter((a) => a.symbol.startsWith(q) || a.name.toUpperCase().includes(q))
        .sort((x, y) =>
          Number(!x.symbol.startsWith(q)) - Number(!y.symbol.startsWith(q)) ||
          x.symbol.localeCompare(y.symbol)
        )
        .slice(0, 20);
    },

    async cancel(creds, _account, brokerOrderId) {
      const api = apis(creds);
      await changingCall(() =>
        al.call(
          creds.keyId,
          "deleteOrderByOrderID",
          () => api.orders.deleteOrderByOrderID({ orderId: brokerOrderId }),
          undefined,
          1,
        )
      );
    },
  };
}
