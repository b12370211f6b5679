/**
 * The dashboard's history: the value chart (range buttons, an account selector, a hover
 * read-out, reconstructed values dashed, gaps as breaks with their reasons, today's end moving
 * with the live value) and the performance cards of the same range and scope.
 * @module
 */
import type { ChartConfiguration } from "chart.js";
import { signal } from "@preact/signals";
import { useState } from "preact/hooks";
import { AccountSelect } from "./account_select.tsx";
import { ChartCanvas } from "./chart_canvas.tsx";
import { compactMoney, formatMoney } from "./format.ts";
import { History, type HistoryGap, type Range, RANGES, type Resolution } from "./history_schema.ts";
import { PerformanceCards } from "./performance.tsx";
import { me, shown } from "./state.ts";
import { useApi } from "./use_api.ts";
import {
  calendarTicks,
  historyPath,
  isolated,
  lastValue,
  liveFor,
  pointTimeText,
  RANGE_WORDS,
  rangeOf,
  segmentReconstructed,
  seriesCounts,
  type SeriesPoint,
  tickText,
  withBreaks,
  withLive,
} from "./value_series.ts";

/** The range and account chosen, kept while the person moves between pages. */
const chartRange = signal<Range>("1M");
const chartAccount = signal("");

/** Read again every 5 minutes: recorded points are added at that pace while prices move. */
const REFRESH_MS = 5 * 60_000;

const LINE = "#1565a8";
const RECONSTRUCTED = "#7fa7cc";

const gapDay = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeZone: "UTC" });

function gapText(g: HistoryGap): string {
  const from = gapDay.format(Date.parse(g.from));
  return g.from === g.to ? from : `${from} – ${gapDay.format(Date.parse(g.to))}`;
}

function lineConfig(
  series: readonly SeriesPoint[],
  h: History,
  onHover: (index: number | null) => void,
): ChartConfiguration<"line"> {
  const last = series.at(-1)?.time ?? Date.parse(h.to);
  const min = Math.min(Date.parse(h.from), series[0]?.time ?? Infinity);
  const max = Math.max(Date.parse(h.to), last);
  const ticks = calendarTicks(min, max);
  const text = (i: number) => {
    const p = series[i];
    return p ? pointTimeText(p.time, h.resolution, p.live) : "";
  };
  return {
    type: "line",
    data: {
      datasets: [{
        label: "Value",
        data: series.map((p) => ({ x: p.time, y: p.value === null ? null : Number(p.value) })),
        borderColor: LINE,
        borderWidth: 2,
        pointRadius: (ctx) => isolated(series, ctx.dataIndex) ? 3 : 0,
        pointHoverRadius: 4,
        pointBackgroundColor: (ctx) => series[ctx.dataIndex]?.reconstructed ? RECONSTRUCTED : LINE,
        pointBorderColor: (ctx) => series[ctx.dataIndex]?.reconstructed ? RECONSTRUCTED : LINE,
        spanGaps: false,
        tension: 0,
        segment: {
          borderColor: (ctx) =>
            segmentReconstructed(series, ctx.p0DataIndex) ? RECONSTRUCTED : undefined,
          borderDash: (ctx) => segmentReconstructed(series, ctx.p0DataIndex) ? [6, 4] : undefined,
        },
      }],
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      interaction: { mode: "index", intersect: false },
      onHover: (_e, elements) => {
        const i = elements.find((el) => series[el.index]?.value != null)?.index;
        onHover(i ?? null);
      },
      scales: {
        x: {
          type: "linear",
          min,
          max,
          afterBuildTicks: (scale) => {
            scale.ticks = ticks.ticks.map((value) => ({ value }));
          },
          ticks: { maxRotation: 0, callback: (v) => tickText(+v, ticks.unit) },
          grid: { display: false },
        },
        y: {
          type: "linear",
          ticks: { maxTicksLimit: 6, callback: (v) => compactMoney(+v, h.currency) },
        },
      },
      plugins: {
        tooltip: {
          filter: (item) => series[item.dataIndex]?.value != null,
          displayColors: false,
          callbacks: {
            title: (items) => items[0] ? text(items[0].dataIndex) : "",
            label: (item) => formatMoney(series[item.dataIndex]?.value, h.currency),
            afterLabel: (item) => pointNote(series[item.dataIndex]) ?? "",
          },
        },
      },
    },
  };
}

/** What a point is, when it is not a plain recorded value. */
function pointNote(p: SeriesPoint | undefined): string | null {
  if (p?.reconstructed) return "Reconstructed from transactions";
  if (p?.live) return "Live value";
  return null;
}

/** The chart's summary for assistive technology. */
function summary(series: readonly SeriesPoint[], h: History, range: Range): string {
  const first = series.find((p) => p.value !== null);
  const last = lastValue(series);
  if (!first || !last) return "No values in this range.";
  const counts = seriesCounts(series);
  const at = (p: SeriesPoint) => pointTimeText(p.time, h.resolution, p.live);
  return `Value over ${RANGE_WORDS[range]}: ${formatMoney(first.value, h.currency)} on ${
    at(first)
  }, ${formatMoney(last.value, h.currency)} on ${at(last)}. ${counts.points} points` +
    (counts.reconstructed ? `, ${counts.reconstructed} reconstructed from transactions` : "") +
    (counts.breaks ? `, ${counts.breaks} gaps` : "") + ".";
}

