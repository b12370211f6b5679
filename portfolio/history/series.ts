/**
 * The series a history range is drawn from. Pure: the api reads the stored points and hands
 * them here with the clock.
 *
 * - Ranges: `1D` the last 24 hours, `1W` 7 days, `1M` and `3M` calendar months back, `YTD` from
 *   1 January (New York), `1Y` a year back, `ALL` everything, or `YYYY-MM-DD..YYYY-MM-DD`
 *   (New York days, both included).
 * - Resolution: `1D` 5 minutes (the points as recorded), `1W` 30 minutes, `1M` 1 hour, longer
 *   ranges one point a day; a custom range picks by its span.
 * - A day is drawn from its intraday points when it has any, otherwise from its daily point: a
 *   recorded close, else a reconstructed one. The newest intraday point ends every range that
 *   reaches now, so a year's line ends at today's value, not at yesterday's close.
 * @module
 */
import { TZDate } from "@date-fns/tz";
import { addDays, nyDay, nyInstant } from "./market_days.ts";
import type { StoredPoint } from "./store.ts";

/** How far apart a range's points are. */
export type Resolution = "5m" | "30m" | "1h" | "1d";

/** The span of each resolution's buckets (ms). */
export const BUCKET_MS: Readonly<Record<Resolution, number>> = {
  "5m": 300_000,
  "30m": 1_800_000,
  "1h": 3_600_000,
  "1d": 86_400_000,
};

/** The named ranges. */
export const RANGES = ["1D", "1W", "1M", "3M", "YTD", "1Y", "ALL"] as const;

/** A range resolved against the clock. */
export interface HistoryWindow {
  range: string;
  from: Date;
  to: Date;
  resolution: Resolution;
}

/** The earliest time any range reaches back to. */
export const HISTORY_EPOCH = new Date("2000-01-01T00:00:00Z");

function monthsBack(now: Date, months: number): Date {
  const d = new TZDate(now.getTime(), "America/New_York");
  d.setMonth(d.getMonth() - months);
  return new Date(d.getTime());
}

function resolutionOf(spanMs: number): Resolution {
  const day = 86_400_000;
  if (spanMs <= 2 * day) return "5m";
  if (spanMs <= 8 * day) return "30m";
  if (spanMs <= 31 * day + 3_600_000) return "1h";
  return "1d";
}

/** The window of `range` at `now`, or why the range is not one. */
export function resolveRange(range: string, now: Date): HistoryWindow | { error: string } {
  const r = range.toUpperCase();
  const at = (from: Date, resolution: Resolution) => ({ range: r, from, to: now, resolution });
  switch (r) {
    case "1D":
      return at(new Date(now.getTime() - 86_400_000), "5m");
    case "1W":
      return at(new Date(now.getTime() - 7 * 86_400_000), "30m");
    case "1M":
      return at(monthsBack(now, 1), "1h");
    case "3M":
      return at(monthsBack(now, 3), "1d");
    case "YTD":
      return at(nyInstant(`${nyDay(now).slice(0, 4)}-01-01`, 0), "1d");
    case "1Y":
      return at(monthsBack(now, 12), "1d");
    case "ALL":
      return at(HISTORY_EPOCH, "1d");
  }
  const m = /^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$/.exec(range);
  if (!m) {
    return { error: `Use one of ${RANGES.join(", ")} or a span like 2026-01-01..2026-03-31.` };
  }
  const [, a, b] = m;
  const real = (d: string) => {
    const t = Date.parse(`${d}T12:00:00Z`);
    return !Number.isNaN(t) && new Date(t).toISOString().slice(0, 10) === d;
  };
  if (!real(a) || !real(b)) {
    return { error: "Both ends must be real calendar dates." };
  }
  if (a > b) return { error: "The start date is after the end date." };
  const from = nyInstant(a, 0);
  if (from < HISTORY_EPOCH) return { error: "History starts in 2000." };
  if (from > now) return { error: "The start date is in the future." };
  const end = nyInstant(addDays(b, 1), 0);
  const to = end > now ? now : new Date(end.getTime() - 1);
  return { range, from, to, resolution: resolutionOf(to.getTime() - from.getTime()) };
}

/** A point of the drawn series, in the base currency. */
export interface SeriesPoint {
  time: Date;
  value: string;
  reconstructed: boolean;
}

/**
 * The series of `window` from stored points already in the base currency: per day intraday
 * points (the last of each bucket), else the day's recorded close, else its reconstructed one;
 * the newest intraday point last.
 */
export function drawSeries(points: readonly StoredPoint[], window: HistoryWindow): SeriesPoint[] {
  const intradayDays = new Set<string>();
  const daily = new Map<string, StoredPoint>();
  let newest: StoredPoint | null = null;
  for (const p of points) {
    if (p.at < window.from || p.at > window.to) continue;
    if (p.kind === "intraday") {
      intradayDays.add(nyDay(p.at));
      if (!newest || p.at > newest.at) newest = p;
    } else {
      const day = nyDay(p.at);
      const had = daily.get(day);
      if (!had || (had.kind === "reconstructed" && p.kind === "daily")) daily.set(day, p);
    }
  }
  const byBucket = new Map<number, StoredPoint>();
  const bucket = BUCKET_MS[window.resolution];
  for (const p of points) {
    if (p.at < window.from || p.at > window.to) continue;
    if (p.kind === "intraday") {
      if (window.resolution === "1d") continue;
      const key = Math.floor(p.at.getTime() / bucket);
      const had = byBucket.get(key);
      if (!had || p.at > had.at) byBucket.set(key, p);
    }
  }
  const out: SeriesPoint[] = [];
  for (const [day, p] of daily) {
    if (window.resolution !== "1d" && intradayDays.has(day)) continue;
    out.push({ time: p.at, value: p.value, reconstructed: p.kind === "reconstructed" });
  }
  for (const p of byBucket.values()) out.push({ time: p.at, value: p.value, reconstructed: false });
  out.sort((a, b) => a.time.getTime() - b.time.getTime());
  const last = out.at(-1);
  if (newest && (!last || newest.at > last.time)) {
    out.push({ time: newest.at, value: newest.value, reconstructed: false });
  }
  return out;
}
