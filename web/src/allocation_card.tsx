/**
 * The allocation: a doughnut by asset class, account, currency or instrument, a table of every
 * slice with its value and weight, and what could not be valued, said plainly.
 * @module
 */
import type { ChartConfiguration } from "chart.js";
import { signal } from "@preact/signals";
import {
  allocationPath,
  BY_LABELS,
  type DrawnAllocation,
  drawnAllocation,
  OTHER_COLOR,
} from "./allocation.ts";
import { ChartCanvas } from "./chart_canvas.tsx";
import { formatFraction, formatMoney, timeAgo } from "./format.ts";
import { Allocation, ALLOCATION_BY, type AllocationBy } from "./history_schema.ts";
import { useNow } from "./hooks.ts";
import { me } from "./state.ts";
import { useApi } from "./use_api.ts";

const allocationBy = signal<AllocationBy>("asset_class");

function doughnutConfig(d: DrawnAllocation, currency: string): ChartConfiguration<"doughnut"> {
  return {
    type: "doughnut",
    data: {
      labels: d.drawn.map((s) => s.label),
      datasets: [{
        data: d.drawn.map((s) => Number(s.value)),
        backgroundColor: d.drawn.map((s) => s.color),
        borderColor: "#ffffff",
        borderWidth: 2,
      }],
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      cutout: "62%",
      plugins: {
        tooltip: {
          callbacks: {
            label: (item) => {
              const s = d.drawn[item.dataIndex];
              return s
                ? `${s.label}: ${formatMoney(s.value, currency)} (${
                  formatFraction(s.weight, { signed: false })
                })`
                : "";
            },
          },
        },
      },
    },
  };
}

function summary(a: Allocation, d: DrawnAllocation): string {
  const parts = d.drawn.map((s) => `${s.label} ${formatFraction(s.weight, { signed: false })}`);
  return `Allocation by ${BY_LABELS[a.by].toLowerCase()}: ${parts.join(", ")}.`;
}

export function AllocationCard() {
  const by = allocationBy.value;
  const a = useApi(allocationPath(by), Allocation, "allocation", {
    version: me.value?.settings.base_currency,
  });
  const now = useNow();
  const data = a.data;
  const busy = a.loading || data?.by !== by;
  const d = data ? drawnAllocation(data.slices) : null;
  return (
    <section class="card allocation" aria-labelledby="alloc-title" data-testid="allocation">
      <div class="card-head">
        <h2 id="alloc-title">Allocation</h2>
        <div class="segmented" role="group" aria-label="Group by">
          {ALLOCATION_BY.map((b) => (
            <button
              key={b}
              type="button"
              aria-pressed={b === by}
              data-testid={`allocation-by-${b}`}
              onClick={() => (allocationBy.value = b)}
            >
              {BY_LABELS[b]}
            </button>
          ))}
        </div>
      </div>
      {a.error && (
        <div class="banner banner-error" role="alert" data-testid="allocation-error">
          <span>The allocation could not be loaded: {a.error}</span>
          <button type="button" class="btn btn-secondary btn-small" onClick={a.reload}>
            Try again
          </button>
        </div>
      )}
      {data === null && !a.error && (
        <p class="chart-empty" role="status">
          <span class="spinner" aria-hidden="true" /> Loading the allocation…
        </p>
      )}
      {data !== null && d !== null && (
        <div class={busy ? "alloc-body is-busy" : "alloc-body"} aria-busy={busy}>
          {data.slices.length === 0
            ? (
              <p class="chart-empty" data-testid="allocation-empty">
                Nothing valued to allocate yet.
              </p>
            )
            : (
              <div class="alloc-grid">
                {d.drawn.length > 0
                  ? (
                    <ChartCanvas
                      config={doughnutConfig(d, data.currency)}
                      label={summary(data, d)}
                      box={{
                        class: "chart-doughnut",
                        "data-testid": "allocation-chart",
                        "data-by": data.by,
                        "data-slices": d.drawn.length,
                      }}
                    />
                  )
                  : (
                    <p class="chart-empty" data-testid="allocation-chart-none">
                      No positive values to draw.
                    </p>
                  )}
                <div class="scroll-x">
                  <table class="data-table" data-testid="allocation-table">
                    <caption class="sr-only">
                      Allocation by {BY_LABELS[data.by].toLowerCase()}
                    </caption>
                    <thead>
                      <tr>
                        <th scope="col">{BY_LABELS[data.by]}</th>
                        <th scope="col" class="num">Value</th>
                        <th scope="col" class="num">Weight</th>
                      </tr>
                    </thead>
                    <tbody>
                      {data.slices.map((s) => (
                        <tr key={s.key} data-key={s.key}>
                          <th scope="row">
                            <span
                              class="swatch"
                              aria-hidden="true"
                              style={{ background: d.colors.get(s.key) ?? "transparent" }}
                            />
                            {s.label}
                          </th>
                          <td class="num">{formatMoney(s.value, data.currency)}</td>
                          <td class="num">{formatFraction(s.weight, { signed: false })}</td>
                        </tr>
                      ))}
                    </tbody>
                    <tfoot>
                      <tr>
                        <th scope="row">Total</th>
                        <td class="num" data-testid="allocation-total">
                          {formatMoney(data.total, data.currency)}
                        </td>
                        <td class="num" />
                      </tr>
                    </tfoot>
                  </table>
                </div>
              </div>
            )}
          {d.drawn.some((s) =>
            s.color === OTHER_COLOR
          ) && <p class="muted small">The smallest slices are drawn together as “Other”.</p>}
          {d.undrawn.length > 0 && (
            <p class="muted small">
              Listed but not drawn, being zero or negative: {d.undrawn.map((s) =>
                s.label
              ).join(", ")}.
            </p>
          )}
          {data.unvalued.length > 0 && (
            <div class="unvalued" data-testid="allocation-unvalued">
              <p class="small warn-text">
                Not in the allocation, because they could not be valued:
              </p>
              <ul class="small">
                {data.unvalued.map((u) => (
                  <li key={u.key}>
                    <span class="strong">{u.label}</span>: {u.reason}
                  </li>
                ))}
              </ul>
            </div>
          )}
          {data.as_of && (
            <p class="muted small">
              Valued <time dateTime={data.as_of}>{timeAgo(data.as_of, now)}</time>
            </p>
          )}
        </div>
      )}
    </section>
  );
}
