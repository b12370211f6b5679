/**
 * Trading: the order flow (`OrderDesk`), its pure parts (routing, risk, the order state
 * machine), the kill switch and the audit trail. The providers' trading capabilities live
 * with each provider (`providers/<name>/trading.ts`).
 * @module
 */
export { type Actor, audit } from "./audit.ts";
export { OrderFollower } from "./follower.ts";
export { type Halt, haltReason, listHalts } from "./halts.ts";
export { advance, isTerminal, type OrderProgress, type OrderReport } from "./order_state.ts";
export {
  ORDER_INTERVAL_MS,
  OrderDesk,
  type OrderView,
  PLACE_TIMEOUT_MS,
  PREVIEW_TTL_MS,
  type TradingDeps,
  TradingError,
} from "./orders.ts";
export { checkRisk, DEFAULT_RISK_LIMITS, type RiskLimits } from "./risk.ts";
export { routeOrder } from "./routing.ts";
export type { OrderIntent, OrderType, TimeInForce } from "./types.ts";