function ReadOut({ p, resolution, currency }: {
  p: SeriesPoint | null;
  resolution: Resolution;
  currency: string;
}) {
  const note = p && pointNote(p);
  return (
    <p class="chart-readout small" data-testid="chart-readout" aria-live="polite">
      {p
        ? (
          <>
            <time dateTime={new Date(p.time).toISOString()}>
              {pointTimeText(p.time, resolution, p.live)}
            </time>
            {" · "}
            <strong>{formatMoney(p.value, currency)}</strong>
            {note && (
              <>
                {" · "}
                <span class={p.reconstructed ? "reconstructed" : "muted"}>{note}</span>
              </>
            )}
          </>
        )
        : <span class="muted">Point at the chart to read a value.</span>}
    </p>
  );
}

function ValueChart({ h, range }: { h: History; range: Range }) {
  const [hover, setHover] = useState<number | null>(null);
  // The live value of the answer's own scope (the one asked for next may not be shown yet).
  const scope = h.scope.kind === "account" ? h.scope.account_id : null;
  const live = liveFor(shown.value?.value ?? null, h.currency, scope);
  const series = withBreaks(withLive(h.points, live, h.resolution), h.gaps);
  const last = lastValue(series);
  const counts = seriesCounts(series);
  const hovered = hover !== null ? series[hover] ?? null : null;
  return (
    <>
      {last
        ? (
          <>
            <div class="chart-last">
              <p
                class="chart-last-value"
                data-testid="chart-last-value"
                data-value={last.value}
                data-live={last.live ? "true" : "false"}
              >
                {formatMoney(last.value, h.currency)}
              </p>
              <p class="muted small">
                {last.live ? "Live · " : "Last recorded · "}
                <time dateTime={new Date(last.time).toISOString()}>
                  {pointTimeText(last.time, h.resolution, last.live)}
                </time>
              </p>
            </div>
            <ReadOut p={hovered} resolution={h.resolution} currency={h.currency} />
            <ChartCanvas
              config={lineConfig(series, h, setHover)}
              label={summary(series, h, range)}
              onLeave={() => setHover(null)}
              box={{
                class: "chart-line",
                "data-testid": "value-chart",
                "data-range": range,
                "data-resolution": h.resolution,
                "data-points": counts.points,
                "data-reconstructed": counts.reconstructed,
                "data-gaps": h.gaps.length,
              }}
            />
            {counts.reconstructed > 0 && (
              <p class="chart-legend small muted" data-testid="chart-legend">
                <span class="key key-recorded" aria-hidden="true" /> Recorded values{"  "}
                <span class="key key-reconstructed" aria-hidden="true" />{" "}
                Reconstructed from transactions (dashed)
              </p>
            )}
          </>
        )
        : (
          <p class="chart-empty" data-testid="chart-empty" data-range={range}>
            {h.points.length === 0 && range === "ALL"
              ? "No history yet: values are recorded every 5 minutes while prices move, and earlier values are rebuilt from your transactions after a sync."
              : "No values in this range yet: values are recorded every 5 minutes while prices move."}
          </p>
        )}
      {h.gaps.length > 0 && (
        <div class="chart-gaps" data-testid="chart-gaps">
          <h3 class="small">Where the line stops</h3>
          <ul>
            {h.gaps.map((g) => (
              <li key={`${g.from}-${g.to}`}>
                <span class="strong">{gapText(g)}</span>: {g.reason}
              </li>
            ))}
          </ul>
        </div>
      )}
    </>
  );
}

/** The value chart and the performance cards, of one range and scope. */
export function HistorySection() {
  const range = chartRange.value;
  const accountId = chartAccount.value;
  const currency = me.value?.settings.base_currency;
  const h = useApi(historyPath(range, accountId || null), History, "value history", {
    refreshMs: REFRESH_MS,
    version: currency,
  });
  // An answer to another range or account stays shown, dimmed, while the new one loads.
  const data = h.data;
  const current = data !== null && rangeOf(data.range) === range &&
    (data.scope.kind === "account" ? data.scope.account_id : "") === accountId;
  const busy = h.loading || !current;
  const shownRange = data === null ? range : rangeOf(data.range) ?? range;
  return (
    <>
      <section class="card history" aria-labelledby="history-title" data-testid="history">
        <div class="card-head">
          <h2 id="history-title">Value over time</h2>
          <AccountSelect
            id="history-account"
            label="Show"
            value={accountId}
            onChange={(id) => (chartAccount.value = id)}
            testid="history-account"
          />
        </div>
        <div class="segmented ranges" role="group" aria-label="Range">
          {RANGES.map((r) => (
            <button
              key={r}
              type="button"
              aria-pressed={r === range}
              aria-label={RANGE_WORDS[r]}
              title={RANGE_WORDS[r]}
              data-testid={`range-${r}`}
              onClick={() => (chartRange.value = r)}
            >
              {r}
            </button>
          ))}
        </div>
        {h.error && (
          <div class="banner banner-error" role="alert" data-testid="history-error">
            <span>Value history could not be loaded: {h.error}</span>
            <button type="button" class="btn btn-secondary btn-small" onClick={h.reload}>
              Try again
            </button>
          </div>
        )}
        {data === null && !h.error && (
          <p class="chart-empty" role="status">
            <span class="spinner" aria-hidden="true" /> Loading value history…
          </p>
        )}
        {data !== null && (
          <div
            class={busy ? "history-body is-busy" : "history-body"}
            aria-busy={busy}
            data-testid="history-body"
          >
            <ValueChart h={data} range={shownRange} />
          </div>
        )}
      </section>
      {data !== null && <PerformanceCards h={data} range={shownRange} busy={busy} />}
    </>
  );
}
