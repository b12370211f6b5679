/**
 * The income page's periods, query, labels and column totals, pure.
 * @module
 */
import { decimalString, Exact } from "@meridian/portfolio/exact";

/** The periods the income page offers. */
export const INCOME_PERIODS = {
  "12m": "Last 12 months",
  ytd: "This year",
  last_year: "Last year",
} as const;
export type IncomePeriod = keyof typeof INCOME_PERIODS;

/** "2026-05-07": a local calendar date. */
export function isoDay(d: Date): string {
  const m = String(d.getMonth() + 1).padStart(2, "0");
  const day = String(d.getDate()).padStart(2, "0");
  return `${d.getFullYear()}-${m}-${day}`;
}

/**
 * `GET /api/income` for a period (today's calendar date decides the year) and, optionally, one
 * account. The last 12 months are the api's default.
 */
export function incomePath(period: IncomePeriod, accountId: string | null, today: Date): string {
  const q = new URLSearchParams();
  const year = today.getFullYear();
  if (period === "ytd") {
    q.set("from", `${year}-01-01`);
    q.set("to", isoDay(today));
  } else if (period === "last_year") {
    q.set("from", `${year - 1}-01-01`);
    q.set("to", `${year - 1}-12-31`);
  }
  if (accountId) q.set("account_id", accountId);
  const s = q.toString();
  return s ? `/api/income?${s}` : "/api/income";
}

const monthFormat = new Intl.DateTimeFormat(undefined, {
  month: "short",
  year: "numeric",
  timeZone: "UTC",
});

/** "May 2026" for "2026-05". */
export function monthText(month: string): string {
  return monthFormat.format(Date.parse(`${month}-01T00:00:00Z`));
}

/** The dividends and interest columns' totals, exactly (the api gives the overall total). */
export function incomeTotals(
  months: readonly { dividends: string; interest: string }[],
): { dividends: string; interest: string } {
  let dividends = new Exact(0), interest = new Exact(0);
  for (const m of months) {
    dividends = dividends.plus(m.dividends);
    interest = interest.plus(m.interest);
  }
  return { dividends: decimalString(dividends), interest: decimalString(interest) };
}

/** One month of `GET /api/income`. */
export interface IncomeMonth {
  month: string;
  dividends: string;
  interest: string;
  total: string;
}

/**
 * Every month from `from`'s to `to`'s, in order: the api leaves out months without income, and
 * a chart over time needs them as zeros (what they are) to keep its spacing.
 */
export function everyMonth(
  from: string,
  to: string,
  months: readonly IncomeMonth[],
): IncomeMonth[] {
  const known = new Map(months.map((m) => [m.month, m]));
  const out: IncomeMonth[] = [];
  let [y, m] = from.slice(0, 7).split("-").map(Number);
  const last = to.slice(0, 7);
  for (let i = 0; i < 1200; i++) {
    const month = `${String(y).padStart(4, "0")}-${String(m).padStart(2, "0")}`;
    if (month > last) break;
    out.push(known.get(month) ?? { month, dividends: "0", interest: "0", total: "0" });
    known.delete(month);
    if (++m > 12) [y, m] = [y + 1, 1];
  }
  // A month outside from..to (there should be none) is still shown, in its place.
  return [...out, ...known.values()].sort((a, b) => a.month < b.month ? -1 : 1);
}
