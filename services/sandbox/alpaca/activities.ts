/**
 * Account activities (`GET /v2/account/activities`): a `FILL` per fill, and the seeded history
 * (a cash deposit, then one buy per holding) that explains a demo account's opening book.
 * @module
 */

import { stableId } from "./assets.ts";
import { countParam, directionParam, timeParam } from "./query.ts";
import type { Account } from "./state.ts";

/** Alpaca's sortable activity id: `YYYYMMDDhhmmssmmm::<uuid>`. */
function activityId(ms: number): string {
  const stamp = new Date(ms).toISOString().replace(/[-:T.Z]/g, "");
  return `${stamp}::${crypto.randomUUID()}`;
}

/** The fields of a `FILL` activity after its id, in Alpaca's order (decimals as strings). */
export interface FillFields {
  transaction_time: string;
  type: "fill" | "partial_fill";
  price: string;
  qty: string;
  side: "buy" | "sell";
  symbol: string;
  leaves_qty: string;
  order_id: string;
  cum_qty: string;
  order_status: "filled" | "partially_filled";
}

/** Appends a `FILL` activity whose id sorts at `idMs`. */
export function recordFill(acct: Account, idMs: number, fill: FillFields): void {
  acct.activities.push({ id: activityId(idMs), activity_type: "FILL", ...fill });
}

/**
 * Seeds a history that explains the current book: one cash deposit (`CSD`) covering the cash and
 * every holding's cost, then a buy `FILL` per holding at its average price, on fixed past dates.
 */
export function seedHistory(acct: Account, startMs: number): void {
  let deposit = acct.cash;
  for (const h of acct.holdings.values()) deposit = deposit.plus(h.cost);
  const day = (n: number) => new Date(startMs + n * 86_400_000);
  acct.activities.push({
    id: activityId(day(0).getTime()),
    activity_type: "CSD",
    date: day(0).toISOString().slice(0, 10),
    net_amount: deposit.toFixed(),
    description: "Cash deposit",
    status: "executed",
  });
  let n = 1;
  for (const [symbol, h] of acct.holdings) {
    const t = day(n++).getTime() + 15 * 3_600_000; // 15:00 UTC, inside market hours
    recordFill(acct, t, {
      transaction_time: new Date(t).toISOString(),
      type: "fill",
      price: h.cost.div(h.qty).toFixed(),
      qty: h.qty.toFixed(),
      side: "buy",
      symbol,
      leaves_qty: "0",
      order_id: stableId(`seed-order:${acct.key_id}:${symbol}`),
      cum_qty: h.qty.toFixed(),
      order_status: "filled",
    });
  }
}

/** `GET /v2/account/activities[/{type}]` with Alpaca's filters and page tokens. */
export function listActivities(
  acct: Account,
  q: URLSearchParams,
  type?: string,
): Record<string, unknown>[] {
  const types = type
    ? new Set([type.toUpperCase()])
    : q.get("activity_types")
    ? new Set(q.get("activity_types")!.split(",").map((t) => t.trim().toUpperCase()))
    : null;
  const direction = directionParam(q);
  const size = countParam(q, "page_size", 100, 100);
  const after = timeParam(q, "after");
  const until = timeParam(q, "until");
  const date = q.get("date");
  // Deposits carry only a date; they count as midnight UTC of it.
  const when = (a: Record<string, unknown>) =>
    Date.parse(String(a.transaction_time ?? `${a.date}T00:00:00Z`));
  let list = acct.activities.filter((a) => {
    if (types && !types.has(String(a.activity_type))) return false;
    const t = when(a);
    if (after !== null && t <= after) return false;
    if (until !== null && t >= until) return false;
    if (date && new Date(t).toISOString().slice(0, 10) !== date.slice(0, 10)) return false;
    return true;
  });
  list.sort((a, b) => String(a.id) < String(b.id) ? -1 : String(a.id) > String(b.id) ? 1 : 0);
  if (direction === "desc") list.reverse();
  const token = q.get("page_token");
  if (token) {
    const i = list.findIndex((a) => a.id === token);
    list = i >= 0 ? list.slice(i + 1) : [];
  }
  return list.slice(0, size);
}
