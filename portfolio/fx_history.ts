/**
 * FX reference rates over time: what an amount on a past day was worth in another currency, at
 * the ECB publication of that day or, on a weekend or holiday, the latest one before it (the
 * valuation service stores them in `fx_rates`). Conversion is `convert` of `fx_cross.ts`: cross
 * rates through EUR, exactly as for today's values.
 * @module
 */
import type { Sql, TransactionSql } from "@meridian/runtime";
import { convert } from "./fx_cross.ts";
import type { FxRates } from "./fx_rates.ts";

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const NO_RATES: ReadonlyMap<string, string> = new Map();

/** Rates by day, read with the latest publication on or before a day. */
export interface FxHistory {
  /**
   * `amount` of `currency` in `base` on `day` (`YYYY-MM-DD`) at the latest publication on or
   * before it (as `convert` does: 20 significant digits); null when there is none, or it has no
   * rate for either currency. Throws for an amount that is no decimal or a malformed day.
   */
  convert(amount: string, currency: string, base: string, day: string): string | null;
  /** The latest publication on or before `day`, or null when there is none. */
  ratesOn(day: string): FxRates | null;
}

/** An {@link FxHistory} over `publications` (any order; one per date). */
export function fxHistory(publications: readonly FxRates[]): FxHistory {
  const sorted = [...publications].sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
  const ratesOn = (day: string): FxRates | null => {
    if (!DAY.test(day)) throw new RangeError(`not a day (YYYY-MM-DD): ${day}`);
    // The last publication whose date is ≤ day (binary search).
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid].date <= day) lo = mid + 1;
      else hi = mid;
    }
    return lo === 0 ? null : sorted[lo - 1];
  };
  return {
    ratesOn,
    convert: (amount, currency, base, day) =>
      convert(amount, currency, base, ratesOn(day)?.rates ?? NO_RATES),
  };
}

/**
 * The stored rates that days `from` to `to` (`YYYY-MM-DD`) are read with: every publication in
 * that range and the latest one before `from`.
 */
export async function loadFxHistory(
  sql: Sql | TransactionSql,
  from: string,
  to: string,
): Promise<FxHistory> {
  if (!DAY.test(from) || !DAY.test(to)) throw new RangeError(`not days: ${from}, ${to}`);
  const rows = await sql<{ date: string; currency: string; per_eur: string }[]>`
    select to_char(date, 'YYYY-MM-DD') as date, currency, per_eur::text as per_eur
    from fx_rates
    where date <= ${to}::date
      and date >= coalesce(
        (select max(date) from fx_rates where date <= ${from}::date), ${from}::date)
    order by date, currency`;
  const byDate = new Map<string, Map<string, string>>();
  for (const r of rows) {
    let rates = byDate.get(r.date);
    if (!rates) byDate.set(r.date, rates = new Map());
    rates.set(r.currency, r.per_eur);
  }
  return fxHistory([...byDate].map(([date, rates]) => ({ date, rates })));
}
