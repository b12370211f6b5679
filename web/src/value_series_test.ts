import assert from "node:assert/strict";
import type { HistoryPoint } from "./history_schema.ts";
import type { PortfolioValue } from "./value_schema.ts";
import {
  calendarTicks,
  historyPath,
  isolated,
  lastValue,
  liveFor,
  pointTimeText,
  rangeOf,
  segmentReconstructed,
  seriesCounts,
  type SeriesPoint,
  tickText,
  withBreaks,
  withLive,
} from "./value_series.ts";

const ACCOUNT = "00000000-0000-4000-8000-000000000001";
const OTHER = "00000000-0000-4000-8000-000000000002";

function point(time: string, value: string, reconstructed = false): HistoryPoint {
  return { time, value, reconstructed };
}

function value(time: string, total: string, currency = "USD"): PortfolioValue {
  return {
    user_id: "00000000-0000-4000-8000-0000000000aa",
    time,
    seq: 1,
    currency,
    total,
    positions_value: total,
    cash: "0",
    totals: [],
    accounts: [{ account_id: ACCOUNT, value: "400.5", native: [], day_change: "0" }],
    day_change: { amount: "0", percent: null, covered: 0, positions: 0 },
    unrealized_pl: { amount: "0", cost_basis: "0", covered: 0, positions: 0 },
    prices: {
      as_of: null,
      live: 0,
      delayed: 0,
      stale: 0,
      provider: 0,
      unpriced: 0,
      market: "open",
    },
    fx: { date: null, unconverted: [] },
    quotes: {},
  };
}

Deno.test("a range and an account become the history query", () => {
  assert.equal(historyPath("1Y", null), "/api/portfolio/history?range=1Y");
  assert.equal(
    historyPath("YTD", ACCOUNT),
    `/api/portfolio/history?range=YTD&account_id=${ACCOUNT}`,
  );
  assert.equal(rangeOf("1y"), "1Y");
  assert.equal(rangeOf("ALL"), "ALL");
  assert.equal(rangeOf("2026-01-01..2026-02-01"), null);
});

Deno.test("the live value is the portfolio's total or the account's value, in the chart's currency", () => {
  const v = value("2026-05-04T15:00:00Z", "1000.25");
  assert.deepEqual(liveFor(v, "USD", null), { time: v.time, value: "1000.25" });
  assert.deepEqual(liveFor(v, "USD", ACCOUNT), { time: v.time, value: "400.5" });
  assert.equal(liveFor(v, "USD", OTHER), null, "an account the value does not list");
  assert.equal(liveFor(v, "EUR", null), null, "another currency than the history's");
  assert.equal(liveFor(null, "USD", null), null);
});

Deno.test("the live value replaces the last point of its interval, else follows it", () => {
  const points = [
    point("2026-05-04T14:00:00Z", "990"),
    point("2026-05-04T14:05:00Z", "995"),
  ];
  // 14:07 is in 14:05's 5-minute interval: it replaces it.
  const same = withLive(points, { time: "2026-05-04T14:07:30Z", value: "1001" }, "5m");
  assert.equal(same.length, 2);
  assert.deepEqual(same[1], {
    time: Date.parse("2026-05-04T14:07:30Z"),
    value: "1001",
    reconstructed: false,
    live: true,
  });
  // 14:11 is the next interval: a point of its own.
  const next = withLive(points, { time: "2026-05-04T14:11:00Z", value: "1002" }, "5m");
  assert.equal(next.length, 3);
  assert.equal(next[2].value, "1002");
  assert.equal(next[1].value, "995");
  // The recorded points are never changed in place.
  assert.equal(points[1].value, "995");
});

Deno.test("daily points: the live value of the same market day replaces the day's point", () => {
  const points = [
    point("2026-05-01T20:05:00Z", "900", true),
    point("2026-05-04T20:05:00Z", "950"),
  ];
  // 22:00 in New York on 4 May is 02:00 UTC on the 5th: still the market's 4 May.
  const evening = withLive(points, { time: "2026-05-05T02:00:00Z", value: "951" }, "1d");
  assert.equal(evening.length, 2);
  assert.equal(evening[1].value, "951");
  assert.equal(evening[1].live, true);
  const nextDay = withLive(points, { time: "2026-05-05T14:00:00Z", value: "960" }, "1d");
  assert.equal(nextDay.length, 3);
  assert.equal(nextDay[2].value, "960");
});

Deno.test("no line from a live value alone, none from an older one", () => {
  assert.deepEqual(withLive([], { time: "2026-05-04T14:00:00Z", value: "1" }, "5m"), []);
  const points = [point("2026-05-04T14:05:00Z", "995")];
  const older = withLive(points, { time: "2026-05-04T14:00:00Z", value: "1" }, "5m");
  assert.equal(older.length, 1);
  assert.equal(older[0].value, "995");
  const same = withLive(points, { time: "2026-05-04T14:05:00Z", value: "1" }, "5m");
  assert.equal(same[0].value, "995");
  assert.equal(withLive(points, null, "5m")[0].live, false);
});

function series(...days: [string, string | null][]): SeriesPoint[] {
  return days.map(([time, v]) => ({
    time: Date.parse(time),
    value: v,
    reconstructed: false,
    live: false,
  }));
}

