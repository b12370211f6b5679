/**
 * Order states Meridian tracks, normalised across brokers, with how far along each is and which
 * are final: the one definition the order state machine (services/sync/trading) and the
 * dashboard share. No dependencies, so the browser bundle can import it.
 * @module
 */

/** Every state, in the order of an order's life. */
export const ORDER_STATES = [
  "pending",
  "submitted",
  "accepted",
  "partially_filled",
  "filled",
  "canceled",
  "rejected",
  "expired",
  "failed",
  /** Sent, with no answer (a timeout, a lost connection): settled by asking the broker. */
  "unknown",
] as const;
export type OrderState = typeof ORDER_STATES[number];

/**
 * How far along an order is; a report of an earlier stage than the order's is stale. `unknown`
 * sits with `submitted`: any broker report settles it.
 */
export const ORDER_STAGE: Readonly<Record<OrderState, number>> = {
  pending: 0,
  submitted: 1,
  unknown: 1,
  accepted: 2,
  partially_filled: 3,
  filled: 4,
  canceled: 4,
  rejected: 4,
  expired: 4,
  failed: 4,
};

/** Whether nothing more happens to an order in `state`. */
export function isFinalOrderState(state: OrderState): boolean {
  return ORDER_STAGE[state] === 4;
}
