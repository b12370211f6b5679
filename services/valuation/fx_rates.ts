/**
 * The ECB's daily FX reference rates in PostgreSQL (`fx_rates`): fetched from `FX_URL`, parsed
 * (portfolio/fx.ts) and upserted, one date per refresh.
 * @module
 */
import { gauge, type Logger, type Sql } from "@meridian/runtime";
import { parseEcbDaily } from "@meridian/portfolio";

const lastRefresh = gauge(
  "meridian_valuation_fx_refreshed_timestamp_seconds",
  "When the FX reference rates were last stored (Unix time, seconds)",
);

/** How long one fetch of the feed may take. */
export const FX_FETCH_TIMEOUT_MS = 10_000;

/** Where `refreshFxRates` reads and writes. */
export interface FxRefreshDeps {
  sql: Sql;
  /** The ECB daily document (`eurofxref-daily.xml`) or an equivalent. */
  url: string;
  log: Logger;
  fetch?: typeof fetch;
}

/**
 * Fetches the daily document, parses it and upserts every rate of its date in one
 * transaction. Throws (and writes nothing) when the fetch fails, answers non-2xx or the body
 * does not parse; the caller logs and retries.
 */
export async function refreshFxRates(
  deps: FxRefreshDeps,
): Promise<{ date: string; currencies: number }> {
  const doFetch = deps.fetch ?? fetch;
  const res = await doFetch(deps.url, {
    signal: AbortSignal.timeout(FX_FETCH_TIMEOUT_MS),
    headers: { accept: "text/xml, application/xml" },
  });
  const body = await res.text();
  if (!res.ok) throw new Error(`FX rates: ${deps.url} answered HTTP ${res.status}`);
  const { date, rates } = parseEcbDaily(body);
  const rows = [...rates].map(([currency, per_eur]) => ({ date, currency, per_eur }));
  await deps.sql.begin(async (tx) => {
    await tx`
      insert into fx_rates ${tx(rows, "date", "currency", "per_eur")}
      on conflict (date, currency) do update
        set per_eur = excluded.per_eur, fetched_at = now()`;
  });
  lastRefresh.set(Date.now() / 1000);
  deps.log.info("fx rates refreshed", { date, currencies: rows.length });
  return { date, currencies: rows.length };
}

/** When `scheduleFxRefresh` refreshes: every `intervalMs`, after a failure `retryMs` doubling. */
export interface FxSchedule {
  /** Default 6 h. */
  intervalMs?: number;
  /** First retry after a failure, default 1 min; doubles up to `maxRetryMs` (default 1 h). */
  retryMs?: number;
  maxRetryMs?: number;
}

/**
 * Refreshes now and then every `intervalMs`; a failure is logged as a warning and retried
 * with backoff, never fatal. Returns a stop function (waits for a refresh in flight).
 */
export function scheduleFxRefresh(
  deps: FxRefreshDeps,
  schedule: FxSchedule = {},
): () => Promise<void> {
  const intervalMs = schedule.intervalMs ?? 6 * 3600_000;
  const firstRetry = schedule.retryMs ?? 60_000;
  const maxRetry = schedule.maxRetryMs ?? 3600_000;
  let retry = firstRetry;
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running: Promise<void> = Promise.resolve();
  const run = async () => {
    let next: number;
    try {
      await refreshFxRates(deps);
      retry = firstRetry;
      next = intervalMs;
    } catch (e) {
      next = retry;
      deps.log.warn("fx rates refresh failed; retrying", { error: e, retry_ms: retry });
      retry = Math.min(retry * 2, maxRetry);
    }
    if (!stopped) timer = setTimeout(() => (running = run()), next);
  };
  running = run();
  return async () => {
    stopped = true;
    clearTimeout(timer);
    await running;
  };
}
