/**
 * The trading answers as the dashboard checks them where they enter: `GET /api/orders…`,
 * `POST /api/orders/preview`, `POST /api/orders`, the trading halts and the stream's `order`
 * event. The api's own schemas (services/api/schemas.ts, proto's `OrderEvent`) restated with
 * `zod/mini`, like value_schema.ts and for the same reason (bundle size);
 * `order_schema_test.ts` checks that both accept the same answers.
 * @module
 */
import * as z from "zod/mini";
import { ORDER_STATES } from "@meridian/proto/order_states";

const Decimal = z.string().check(z.regex(/^-?\d+(\.\d+)?$/));
const Timestamp = z.iso.datetime({ offset: true });
const Id = z.uuid();
const Provider = z.enum(["snaptrade", "plaid", "alpaca"]);
const Side = z.enum(["buy", "sell"]);
const OrderType = z.enum(["market", "limit", "stop", "stop_limit"]);
const TimeInForce = z.enum(["day", "gtc", "ioc", "fok"]);

export { ORDER_STATES };
export const OrderState = z.enum(ORDER_STATES);
export type OrderState = z.infer<typeof OrderState>;
export type Side = z.infer<typeof Side>;
export type OrderType = z.infer<typeof OrderType>;
export type TimeInForce = z.infer<typeof TimeInForce>;

/** One order (`GET /api/orders/:id`'s `order`). */
export const Order = z.object({
  id: Id,
  state: OrderState,
  account_id: Id,
  provider: Provider,
  symbol: z.string(),
  side: Side,
  type: OrderType,
  time_in_force: TimeInForce,
  quantity: z.nullable(Decimal),
  notional: z.nullable(Decimal),
  limit_price: z.nullable(Decimal),
  stop_price: z.nullable(Decimal),
  filled_quantity: Decimal,
  average_price: z.nullable(Decimal),
  estimated_amount: z.nullable(Decimal),
  currency: z.nullable(z.string()),
  reason: z.nullable(z.string()),
  created_at: Timestamp,
  updated_at: Timestamp,
});
export type Order = z.infer<typeof Order>;
export const OrderOne = z.object({ order: Order });
export const OrderList = z.object({ orders: z.array(Order) });

/** `POST /api/orders/preview`: what the confirmation shows. */
export const Preview = z.object({
  preview_id: Id,
  expires_at: Timestamp,
  account_id: Id,
  account_name: z.string(),
  provider: Provider,
  symbol: z.string(),
  side: Side,
  quantity: Decimal,
  notional: z.nullable(Decimal),
  type: OrderType,
  limit_price: z.nullable(Decimal),
  stop_price: z.nullable(Decimal),
  time_in_force: TimeInForce,
  price: Decimal,
  estimated_amount: Decimal,
  commission: Decimal,
  remaining_cash: z.nullable(Decimal),
  currency: z.string(),
  risk: z.string(),
});
export type Preview = z.infer<typeof Preview>;

/** `GET /api/orders/accounts`: the accounts that can take an order, best first, and the rest. */
export const OrderAccounts = z.object({
  eligible: z.array(z.object({
    account_id: Id,
    name: z.string(),
    provider: Provider,
    currency: z.string(),
    held: Decimal,
  })),
  ineligible: z.array(z.object({ account_id: Id, reason: z.string() })),
});
export type OrderAccounts = z.infer<typeof OrderAccounts>;
export type EligibleAccount = OrderAccounts["eligible"][number];

/** `GET /api/orders/symbols`. */
export const SymbolList = z.object({
  symbols: z.array(z.object({ symbol: z.string(), name: z.string() })),
});
export type SymbolMatch = z.infer<typeof SymbolList>["symbols"][number];

/** `GET /api/trading/halts`. */
export const Halt = z.object({
  id: Id,
  scope: z.enum(["global", "user", "account"]),
  account_id: z.nullable(Id),
  reason: z.string(),
  engaged_at: Timestamp,
});
export type Halt = z.infer<typeof Halt>;
export const HaltList = z.object({ halts: z.array(Halt) });
export const HaltOne = z.object({ halt: Halt });

/** The stream's `order` event: proto's `OrderEvent`. */
export const OrderEvent = z.object({
  event_id: z.string().check(z.minLength(1), z.maxLength(256)),
  user_id: Id,
  order_id: z.nullable(Id),
  account_id: z.nullable(Id),
  provider: Provider,
  broker_order_id: z.nullable(z.string()),
  client_order_id: z.nullable(z.string()),
  state: OrderState,
  symbol: z.nullable(z.string()),
  filled_quantity: z.nullable(Decimal),
  average_price: z.nullable(Decimal),
  at: Timestamp,
});
export type OrderEvent = z.infer<typeof OrderEvent>;

/**
 * `schema`'s reading of `data`, or an error: an answer that is not what the api documents is
 * a bug to report, not something to show half of.
 */
export function checked<T>(schema: z.ZodMiniType<T>, data: unknown, what: string): T {
  const r = schema.safeParse(data);
  if (r.success) return r.data;
  console.warn(`an unexpected ${what} answer`, r.error.issues.slice(0, 3));
  throw new Error(`Meridian answered with something unexpected (${what}). Try again.`);
}

/** The stream's `order` event data, or null when it is not one. */
export function parseOrderEvent(data: string): OrderEvent | null {
  try {
    const r = OrderEvent.safeParse(JSON.parse(data));
    return r.success ? r.data : null;
  } catch {
    return null;
  }
}
