/**
 * The transactions page's filter and query, pure.
 * @module
 */
import { TRANSACTION_TYPES, type TransactionType } from "./history_schema.ts";

/** The page's filter; "" means any. */
export interface TransactionFilter {
  account_id: string;
  type: "" | TransactionType;
  /** Calendar dates, "YYYY-MM-DD". */
  from: string;
  to: string;
}

export const NO_FILTER: TransactionFilter = { account_id: "", type: "", from: "", to: "" };

/** Transactions per page. */
export const PAGE_SIZE = 50;

export const TYPE_LABELS: Record<TransactionType, string> = {
  buy: "Buy",
  sell: "Sell",
  dividend: "Dividend",
  interest: "Interest",
  fee: "Fee",
  contribution: "Deposit",
  withdrawal: "Withdrawal",
  transfer: "Transfer",
  tax: "Tax",
  reinvestment: "Reinvestment",
  other: "Other",
};

/** The types in the order the filter lists them. */
export const TYPES: readonly TransactionType[] = TRANSACTION_TYPES;

/** `GET /api/transactions` for the filter, from `cursor` on (null: the first page). */
export function transactionsPath(filter: TransactionFilter, cursor: string | null): string {
  const q = new URLSearchParams();
  for (const key of ["account_id", "type", "from", "to"] as const) {
    if (filter[key]) q.set(key, filter[key]);
  }
  q.set("limit", String(PAGE_SIZE));
  if (cursor) q.set("cursor", cursor);
  return `/api/transactions?${q}`;
}

/** What is wrong with the filter before it is sent, or null. */
export function filterProblem(filter: TransactionFilter): string | null {
  if (filter.from && filter.to && filter.from > filter.to) {
    return "The start date is after the end date.";
  }
  return null;
}

/** Whether anything narrows the list (the empty state says so). */
export function isFiltered(filter: TransactionFilter): boolean {
  return Boolean(filter.account_id || filter.type || filter.from || filter.to);
}
