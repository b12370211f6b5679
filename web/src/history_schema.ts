/**
 * The history, performance, allocation, income and transactions answers as the dashboard checks
 * them where they enter (`GET /api/portfolio/history`, `/api/allocation`, `/api/income`,
 * `/api/transactions`), restated with `zod/mini` like value_schema.ts and for the same reason
 * (bundle size). Amounts are decimal strings; returns and weights are fractions
 * ("0.0523" = 5.23 %). Unknown fields are dropped, not refused.
 * @module
 */
import * as z from "zod/mini";
import { TRANSACTION_TYPES } from "@meridian/proto/transaction_types";

export { TRANSACTION_TYPES };

const Decimal = z.string().check(z.regex(/^-?\d+(\.\d+)?$/));
const Timestamp = z.iso.datetime({ offset: true });
const CalendarDate = z.iso.date();
const Currency = z.string().check(z.regex(/^[A-Z]{3}$/));
const Id = z.uuid();

/** The preset ranges the value chart offers, in the api's spelling. */
export const RANGES = ["1D", "1W", "1M", "3M", "YTD", "1Y", "ALL"] as const;
export type Range = typeof RANGES[number];

export const RESOLUTIONS = ["5m", "30m", "1h", "1d"] as const;
export type Resolution = typeof RESOLUTIONS[number];

/** One value of the chart: recorded live, or rebuilt from transactions (`reconstructed`). */
export const HistoryPoint = z.object({
  time: Timestamp,
  value: Decimal,
  reconstructed: z.boolean(),
});
export type HistoryPoint = z.infer<typeof HistoryPoint>;

/** Days without a line, and why (a sentence). */
export const HistoryGap = z.object({ from: CalendarDate, to: CalendarDate, reason: z.string() });
export type HistoryGap = z.infer<typeof HistoryGap>;

/** Returns over the range: fractions, or null where there is not enough to compute one. */
export const Returns = z.object({
  twr: z.nullable(Decimal),
  mwr: z.nullable(Decimal),
  mwr_annualized: z.nullable(Decimal),
  start_value: z.nullable(Decimal),
  end_value: z.nullable(Decimal),
  net_contributions: Decimal,
  income: Decimal,
  fees: Decimal,
  realized_pl: Decimal,
  unrealized_pl: z.nullable(Decimal),
});
export type Returns = z.infer<typeof Returns>;

/** `GET /api/portfolio/history`. */
export const History = z.object({
  currency: Currency,
  range: z.string(),
  from: Timestamp,
  to: Timestamp,
  scope: z.union([
    z.object({ kind: z.literal("portfolio") }),
    z.object({ kind: z.literal("account"), account_id: Id, name: z.string() }),
  ]),
  resolution: z.enum(RESOLUTIONS),
  points: z.array(HistoryPoint),
  gaps: z.array(HistoryGap),
  returns: Returns,
  /** Plain-English formulas by figure (`twr`, `mwr`, `pl`, `income`, and any others). */
  formulas: z.record(z.string(), z.string()),
});
export type History = z.infer<typeof History>;

/** `GET /api/income`. */
export const Income = z.object({
  currency: Currency,
  from: CalendarDate,
  to: CalendarDate,
  months: z.array(z.object({
    month: z.string().check(z.regex(/^\d{4}-\d{2}$/)),
    dividends: Decimal,
    interest: Decimal,
    total: Decimal,
  })),
  total: Decimal,
  unconverted: z.array(Currency),
});
export type Income = z.infer<typeof Income>;

export const ALLOCATION_BY = ["asset_class", "account", "currency", "instrument"] as const;
export type AllocationBy = typeof ALLOCATION_BY[number];

/** `GET /api/allocation`. */
export const Allocation = z.object({
  currency: Currency,
  by: z.enum(ALLOCATION_BY),
  total: Decimal,
  as_of: z.nullable(Timestamp),
  slices: z.array(z.object({
    key: z.string(),
    label: z.string(),
    value: Decimal,
    weight: Decimal,
  })),
  unvalued: z.array(z.object({ key: z.string(), label: z.string(), reason: z.string() })),
});
export type Allocation = z.infer<typeof Allocation>;
export type AllocationSlice = Allocation["slices"][number];

export type TransactionType = typeof TRANSACTION_TYPES[number];

/** One transaction of `GET /api/transactions`. */
export const Transaction = z.object({
  id: Id,
  account_id: Id,
  connection_id: Id,
  provider: z.enum(["snaptrade", "plaid", "alpaca"]),
  type: z.enum(TRANSACTION_TYPES),
  symbol: z.nullable(z.string()),
  description: z.nullable(z.string()),
  quantity: z.nullable(Decimal),
  price: z.nullable(Decimal),
  amount: Decimal,
  fee: z.nullable(Decimal),
  currency: z.string(),
  trade_date: CalendarDate,
  settlement_date: z.nullable(CalendarDate),
});
export type Transaction = z.infer<typeof Transaction>;

/** `GET /api/transactions`: a page, and the cursor of the next (null: this was the last). */
export const TransactionPage = z.object({
  transactions: z.array(Transaction),
  next_cursor: z.nullable(z.string()),
});
export type TransactionPage = z.infer<typeof TransactionPage>;
