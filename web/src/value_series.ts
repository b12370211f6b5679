/**
 * The value chart's series, pure: the history query for a range and scope, the live value that
 * extends the line, breaks where history has gaps, and the texts of times and of the chart's
 * accessible summary. No signals, no DOM, no Chart.js.
 * @module
 */
import {
  type HistoryGap,
  type HistoryPoint,
  type Range,
  RANGES,
  type Resolution,
} from "./history_schema.ts";
import type { PortfolioValue } from "./value_schema.ts";

/** The preset range an answer's `range` names (any case), or null for a custom one. */
export function rangeOf(text: string): Range | null {
  return RANGES.find((r) => r === text.toUpperCase()) ?? null;
}

/** `GET /api/portfolio/history` for a preset range, of everything or of one account. */
export function historyPath(range: Range, accountId: string | null): string {
  const q = new URLSearchParams({ range });
  if (accountId) q.set("account_id", accountId);
  return `/api/portfolio/history?${q}`;
}

/** One point as drawn: `value` null is a break in the line (a gap), never a zero. */
export interface SeriesPoint {
  /** Milliseconds since the epoch. */
  time: number;
  value: string | null;
  reconstructed: boolean;
  /** The live value, not a recorded one. */
  live: boolean;
}

/** The live value of the chart's scope, in the chart's currency. */
export interface LivePoint {
  time: string;
  value: string;
}

/**
 * The live value for the chart: the portfolio's total, or the selected account's value. Null
 * when there is none, or when it is in another currency than the history (the base currency
 * just changed: the history is read again).
 */
export function liveFor(
  value: PortfolioValue | null,
  currency: string,
  accountId: string | null,
): LivePoint | null {
  if (value === null || value.currency !== currency) return null;
  if (accountId === null) return { time: value.time, value: value.total };
  const account = value.accounts.find((a) => a.account_id === accountId);
  return account ? { time: value.time, value: account.value } : null;
}

/** The time zone whose days daily values stand for: the US market's close. */
export const MARKET_ZONE = "America/New_York";

const marketDay = new Intl.DateTimeFormat("en-CA", {
  timeZone: MARKET_ZONE,
  year: "numeric",
  month: "2-digit",
  day: "2-digit",
});

const STEP_MS: Record<Exclude<Resolution, "1d">, number> = {
  "5m": 5 * 60_000,
  "30m": 30 * 60_000,
  "1h": 60 * 60_000,
};

/** Which interval of the resolution a time falls in: one point stands for each. */
function bucketOf(time: number, resolution: Resolution): string {
  return resolution === "1d"
    ? marketDay.format(time)
    : String(Math.floor(time / STEP_MS[resolution]));
}

/**
 * The recorded points with the live value at the end, so today's line moves with it: it
 * replaces the last point when both fall in one interval of the resolution (a day, for daily
 * points), else it is added after it. A live value older than the last point is not drawn, and
 * neither is one alone: with no history there is no line.
 */
export function withLive(
  points: readonly HistoryPoint[],
  live: LivePoint | null,
  resolution: Resolution,
): SeriesPoint[] {
  const series: SeriesPoint[] = points.map((p) => ({
    time: Date.parse(p.time),
    value: p.value,
    reconstructed: p.reconstructed,
    live: false,
  }));
  const last = series.at(-1);
  if (live === null || last === undefined) return series;
  const time = Date.parse(live.time);
  if (!(time > last.time)) return series;
  const point = { time, value: live.value, reconstructed: false, live: true };
  if (bucketOf(time, resolution) === bucketOf(last.time, resolution)) {
    series[series.length - 1] = point;
  } else series.push(point);
  return series;
}

const DAY_MS = 86_400_000;

/**
 * The series with a break (a null value) between two points wherever the line would enter or
 * leave a gap, so it stops there instead of joining across days nothing explains. A gap runs from
 * the start of its `from` day to the end of its `to` day (UTC dates, as the api gives them).
 */
export function withBreaks(
  series: readonly SeriesPoint[],
  gaps: readonly HistoryGap[],
): SeriesPoint[] {
  if (gaps.length === 0 || series.length < 2) return [...series];
  const spans = gaps.map((g) => [Date.parse(g.from), Date.parse(g.to) + DAY_MS] as const);
  const out: SeriesPoint[] = [series[0]];
  for (let i = 1; i < series.length; i++) {
    const a = series[i - 1].time, b = series[i].time;
    // A segment that enters or leaves a gap is broken; points the api has inside a gap (say,
    // values recorded live on a day the reconstruction cannot explain) are joined.
    const overlap = spans.find(([from, to]) =>
      from < b && to > a && !(from <= a && a < to && from <= b && b < to)
    );
    if (overlap) {
      const from = Math.max(a, overlap[0]), to = Math.min(b, overlap[1]);
      out.push({ time: (from + to) / 2, value: null, reconstructed: false, live: false });
    }
    out.push(series[i]);
  }
  return out;
}

