/**
 * Orders as the dashboard shows them, pure: what each state is called, which are final, how a
 * stream `order` event or a fresher answer updates a known order (never backwards: events
 * arrive late and more than once, and a final state stays final), and the words for an
 * order's action, size and type.
 * @module
 */
import { Exact } from "@meridian/portfolio/reprice";
import { isFinalOrderState, ORDER_STAGE } from "@meridian/proto/order_states";
import { formatMoney, formatQuantity } from "./format.ts";
import type {
  Order,
  OrderEvent,
  OrderState,
  OrderType,
  Side,
  TimeInForce,
} from "./order_schema.ts";

/** What each state is called on screen. */
export const STATE_LABELS: Record<OrderState, string> = {
  pending: "Pending",
  submitted: "Submitted",
  accepted: "Accepted by the broker",
  partially_filled: "Partly filled",
  filled: "Filled",
  canceled: "Canceled",
  rejected: "Rejected",
  expired: "Expired",
  failed: "Failed",
  unknown: "Checking with the broker",
};

/** The tone of a state's badge. */
export function stateTone(state: OrderState): "done" | "bad" | "open" | "muted" {
  if (state === "filled") return "done";
  if (state === "rejected" || state === "failed") return "bad";
  if (state === "canceled" || state === "expired") return "muted";
  return "open";
}

/** Whether nothing more happens to an order in `state` (no cancel offered). */
export const isFinal = isFinalOrderState;

/** How far along a state is; `unknown` sits with `submitted` (the server's own ranking). */
const STAGE = ORDER_STAGE;

function maxDecimal(a: string, b: string | null): string {
  if (b === null) return a;
  return new Exact(b).cmp(a) > 0 ? b : a;
}

/**
 * `order` after a stream event about it. A final order does not change; a report of an
 * earlier stage than the order's is stale; the filled quantity never falls.
 */
export function applyOrderEvent(order: Order, ev: OrderEvent): Order {
  if (ev.order_id !== order.id) return order;
  if (isFinal(order.state)) return order;
  // `unknown` is settled by any broker report, whatever its stage.
  if (order.state !== "unknown" && STAGE[ev.state] < STAGE[order.state]) return order;
  const filled = maxDecimal(order.filled_quantity, ev.filled_quantity);
  return {
    ...order,
    state: ev.state,
    filled_quantity: filled,
    average_price: ev.average_price ?? order.average_price,
    updated_at: Date.parse(ev.at) > Date.parse(order.updated_at) ? ev.at : order.updated_at,
  };
}

/**
 * The fresher of two readings of one order: a final one, else the further stage, else the
 * more filled, else the later `updated_at`. A list requested before an event arrived must not
 * undo what the event showed.
 */
export function fresher(a: Order, b: Order): Order {
  if (isFinal(a.state) !== isFinal(b.state)) return isFinal(a.state) ? a : b;
  if (STAGE[a.state] !== STAGE[b.state]) return STAGE[a.state] > STAGE[b.state] ? a : b;
  const c = new Exact(a.filled_quantity).cmp(b.filled_quantity);
  if (c !== 0) return c > 0 ? a : b;
  return Date.parse(b.updated_at) > Date.parse(a.updated_at) ? b : a;
}

/** Orders newest first. */
export function byNewest(orders: Iterable<Order>): Order[] {
  return [...orders].sort((x, y) =>
    Date.parse(y.created_at) - Date.parse(x.created_at) || y.id.localeCompare(x.id)
  );
}

/** Whether `ev` moved units (a fill the holdings should show). */
export function eventFilled(before: Order | undefined, ev: OrderEvent): boolean {
  if (ev.filled_quantity === null || !/[1-9]/.test(ev.filled_quantity)) return false;
  if (!before) return true;
  return new Exact(ev.filled_quantity).cmp(before.filled_quantity) > 0;
}

export const SIDE_WORDS: Record<Side, string> = { buy: "Buy", sell: "Sell" };

export const TYPE_LABELS: Record<OrderType, string> = {
  market: "Market",
  limit: "Limit",
  stop: "Stop",
  stop_limit: "Stop limit",
};

export const TIF_LABELS: Record<TimeInForce, string> = {
  day: "Day",
  gtc: "Good till canceled",
  ioc: "Immediate or cancel",
  fok: "Fill or kill",
};

type Sized = Pick<Order, "side" | "symbol" | "quantity" | "notional">;

/** "Buy 1 AAPL", "Sell 2.5 MSFT", "Buy $500.00 of AAPL". */
export function actionText(o: Sized, currency: string | null): string {
  const size = o.quantity !== null
    ? `${formatQuantity(o.quantity)} ${o.symbol}`
    : `${formatMoney(o.notional, currency ?? "USD")} of ${o.symbol}`;
  return `${SIDE_WORDS[o.side]} ${size}`;
}

/** "Market", "Limit at $180.00", "Stop at $170.00", "Stop at $170.00, limit $168.00". */
export function typeText(
  o: Pick<Order, "type" | "limit_price" | "stop_price">,
  currency: string | null,
): string {
  const money = (v: string | null) => formatMoney(v, currency ?? "USD");
  switch (o.type) {
    case "market":
      return "Market";
    case "limit":
      return `Limit at ${money(o.limit_price)}`;
    case "stop":
      return `Stop at ${money(o.stop_price)}`;
    case "stop_limit":
      return `Stop at ${money(o.stop_price)}, limit ${money(o.limit_price)}`;
  }
}

/** "Filled 1 of 2 at $187.25" once anything filled; null before. */
export function fillText(o: Order): string | null {
  if (!/[1-9]/.test(o.filled_quantity)) return null;
  const of = o.quantity !== null && o.state !== "filled" ? ` of ${formatQuantity(o.quantity)}` : "";
  const at = o.average_price !== null
    ? ` at ${formatMoney(o.average_price, o.currency ?? "USD")}`
    : "";
  return `Filled ${formatQuantity(o.filled_quantity)}${of}${at}`;
}
