/**
 * The stored FX reference rates (`fx_rates`, written by the valuation service): what the api
 * converts totals with and which base currencies it offers.
 * @module
 */
import type { Sql, TransactionSql } from "@meridian/runtime";

/** Units of each currency per 1 EUR on one date. */
export interface FxRates {
  date: string;
  rates: Map<string, string>;
}

/** The rates of the latest stored date, or `null` when none are stored. */
export async function latestFxRates(sql: Sql | TransactionSql): Promise<FxRates | null> {
  const rows = await sql<{ date: string; currency: string; per_eur: string }[]>`
    select to_char(date, 'YYYY-MM-DD') as date, currency, per_eur::text as per_eur
    from fx_rates
    where date = (select max(date) from fx_rates)
    order by currency`;
  if (rows.length === 0) return null;
  return { date: rows[0].date, rates: new Map(rows.map((r) => [r.currency, r.per_eur])) };
}
