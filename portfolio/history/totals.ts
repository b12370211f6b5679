/**
 * The whole portfolio's reconstructed value of a day: the exact sum of its accounts' values
 * that day, and only when every account has one (a total that leaves an account out would draw
 * a fall that did not happen).
 * @module
 */
import { Exact } from "../exact.ts";

/** Each account's reconstructed values by day. */
export type AccountSeries = ReadonlyMap<string, ReadonlyMap<string, string>>;

/** The days every account has a value, with the sum; ascending. */
export function portfolioTotals(accounts: AccountSeries): Array<{ day: string; value: string }> {
  const series = [...accounts.values()];
  if (!series.length) return [];
  const [first, ...rest] = series;
  const out: Array<{ day: string; value: string }> = [];
  for (const [day, value] of first) {
    let sum = new Exact(value), complete = true;
    for (const s of rest) {
      const v = s.get(day);
      if (v === undefined) {
        complete = false;
        break;
      }
      sum = sum.plus(v);
    }
    if (complete) out.push({ day, value: sum.toFixed() });
  }
  return out.sort((a, b) => a.day < b.day ? -1 : 1);
}