/** The last drawn point: what `chart-last-value` shows. */
export function lastValue(series: readonly SeriesPoint[]): SeriesPoint | null {
  for (let i = series.length - 1; i >= 0; i--) if (series[i].value !== null) return series[i];
  return null;
}

/** Whether the segment from point `i` to `i + 1` joins a reconstructed value (drawn dashed). */
export function segmentReconstructed(series: readonly SeriesPoint[], i: number): boolean {
  return Boolean(series[i]?.reconstructed || series[i + 1]?.reconstructed);
}

/** A point with no drawn neighbour on either side would be invisible as a line: it gets a dot. */
export function isolated(series: readonly SeriesPoint[], i: number): boolean {
  if (series[i]?.value == null) return false;
  return (series[i - 1]?.value ?? null) === null && (series[i + 1]?.value ?? null) === null;
}

const dayFormat = new Intl.DateTimeFormat(undefined, {
  timeZone: MARKET_ZONE,
  day: "numeric",
  month: "short",
  year: "numeric",
});
const timeFormat = new Intl.DateTimeFormat(undefined, {
  day: "numeric",
  month: "short",
  hour: "numeric",
  minute: "2-digit",
});

/**
 * A point's time as a person reads it: daily values by their market day ("3 May 2026"), others
 * to the minute in the browser's time zone ("3 May, 14:05").
 */
export function pointTimeText(time: number, resolution: Resolution, live = false): string {
  // The live value is now, whatever the resolution: it is read to the minute.
  return resolution === "1d" && !live ? dayFormat.format(time) : timeFormat.format(time);
}

/** What the x axis' ticks step by. */
export type TickUnit = "minute" | "day" | "month";

/** Candidate tick steps, finest first: minutes, then days, then months. */
const STEPS: readonly { unit: TickUnit; n: number }[] = [
  ...[5, 15, 30, 60, 120, 180, 360, 720].map((n) => ({ unit: "minute" as const, n })),
  ...[1, 2, 7, 14].map((n) => ({ unit: "day" as const, n })),
  ...[1, 2, 3, 6, 12, 24, 60, 120].map((n) => ({ unit: "month" as const, n })),
];

/** The first tick of a step at or before `min`: a local midnight, a Monday, a month's first. */
function firstTick(min: number, unit: TickUnit, n: number): Date {
  const d = new Date(min);
  d.setHours(0, 0, 0, 0);
  if (unit === "day" && n === 7) d.setDate(d.getDate() - ((d.getDay() + 6) % 7));
  if (unit === "month") {
    d.setDate(1);
    d.setMonth(d.getMonth() - (d.getMonth() % Math.min(n, 12)));
    if (n > 12) d.setFullYear(d.getFullYear() - (d.getFullYear() % (n / 12)), 0);
  }
  return d;
}

function advance(d: Date, unit: TickUnit, n: number): void {
  if (unit === "minute") d.setMinutes(d.getMinutes() + n);
  else if (unit === "day") d.setDate(d.getDate() + n);
  else d.setMonth(d.getMonth() + n);
}

/**
 * The x axis' ticks between `min` and `max`: at calendar boundaries in the browser's time zone
 * (whole hours, midnights, Mondays, months' firsts), the finest step that gives at most `most`.
 */
export function calendarTicks(
  min: number,
  max: number,
  most = 6,
): { unit: TickUnit; ticks: number[] } {
  for (const { unit, n } of STEPS) {
    const d = firstTick(min, unit, n);
    while (d.getTime() < min) advance(d, unit, n);
    const ticks: number[] = [];
    for (; d.getTime() <= max && ticks.length <= most; advance(d, unit, n)) ticks.push(d.getTime());
    if (ticks.length <= most) return { unit, ticks };
  }
  return { unit: "month", ticks: [min, max] };
}

const TICK_FORMATS = {
  minute: new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit" }),
  day: new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short" }),
  month: new Intl.DateTimeFormat(undefined, { month: "short", year: "numeric" }),
};

/** A tick's label: a time of day, a date, or a month. */
export function tickText(time: number, unit: TickUnit): string {
  return TICK_FORMATS[unit].format(time);
}

/** Counts for the chart's summary and the e2e test's attributes. */
export function seriesCounts(series: readonly SeriesPoint[]): {
  points: number;
  reconstructed: number;
  breaks: number;
} {
  let points = 0, reconstructed = 0, breaks = 0;
  for (const p of series) {
    if (p.value === null) breaks++;
    else {
      points++;
      if (p.reconstructed) reconstructed++;
    }
  }
  return { points, reconstructed, breaks };
}

/** The ranges in words, for headings and the chart's summary. */
export const RANGE_WORDS: Record<Range, string> = {
  "1D": "1 day",
  "1W": "1 week",
  "1M": "1 month",
  "3M": "3 months",
  YTD: "year to date",
  "1Y": "1 year",
  ALL: "all time",
};
