/**
 * The performance cards of the chart's range and scope: time- and money-weighted return,
 * profit and loss, income, net contributions and fees, each with the formula behind it a
 * button away (the api's own words).
 * @module
 */
import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import { formatFraction, formatMoney, formatSignedMoney, tone } from "./format.ts";
import type { History, Range } from "./history_schema.ts";
import { plTotal } from "./performance_figures.ts";
import { RANGE_WORDS } from "./value_series.ts";

/**
 * A card: its figure, a line under it, and the formula behind it (the api's words), shown and
 * hidden by an accessible button.
 */
function Card({ id, name, title, value, figure, figureTone, formula, children }: {
  id: string;
  name: string;
  title: string;
  value: string | null;
  figure: string;
  figureTone: string;
  formula: string | undefined;
  children?: ComponentChildren;
}) {
  const [open, setOpen] = useState(false);
  return (
    <div class="perf-card" data-testid={id} data-value={value ?? ""}>
      <div class="perf-head">
        <h3 id={`${id}-title`}>{title}</h3>
        {formula && (
          <button
            type="button"
            class="info"
            aria-expanded={open}
            aria-controls={`${id}-formula`}
            aria-label={`How ${name} is worked out`}
            data-testid={`${id}-info`}
            onClick={() => setOpen(!open)}
          >
            i
          </button>
        )}
      </div>
      <p class={`perf-figure ${figureTone}`} aria-describedby={`${id}-title`}>{figure}</p>
      {children && <p class="perf-sub small muted">{children}</p>}
      {formula && (
        <p id={`${id}-formula`} class="formula small" hidden={!open} data-testid={`${id}-formula`}>
          {formula}
        </p>
      )}
    </div>
  );
}

const NOT_COMPUTED = "Not enough values in this range to work it out.";

export function PerformanceCards({ h, range, busy }: { h: History; range: Range; busy: boolean }) {
  const r = h.returns;
  const f = h.formulas;
  const c = h.currency;
  const pl = plTotal(r.realized_pl, r.unrealized_pl);
  const scope = h.scope.kind === "account" ? h.scope.name : "All accounts";
  return (
    <section
      class="card performance"
      aria-labelledby="perf-title"
      aria-busy={busy}
      data-testid="performance"
      data-range={range}
    >
      <div class="card-head">
        <h2 id="perf-title">Performance · {RANGE_WORDS[range]}</h2>
        <span class="muted small">{scope}</span>
      </div>
      {r.start_value !== null && r.end_value !== null && (
        <p class="muted small" data-testid="perf-period">
          From {formatMoney(r.start_value, c)} to {formatMoney(r.end_value, c)}
        </p>
      )}
      <div class={busy ? "perf-grid is-busy" : "perf-grid"}>
        <Card
          id="perf-twr"
          name="the time-weighted return"
          title="Time-weighted return"
          value={r.twr}
          figure={formatFraction(r.twr)}
          figureTone={tone(r.twr)}
          formula={f.twr}
        >
          {r.twr === null ? NOT_COMPUTED : "How the investments did, whatever was paid in or out"}
        </Card>
        <Card
          id="perf-mwr"
          name="the money-weighted return"
          title="Money-weighted return"
          value={r.mwr}
          figure={formatFraction(r.mwr)}
          figureTone={tone(r.mwr)}
          formula={f.mwr}
        >
          {r.mwr === null
            ? NOT_COMPUTED
            : (
              <span data-testid="perf-mwr-annualized" data-value={r.mwr_annualized ?? ""}>
                {r.mwr_annualized === null
                  ? "No yearly rate for this range"
                  : `${formatFraction(r.mwr_annualized)} a year (annualised)`}
              </span>
            )}
        </Card>
        <Card
          id="perf-pl"
          name="profit and loss"
          title="Profit / loss"
          value={pl}
          figure={formatSignedMoney(pl, c)}
          figureTone={tone(pl)}
          formula={f.pl}
        >
          Realised {formatSignedMoney(r.realized_pl, c)} · Unrealised{" "}
          {r.unrealized_pl === null ? "unknown" : formatSignedMoney(r.unrealized_pl, c)}
        </Card>
        <Card
          id="perf-income"
          name="income"
          title="Income"
          value={r.income}
          figure={formatMoney(r.income, c)}
          figureTone=""
          formula={f.income}
        >
          Dividends and interest
        </Card>
        <Card
          id="perf-contributions"
          name="net contributions"
          title="Net contributions"
          value={r.net_contributions}
          figure={formatSignedMoney(r.net_contributions, c)}
          figureTone=""
          formula={f.net_contributions}
        >
          Paid in less taken out
        </Card>
        <Card
          id="perf-fees"
          name="fees"
          title="Fees"
          value={r.fees}
          figure={formatMoney(r.fees, c)}
          figureTone=""
          formula={f.fees}
        />
      </div>
    </section>
  );
}