Deno.test("a gap between two points breaks the line there", () => {
  const s = series(
    ["2026-03-02T21:00:00Z", "100"],
    ["2026-03-03T21:00:00Z", "101"],
    ["2026-03-09T21:00:00Z", "104"],
  );
  const out = withBreaks(s, [{ from: "2026-03-04", to: "2026-03-06", reason: "No prices." }]);
  assert.deepEqual(out.map((p) => p.value), ["100", "101", null, "104"]);
  const gap = out[2].time;
  assert.ok(gap > s[1].time && gap < s[2].time, "the break lies between its neighbours");
  assert.deepEqual(seriesCounts(out), { points: 3, reconstructed: 0, breaks: 1 });
});

Deno.test("a gap outside the points, or none, leaves the line whole", () => {
  const s = series(["2026-03-02T21:00:00Z", "100"], ["2026-03-03T21:00:00Z", "101"]);
  const before = withBreaks(s, [{ from: "2026-01-01", to: "2026-02-27", reason: "Before." }]);
  assert.deepEqual(before.map((p) => p.value), ["100", "101"]);
  assert.deepEqual(withBreaks(s, []).map((p) => p.value), ["100", "101"]);
});

Deno.test("a gap up to today stops the line before the live value", () => {
  const points = [point("2026-05-01T20:05:00Z", "900")];
  const live = withLive(points, { time: "2026-05-06T15:00:00Z", value: "990" }, "1d");
  const out = withBreaks(live, [{ from: "2026-05-04", to: "2026-05-06", reason: "Not synced." }]);
  assert.deepEqual(out.map((p) => p.value), ["900", null, "990"]);
  assert.equal(lastValue(out)?.value, "990");
  assert.equal(lastValue(out)?.live, true);
});

Deno.test("points the api has inside a gap are joined; the line into the gap is not", () => {
  const s = series(
    ["2026-05-01T20:05:00Z", "900"],
    ["2026-05-06T14:00:00Z", "950"],
    ["2026-05-06T14:05:00Z", "951"],
    ["2026-05-06T14:10:00Z", "952"],
  );
  const out = withBreaks(s, [{ from: "2026-05-04", to: "2026-05-06", reason: "Unexplained." }]);
  assert.deepEqual(out.map((p) => p.value), ["900", null, "950", "951", "952"]);
});

Deno.test("reconstructed segments, isolated points and the last value", () => {
  const s: SeriesPoint[] = [
    { time: 1, value: "1", reconstructed: true, live: false },
    { time: 2, value: "2", reconstructed: false, live: false },
    { time: 3, value: "3", reconstructed: false, live: false },
    { time: 4, value: null, reconstructed: false, live: false },
    { time: 5, value: "5", reconstructed: false, live: false },
    { time: 6, value: null, reconstructed: false, live: false },
  ];
  assert.equal(segmentReconstructed(s, 0), true);
  assert.equal(segmentReconstructed(s, 1), false);
  assert.equal(isolated(s, 4), true, "between two breaks: drawn as a dot");
  assert.equal(isolated(s, 1), false);
  assert.equal(isolated(s, 3), false, "a break is not a point");
  assert.equal(lastValue(s)?.value, "5");
  assert.equal(lastValue([]), null);
  assert.deepEqual(seriesCounts(s), { points: 4, reconstructed: 1, breaks: 2 });
});

Deno.test("times: daily values by their market day, others to the minute", () => {
  // 1:00 UTC on 5 May is still 4 May in New York.
  const t = Date.parse("2026-05-05T01:00:00Z");
  assert.match(pointTimeText(t, "1d"), /4/);
  assert.match(pointTimeText(t, "1d"), /2026/);
  assert.match(pointTimeText(t, "5m"), /\d:\d\d/);
  assert.match(pointTimeText(t, "1d", true), /\d:\d\d/, "the live value is read to the minute");
  assert.match(tickText(t, "minute"), /\d:\d\d/);
  assert.match(tickText(t, "month"), /2026/);
  assert.doesNotMatch(tickText(t, "day"), /:/);
});

Deno.test("ticks fall on calendar boundaries, as few as fit", () => {
  const day = 86_400_000;
  const at = (y: number, m: number, d: number, h = 0, min = 0) =>
    new Date(y, m - 1, d, h, min).getTime();
  // A trading day: whole hours.
  const intraday = calendarTicks(at(2026, 5, 4, 9, 30), at(2026, 5, 4, 16, 0));
  assert.equal(intraday.unit, "minute");
  assert.ok(intraday.ticks.length >= 3 && intraday.ticks.length <= 6);
  for (const t of intraday.ticks) assert.equal(new Date(t).getMinutes(), 0);
  // A year: months' firsts at local midnight.
  const year = calendarTicks(at(2025, 5, 4), at(2026, 5, 4));
  assert.equal(year.unit, "month");
  assert.ok(year.ticks.length <= 6);
  for (const t of year.ticks) {
    const d = new Date(t);
    assert.equal(d.getDate(), 1);
    assert.equal(d.getHours(), 0);
  }
  // A month: Mondays.
  const month = calendarTicks(at(2026, 4, 4), at(2026, 5, 4));
  assert.equal(month.unit, "day");
  for (const t of month.ticks) assert.equal(new Date(t).getDay(), 1);
  // Every tick within the range, in order, and never more than asked for.
  for (const span of [0.01, 1, 3, 8, 40, 100, 400, 2000, 9000]) {
    const min = at(2026, 1, 7, 13, 17), max = min + span * day;
    const { ticks } = calendarTicks(min, max, 6);
    assert.ok(ticks.length <= 6, `${span} days: ${ticks.length} ticks`);
    assert.ok(ticks.every((t, i) => t >= min && t <= max && (i === 0 || t > ticks[i - 1])));
  }
});
