/**
 * `GET /v2/orders`: an account's orders filtered by status, symbols, side and submission time,
 * as Alpaca pages them (default open, 50, newest first).
 * @module
 */

import { invalid } from "./errors.ts";
import { countParam, directionParam, timeParam } from "./query.ts";
import { orderJson } from "./shapes.ts";
import { type Account, isOpen } from "./state.ts";

/** `GET /v2/orders` with Alpaca's filters. */
export function listOrders(acct: Account, q: URLSearchParams): Record<string, unknown>[] {
  const status = q.get("status") ?? "open";
  if (!["open", "closed", "all"].includes(status)) throw invalid("invalid status");
  const limit = countParam(q, "limit", 50, 500);
  const direction = directionParam(q);
  const symbols = q.get("symbols")
    ? new Set(q.get("symbols")!.split(",").map((s) => s.trim().toUpperCase()).filter(Boolean))
    : null;
  const side = q.get("side");
  const after = timeParam(q, "after");
  const until = timeParam(q, "until");
  let list = acct.orders.filter((o) => {
    const open = isOpen(o);
    if (status === "open" && !open) return false;
    if (status === "closed" && open) return false;
    // Crypto symbols match with or without the slash (`BTC/USD`, `BTCUSD`).
    if (
      symbols && !symbols.has(o.asset.symbol) && !symbols.has(o.asset.symbol.replace("/", ""))
    ) {
      return false;
    }
    if (side && o.side !== side) return false;
    const t = Date.parse(o.submitted_at);
    if (after !== null && t <= after) return false;
    if (until !== null && t >= until) return false;
    return true;
  });
  list = direction === "asc" ? list : [...list].reverse();
  return list.slice(0, limit).map(orderJson);
}
