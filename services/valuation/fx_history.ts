/**
 * The ECB's past reference rates in PostgreSQL (`fx_rates`), for values rebuilt in the past:
 * the 90-day history file, or the full one (from 1999) when older rates are needed, fetched from
 * beside the configured daily document (`FX_URL`'s `eurofxref-daily.xml` becomes
 * `eurofxref-hist-90d.xml` or `eurofxref-hist.xml`), parsed (portfolio/fx.ts) and upserted in
 * one statement.
 * @module
 */
import type { Logger, Sql } from "@meridian/runtime";
import { type EcbDaily, parseEcbHistory } from "@meridian/portfolio";

/** How long one fetch of a history file may take (the full file is several megabytes). */
export const FX_HISTORY_TIMEOUT_MS = 60_000;
/** Days the 90-day file is trusted to reach back; older rates come from the full file. */
const DAYS_90D = 85;
const DAY = /^\d{4}-\d{2}-\d{2}$/;
const DAILY_FILE = "eurofxref-daily.xml";

/** Where `backfillFxHistory` reads and writes. */
export interface FxHistoryDeps {
  sql: Sql;
  /** The daily document's URL (runtime `fxUrl(config)`), ending in `eurofxref-daily.xml`. */
  url: string;
  log: Logger;
  fetch?: typeof fetch;
  /** Clock (ms), default `Date.now`. */
  now?: () => number;
}

/** What a backfill stored. */
export interface FxBackfill {
  /** Which file was read last. */
  file: "90d" | "full";
  /** The oldest and newest publication stored, null when none. */
  from: string | null;
  to: string | null;
  /** Publications and rows (date × currency) upserted. */
  days: number;
  rows: number;
}

/**
 * The URL of a history file beside the daily document `dailyUrl`. Throws an Error when the
 * URL does not end in `eurofxref-daily.xml` (no sibling can be derived from it).
 */
export function ecbHistoryUrl(dailyUrl: string, file: "90d" | "full"): string {
  const url = new URL(dailyUrl);
  if (!url.pathname.endsWith(`/${DAILY_FILE}`)) {
    throw new Error(`FX history: FX_URL must end in ${DAILY_FILE} to find the history files`);
  }
  url.pathname = url.pathname.slice(0, -DAILY_FILE.length) +
    (file === "90d" ? "eurofxref-hist-90d.xml" : "eurofxref-hist.xml");
  url.search = "";
  return url.toString();
}

/** A history file's publications from the latest one on or before `from` on. */
async function fetchHistory(
  deps: FxHistoryDeps,
  file: "90d" | "full",
  from: string,
): Promise<EcbDaily[]> {
  const url = ecbHistoryUrl(deps.url, file);
  const res = await (deps.fetch ?? fetch)(url, {
    signal: AbortSignal.timeout(FX_HISTORY_TIMEOUT_MS),
    headers: { accept: "text/xml, application/xml" },
  });
  const body = await res.text();
  if (!res.ok) throw new Error(`FX history: ${url} answered HTTP ${res.status}`);
  return parseEcbHistory(body, from);
}

/**
 * Stores the ECB's rates from `from` (`YYYY-MM-DD`) to the newest publication, and the latest
 * publication before `from` (what a weekend or holiday at the start reads): from the 90-day
 * file when it reaches back that far, else from the full history. Idempotent: one upsert in one
 * transaction, rates that did not change untouched. Throws (and writes nothing) when a fetch
 * fails, answers non-2xx or does not parse; the caller logs and retries.
 */
export async function backfillFxHistory(deps: FxHistoryDeps, from: string): Promise<FxBackfill> {
  if (!DAY.test(from)) throw new RangeError(`not a day (YYYY-MM-DD): ${from}`);
  const recent = new Date((deps.now ?? Date.now)() - DAYS_90D * 86_400_000)
    .toISOString().slice(0, 10);
  let file: "90d" | "full" = from >= recent ? "90d" : "full";
  let kept = await fetchHistory(deps, file, from);
  if (file === "90d" && !kept.some((p) => p.date <= from)) {
    file = "full";
    kept = await fetchHistory(deps, file, from);
  }
  const dates: string[] = [];
  const currencies: string[] = [];
  const rates: string[] = [];
  for (const p of kept) {
    for (const [currency, perEur] of p.rates) {
      dates.push(p.date);
      currencies.push(currency);
      rates.push(perEur);
    }
  }
  if (dates.length > 0) {
    await deps.sql.begin(async (tx) => {
      await tx`
        insert into fx_rates (date, currency, per_eur)
        select * from unnest(${dates}::date[], ${currencies}::text[], ${rates}::numeric[])
        on conflict (date, currency) do update
          set per_eur = excluded.per_eur, fetched_at = now()
          where fx_rates.per_eur <> excluded.per_eur`;
    });
  }
  const sortedDates = kept.map((p) => p.date).sort();
  const result: FxBackfill = {
    file,
    from: sortedDates[0] ?? null,
    to: sortedDates.at(-1) ?? null,
    days: kept.length,
    rows: dates.length,
  };
  deps.log.info("fx history stored", { ...result });
  return result;
}
