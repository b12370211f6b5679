/**
 * The shapes of trading shared by the providers' trading capabilities and the order flow:
 * what a person asks for, what a preview shows, what a broker reports, and how a broker call
 * ends when it does not succeed.
 * @module
 */
import type { OrderState } from "@meridian/proto";

/** Order types Meridian offers. */
export type OrderType = "market" | "limit" | "stop" | "stop_limit";
/** Times in force Meridian offers. */
export type TimeInForce = "day" | "gtc" | "ioc" | "fok";

/** An order as a person asks for it (decimals as strings). */
export interface OrderIntent {
  symbol: string;
  side: "buy" | "sell";
  /** Exactly one of quantity and notional. */
  quantity: string | null;
  notional: string | null;
  type: OrderType;
  limit_price: string | null;
  stop_price: string | null;
  time_in_force: TimeInForce;
}

/** The account an order goes to, as the broker knows it. */
export interface BrokerAccount {
  /** Meridian's account id. */
  id: string;
  /** The broker's account id. */
  external_id: string;
  currency: string;
}

/** A broker's answer to a preview: its estimate, and (SnapTrade) the trade to place later. */
export interface BrokerPreview {
  /** Units the order is for (a notional order's estimate). */
  quantity: string;
  /** The price the estimate uses. */
  price: string;
  estimated_amount: string;
  commission: string;
  /** Cash left after the order, in the account's currency, where the broker says. */
  remaining_cash: string | null;
  /** Buying power (buys) or units held (sells) the estimate was checked against. */
  available: string | null;
  /** The broker's trade to place (SnapTrade's trade id, valid five minutes), if any. */
  trade_id: string | null;
  /** When the broker's trade id expires, if it does. */
  trade_expires_at: string | null;
}

/** An order as a broker reports it, normalised. */
export interface BrokerOrder {
  broker_order_id: string;
  state: OrderState;
  quantity: string | null;
  filled_quantity: string;
  average_price: string | null;
  /** The broker's own status word, for the audit trail. */
  broker_status: string;
}

/** What placing sends: Meridian's order id (Alpaca's client_order_id) and the preview. */
export interface PlaceRequest {
  order_id: string;
  intent: OrderIntent;
  trade_id: string | null;
}

/** A symbol an account can trade, as a search lists it. */
export interface TradableSymbol {
  symbol: string;
  name: string;
}

/** The broker refused, for certain: nothing was placed. */
export class BrokerRefusal extends Error {
  override name = "BrokerRefusal";
  constructor(readonly reason: string, readonly status: number | null) {
    super(reason);
  }
}

/**
 * The outcome is not known (a timeout, a lost connection, a 5xx): the order may or may not be
 * at the broker. Never retried blindly; the broker is asked first.
 */
export class AmbiguousOutcome extends Error {
  override name = "AmbiguousOutcome";
  constructor(readonly detail: string) {
    super(detail);
  }
}
