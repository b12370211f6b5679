/**
 * The income page: dividends and interest by month, as stacked bars and as a table with totals,
 * for everything or one account, over the last 12 months, this year or last year.
 * @module
 */
import type { ChartConfiguration } from "chart.js";
import { signal } from "@preact/signals";
import { AccountSelect } from "./account_select.tsx";
import { ChartCanvas } from "./chart_canvas.tsx";
import { compactMoney, formatMoney } from "./format.ts";
import { Income } from "./history_schema.ts";
import {
  everyMonth,
  INCOME_PERIODS,
  incomePath,
  type IncomePeriod,
  incomeTotals,
  monthText,
} from "./income.ts";
import { me } from "./state.ts";
import { useApi } from "./use_api.ts";

const incomePeriod = signal<IncomePeriod>("12m");
const incomeAccount = signal("");

const DIVIDENDS = "#1565a8";
const INTEREST = "#e07b00";

function barConfig(income: Income): ChartConfiguration<"bar"> {
  const c = income.currency;
  return {
    type: "bar",
    data: {
      labels: income.months.map((m) => monthText(m.month)),
      datasets: [
        {
          label: "Dividends",
          data: income.months.map((m) => Number(m.dividends)),
          backgroundColor: DIVIDENDS,
        },
        {
          label: "Interest",
          data: income.months.map((m) => Number(m.interest)),
          backgroundColor: INTEREST,
        },
      ],
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      scales: {
        x: { stacked: true, grid: { display: false }, ticks: { maxRotation: 0, autoSkip: true } },
        y: { stacked: true, ticks: { maxTicksLimit: 6, callback: (v) => compactMoney(+v, c) } },
      },
      plugins: {
        legend: { display: true, position: "bottom" },
        tooltip: {
          callbacks: {
            label: (item) => {
              const m = income.months[item.dataIndex];
              const amount = item.datasetIndex === 0 ? m?.dividends : m?.interest;
              return `${item.dataset.label}: ${formatMoney(amount, c)}`;
            },
            footer: (items) => {
              const m = items[0] && income.months[items[0].dataIndex];
              return m ? `Total: ${formatMoney(m.total, c)}` : "";
            },
          },
        },
      },
    },
  };
}

function summary(income: Income): string {
  const c = income.currency;
  return `Income by month: ${
    income.months.map((m) => `${monthText(m.month)} ${formatMoney(m.total, c)}`).join(", ")
  }. Total ${formatMoney(income.total, c)}.`;
}

const dayText = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeZone: "UTC" });

export function IncomePage() {
  const period = incomePeriod.value;
  const accountId = incomeAccount.value;
  const r = useApi(incomePath(period, accountId || null, new Date()), Income, "income", {
    version: me.value?.settings.base_currency,
  });
  const data = r.data && { ...r.data, months: everyMonth(r.data.from, r.data.to, r.data.months) };
  const c = data?.currency ?? "USD";
  const nothing = data !== null && data.months.every((m) => !/[1-9]/.test(m.total));
  const totals = data ? incomeTotals(data.months) : null;
  return (
    <div data-testid="income-page">
      <div class="page-head">
        <h1>Income</h1>
      </div>
      <section class="card" aria-labelledby="income-title">
        <div class="card-head">
          <h2 id="income-title">Dividends and interest by month</h2>
        </div>
        <div class="filters">
          <div class="inline-field">
            <label for="income-period">Period</label>
            <select
              id="income-period"
              class="field field-inline"
              data-testid="income-period"
              value={period}
              onChange={(e) =>
                incomePeriod.value = (e.currentTarget as HTMLSelectElement).value as IncomePeriod}
            >
              {Object.entries(INCOME_PERIODS).map(([k, label]) => (
                <option key={k} value={k}>{label}</option>
              ))}
            </select>
          </div>
          <AccountSelect
            id="income-account"
            label="Account"
            value={accountId}
            onChange={(id) => (incomeAccount.value = id)}
            testid="income-account"
          />
        </div>
        {r.error && (
          <div class="banner banner-error" role="alert" data-testid="income-error">
            <span>Income could not be loaded: {r.error}</span>
            <button type="button" class="btn btn-secondary btn-small" onClick={r.reload}>
              Try again
            </button>
          </div>
        )}
        {data === null && !r.error && (
          <p class="chart-empty" role="status">
            <span class="spinner" aria-hidden="true" /> Loading income…
          </p>
        )}
        {data !== null && (
          <div class={r.loading ? "is-busy" : ""} aria-busy={r.loading}>
            <p class="muted small">
              {`${dayText.format(Date.parse(data.from))} – ${
                dayText.format(Date.parse(data.to))
              } · in ${data.currency}`}
            </p>
            {data.months.length === 0 || nothing
              ? (
                <p class="chart-empty" data-testid="income-empty">
                  No dividends or interest in this period. They appear here once your brokerages
                  report them.
                </p>
              )
              : (
                <>
                  <ChartCanvas
                    config={barConfig(data)}
                    label={summary(data)}
                    box={{
                      class: "chart-bars",
                      "data-testid": "income-chart",
                      "data-months": data.months.length,
                    }}
                  />
                  <div class="scroll-x">
                    <table class="data-table" data-testid="income-table">
                      <caption class="sr-only">Income by month</caption>
                      <thead>
                        <tr>
                          <th scope="col">Month</th>
                          <th scope="col" class="num">Dividends</th>
                          <th scope="col" class="num">Interest</th>
                          <th scope="col" class="num">Total</th>
                        </tr>
                      </thead>
                      <tbody>
                        {data.months.map((m) => (
                          <tr key={m.month} data-month={m.month}>
                            <th scope="row">{monthText(m.month)}</th>
                            <td class="num">{formatMoney(m.dividends, c)}</td>
                            <td class="num">{formatMoney(m.interest, c)}</td>
                            <td class="num">{formatMoney(m.total, c)}</td>
                          </tr>
                        ))}
                      </tbody>
                      <tfoot>
                        <tr>
                          <th scope="row">Total</th>
                          <td class="num strong">{formatMoney(totals?.dividends, c)}</td>
                          <td class="num strong">{formatMoney(totals?.interest, c)}</td>
                          <td class="num strong" data-testid="income-total">
                            {formatMoney(data.total, c)}
                          </td>
                        </tr>
                      </tfoot>
                    </table>
                  </div>
                </>
              )}
            {data.unconverted.length > 0 && (
              <p class="small warn-text" data-testid="income-unconverted">
                Not converted (no exchange rate into {data.currency}): {data.unconverted.join(", ")}
                {" "}
                — left out of the figures above.
              </p>
            )}
          </div>
        )}
      </section>
    </div>
  );
}
