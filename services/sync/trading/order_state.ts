/**
 * The order state machine: what a broker's report (or our own decision) does to an order.
 * Pure. Brokers report out of order and more than once (a fill before the acknowledgement,
 * the same fill twice, a late `accepted` after a fill), so a report is applied, ignored as
 * stale or repeated, or refused as impossible; a terminal state never changes, and the filled
 * quantity never falls and never exceeds the order's quantity.
 * @module
 */
import { Exact as Decimal } from "@meridian/portfolio/exact";
import { isFinalOrderState, ORDER_STAGE as STAGE, type OrderState } from "@meridian/proto";

/** Whether `state` is final. */
export const isTerminal = isFinalOrderState;

/** What the machine tracks of an order. */
export interface OrderProgress {
  state: OrderState;
  /** Units ordered; null for a notional order until the broker says. */
  quantity: string | null;
  filled_quantity: string;
  average_price: string | null;
}

/** A report about an order: from the broker, or Meridian's own (`failed`, `unknown`). */
export interface OrderReport {
  state: OrderState;
  /** Cumulative filled units, as brokers report them. */
  filled_quantity?: string | null;
  average_price?: string | null;
  /** Units ordered, when the broker settles a notional order's quantity. */
  quantity?: string | null;
}

/** The outcome of a report. */
export type Transition =
  | { kind: "apply"; next: OrderProgress }
  | { kind: "ignore"; reason: string }
  | { kind: "refuse"; reason: string };

/** Meridian's own states: never reported by a broker, only decided here. */
const LOCAL_ONLY: ReadonlySet<OrderState> = new Set<OrderState>(["pending", "failed", "unknown"]);

/**
 * What `report` does to an order in `current`. `fromBroker` false marks Meridian's own
 * decisions: `failed` (it never reached the broker) and `unknown` (the outcome of sending it is
 * not known), allowed only before the broker has said anything.
 */
export function advance(
  current: OrderProgress,
  report: OrderReport,
  fromBroker = true,
): Transition {
  if (fromBroker && LOCAL_ONLY.has(report.state)) {
    return { kind: "refuse", reason: `a broker cannot report ${report.state}` };
  }
  if (!fromBroker && !LOCAL_ONLY.has(report.state)) {
    return { kind: "refuse", reason: `only a broker reports ${report.state}` };
  }
  const filledNow = new Decimal(current.filled_quantity);
  const quantity = current.quantity ?? report.quantity ?? null;
  const reported = report.filled_quantity == null
    ? report.state === "filled" && quantity !== null ? new Decimal(quantity) : filledNow
    : new Decimal(report.filled_quantity);
  if (reported.isNaN() || reported.isNegative()) {
    return { kind: "refuse", reason: "the filled quantity is not a quantity" };
  }
  if (quantity !== null && reported.gt(quantity)) {
    return {
      kind: "refuse",
      reason: `filled ${reported.toFixed()} exceeds the ${quantity} ordered`,
    };
  }
  if (isTerminal(current.state)) {
    const same = report.state === current.state && reported.eq(filledNow);
    return same
      ? { kind: "ignore", reason: "repeated" }
      : { kind: "refuse", reason: `the order is already ${current.state}` };
  }
  if (!fromBroker) {
    // Meridian decides only while the broker has said nothing.
    if (STAGE[current.state] > 1) {
      return { kind: "refuse", reason: `the broker has already reported ${current.state}` };
    }
    return {
      kind: "apply",
      next: { ...current, state: report.state, quantity },
    };
  }
  if (reported.lt(filledNow)) {
    return { kind: "ignore", reason: "an older report (less filled)" };
  }
  const grew = reported.gt(filledNow);
  if (report.state === "filled" && quantity !== null && !reported.eq(quantity)) {
    return { kind: "refuse", reason: "filled, but not the quantity ordered" };
  }
  if (report.state === "partially_filled" && reported.isZero()) {
    return { kind: "refuse", reason: "partially filled with nothing filled" };
  }
  // A fill already counted arrives again, or an earlier stage arrives late.
  if (!grew && report.state === current.state) return { kind: "ignore", reason: "repeated" };
  if (!grew && STAGE[report.state] < STAGE[current.state] && current.state !== "unknown") {
    return { kind: "ignore", reason: `stale: the order is already ${current.state}` };
  }
  // Fills reported with an earlier stage (accepted, with units filled) count as partial fills.
  const state: OrderState = grew && STAGE[report.state] < STAGE.partially_filled
    ? "partially_filled"
    : report.state;
  return {
    kind: "apply",
    next: {
      state,
      quantity,
      filled_quantity: reported.toFixed(),
      average_price: report.average_price ?? current.average_price,
    },
  };
}
