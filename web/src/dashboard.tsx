/**
 * The dashboard: total value in the base currency (live: re-priced at every value event),
 * freshness, the updates banner, the value chart and performance, the allocation, holdings and
 * cash.
 */
import { useState } from "preact/hooks";
import { AllocationCard } from "./allocation_card.tsx";
import type { Holdings } from "./api.ts";
import { type AccountLabel, accountLabels, labelOf } from "./accounts.ts";
import { ProviderBadge } from "./badges.tsx";
import {
  dayChangeParts,
  formatMoney,
  formatSignedMoney,
  PROVIDER_NAMES,
  timeAgo,
  tone,
} from "./format.ts";
import { useFlash } from "./flash.ts";
import { useNow } from "./hooks.ts";
import { acctRow, aggRow, baseOf, HoldingsTable, type OnTrade } from "./holdings_table.tsx";
import {
  type BaseSummary,
  freshnessText,
  type PortfolioValue,
  type PriceStatus,
  priceStatusOfView,
  summaryOfValue,
  summaryOfView,
} from "./live_value.ts";
import {
  changeBaseCurrency,
  hasPending,
  holdings,
  holdingsError,
  liveValue,
  me,
  navigate,
  pending,
  refresh,
  refreshMessage,
  shown,
  syncing,
  syncNote,
  toast,
} from "./state.ts";
import { openTicket } from "./trading.ts";
import { HistorySection } from "./value_chart.tsx";

/** Opens the trade ticket for a holding's row (its own account first, in one account's table). */
const tradeFromRow: OnTrade = (row, side) => {
  if (!row.trade) return;
  openTicket({ symbol: row.trade.symbol, name: row.name, side, accountId: row.trade.accountId });
};

function RefreshButton({ primary }: { primary?: boolean }) {
  const busy = syncing.value !== null;
  return (
    <button
      type="button"
      class={`btn ${primary ? "btn-amber" : "btn-secondary"}`}
      onClick={() => void refresh()}
      disabled={busy}
      aria-busy={busy}
    >
      {busy ? <span class="spinner" aria-hidden="true" /> : <span aria-hidden="true">↻</span>}
      {busy ? "Syncing…" : "Refresh"}
    </button>
  );
}

function UpdatesBanner() {
  const p = pending.value;
  const show = hasPending.value;
  const providers = [
    ...new Set((p?.connections ?? []).map((c) => PROVIDER_NAMES[c.provider] ?? c.provider)),
  ];
  return (
    <div aria-live="polite">
      {show && (
        <div class="banner banner-amber" role="status" data-testid="updates-banner">
          <div>
            <strong>Updates available</strong>
            <span>
              {" "}
              {providers.length
                ? `${providers.join(" and ")} reported new data.`
                : "A brokerage reported new data."} Refresh to fetch the latest holdings.
            </span>
          </div>
          <RefreshButton primary />
        </div>
      )}
      {syncing.value && (
        <div class="banner banner-info" role="status">
          <span class="spinner" aria-hidden="true" /> {syncNote.value ?? "Syncing…"}
        </div>
      )}
      {refreshMessage.value && (
        <div class="banner banner-warn" role="alert" data-testid="refresh-wait">
          {refreshMessage.value}
        </div>
      )}
    </div>
  );
}

/** "+$12.30 (+0.52%)": amount and percentage as two texts with a space between. */
function DayChangeText(
  { amount, percent, currency }: {
    amount: string | null;
    percent: string | null;
    currency: string;
  },
) {
  if (amount === null) return <>—</>;
  const parts = dayChangeParts(amount, percent, currency);
  return (
    <>
      <span class="dc-amount">{parts.amount}</span>
      {parts.percent && <span class="dc-percent">{parts.percent}</span>}
    </>
  );
}

/** The base-currency selector: the currencies Meridian has rates for (`GET /api/me`). */
function CurrencySelect({ current }: { current: string }) {
  const [busy, setBusy] = useState(false);
  const offered = me.value?.settings.base_currencies ?? [];
  const options = offered.includes(current) ? offered : [current, ...offered];
  const id = "base-currency";
  return (
    <div class="currency-select">
      <label for={id}>Currency</label>
      <select
        id={id}
        value={current}
        disabled={busy || options.length < 2}
        aria-busy={busy}
        onChange={async (e) => {
          const select = e.currentTarget as HTMLSelectElement;
          const next = select.value;
          if (next === current) return;
          setBusy(true);
          try {
            await changeBaseCurrency(next);
          } catch (err) {
            // Refused (say, the rates changed meanwhile): show the currency still in force.
            select.value = current;
            toast("error", (err as Error).message);
          } finally {
            setBusy(false);
          }
        }}
      >
        {options.map((c) => <option key={c} value={c}>{c}</option>)}
      </select>
    </div>
  );
}

const MARKET_WORDS: Record<PriceStatus["market"], string> = {
  open: "Market open",
  closed: "Market closed",
  unknown: "Market status unknown",
};

/** The market's state, how recent the prices are, and how many are delayed or stale. */
function PriceStatusLine({ status }: { status: PriceStatus }) {
  const now = useNow(15_000);
  const counts = freshnessText(status);
  return (
    <div class="price-status" data-testid="price-status">
      <p>
        <span class={`market market-${status.market}`} data-testid="market-status">
          {MARKET_WORDS[status.market]}
        </span>
        {status.as_of && (
          <>
            {" · prices as of "}
            <time dateTime={status.as_of} title={new Date(status.as_of).toLocaleString()}>
              {timeAgo(status.as_of, now)}
            </time>
          </>
        )}
        {counts && (
          <>
            {" · "}
            <span data-testid="price-counts">{counts}</span>
          </>
        )}
      </p>
      {counts && (
        <p class="muted small">
          {status.delayed ? "Delayed prices were polled or come from a delayed feed. " : ""}
          {status.stale
            ? "Stale prices are more than 15 minutes old while their market trades."
            : ""}
        </p>
      )}
    </div>
  );
}

/** "of 40 of 45 holdings" when a figure covers only some holdings. */
function coverage(covered: number, of: number): string {
  return covered < of ? ` · of ${covered} of ${of} holdings` : "";
}

/**
 * Totals in the base currency: from the value that priced the rows when there is one (what
 * valuation published), else from the view itself (the same rules; see `summaryOfView`).
 */
function Summary({ view, value, status }: {
  view: Holdings;
  value: PortfolioValue | null;
  status: PriceStatus;
}) {
  const s: BaseSummary = value ? summaryOfValue(value) : summaryOfView(view);
  const currency = s.currency;
  const day = s.day_change;
  const pl = s.unrealized_pl;
  const flash = useFlash<HTMLParagraphElement>(s.total);
  return (
    <section class="summary card" aria-labelledby="total-label">
      <div>
        <div class="summary-head">
          <h2 id="total-label" class="label">Total value</h2>
          <CurrencySelect current={currency} />
        </div>
        <p
          ref={flash}
          class="total"
          data-testid="total-value"
          data-value={s.total}
          data-currency={currency}
          aria-live="polite"
          aria-atomic="true"
        >
          {formatMoney(s.total, currency)}
        </p>
        <p
          class={`change ${tone(day.amount)}`}
          data-testid="day-change"
          title={day.amount === null
            ? "No provider reported a previous close for these holdings"
            : undefined}
        >
          <span class="sr-only">Day change:</span>
          <DayChangeText amount={day.amount} percent={day.percent} currency={currency} />{" "}
          <span class="muted">
            today{day.amount !== null ? coverage(day.covered, day.positions) : ""}
          </span>
        </p>
      </div>
      <dl class="figures">
        <div>
          <dt>Invested</dt>
          <dd>{formatMoney(s.positions_value, currency)}</dd>
        </div>
        <div>
          <dt>Cash</dt>
          <dd data-testid="cash" data-value={s.cash}>{formatMoney(s.cash, currency)}</dd>
        </div>
        <div>
          <dt>Unrealised P/L</dt>
          <dd class={tone(pl.amount)}>
            {formatSignedMoney(pl.amount, currency)}
            {pl.amount !== null && pl.covered < pl.positions && (
              <span class="muted small figure-note">
                of {pl.covered} of {pl.positions} holdings
              </span>
            )}
          </dd>
        </div>
      </dl>
      <div class="summary-notes">
        <PriceStatusLine status={status} />
        <CurrencyNotes s={s} />
      </div>
    </section>
  );
}

/**
 * What else is held, natively and converted, which currencies could not be converted, and
 * the reference rates' date when anything was.
 */
function CurrencyNotes({ s }: { s: BaseSummary }) {
  const converted = s.others.filter((o) => o.base_total !== null);
  const unconverted = s.others.filter((o) => o.base_total === null);
  // A currency without a rate whose total is zero is still named: it is left out.
  const named = [...new Set([...unconverted.map((o) => o.currency), ...s.unconverted])];
  return (
    <>
      {converted.length > 0 && (
        <p class="muted small" data-testid="also-held">
          Also held:{" "}
          {converted.map((o) =>
            `${formatMoney(o.total, o.currency)} (= ${formatMoney(o.base_total, s.currency)})`
          ).join(", ")}
        </p>
      )}
      {named.length > 0 && (
        <p class="small warn-text" data-testid="unconverted">
          Not converted (no exchange rate into {s.currency}): {named.map((c) => {
            const o = unconverted.find((x) => x.currency === c);
            return o ? formatMoney(o.total, c) : c;
          }).join(", ")} — left out of the totals above.
        </p>
      )}
      {s.fx_date && (
        <p class="muted small" data-testid="fx-date">
          Converted at ECB rates of {s.fx_date}
        </p>
      )}
    </>
  );
}

function Freshness({ h }: { h: Holdings }) {
  const now = useNow();
  return (
    <ul class="freshness" aria-label="Data freshness by provider">
      {h.providers.map((p) => (
        <li key={p.provider}>
          <ProviderBadge provider={p.provider} />
          <span>
            Last synced{" "}
            <time dateTime={p.last_synced ?? undefined}>{timeAgo(p.last_synced, now)}</time>
          </span>
          {p.has_pending_updates && (
            <span class="dot-amber" title="Updates available">● updates</span>
          )}
          {p.connections.some((c) => c.status === "error") && (
            <a
              class="link-warn"
              href="/connections"
              onClick={(e) => {
                e.preventDefault();
                navigate("/connections");
              }}
            >
              needs attention
            </a>
          )}
        </li>
      ))}
    </ul>
  );
}

function EmptyState() {
  return (
    <section class="card empty" aria-labelledby="empty-title">
      <div class="empty-art" aria-hidden="true">⌁</div>
      <h2 id="empty-title">Connect your first brokerage</h2>
      <p class="muted">
        Meridian brings every account into one view. Connect through SnapTrade, Plaid or an Alpaca
        API key — your credentials stay encrypted on your own server.
      </p>
      <button type="button" class="btn btn-primary" onClick={() => navigate("/connections")}>
        Connect a brokerage
      </button>
    </section>
  );
}

export function Dashboard() {
  const h = holdings.value;
  const current = shown.value;
  const [view, setView] = useState<"all" | "accounts">("all");
  const params = new URLSearchParams(location.search);
  if (holdingsError.value && !h) {
    return (
      <div class="banner banner-error" role="alert">
        Holdings could not be loaded: {holdingsError.value}
      </div>
    );
  }
  if (!h || !current) {
    return (
      <div class="loading" role="status">
        <span class="spinner" aria-hidden="true" /> Loading your portfolio…
      </div>
    );
  }
  const noConnections = h.providers.length === 0;
  // Labels, providers and cash come from the server's view (pricing does not change them);
  // figures and rows from the view as priced now.
  const labels: ReadonlyMap<string, AccountLabel> = accountLabels(h.accounts);
  const v = current.view;
  const base = baseOf(v);
  const status = current.value?.prices ?? priceStatusOfView(v);
  const market = liveValue.value?.prices.market;
  // Rows offer Buy and Sell when some account may trade; the ticket says which can, and why
  // the others cannot.
  const onTrade = h.accounts.some((a) => a.can_trade && a.status === "open")
    ? tradeFromRow
    : undefined;
  return (
    <>
      <div class="page-head">
        <h1>Portfolio</h1>
        {!noConnections && <RefreshButton />}
      </div>
      <UpdatesBanner />
      {params.get("connected") && h.accounts.length === 0 && (
        <div class="banner banner-info" role="status">
          <span class="spinner" aria-hidden="true" />{" "}
          Connected. Your first sync is on its way — holdings appear here as soon as it finishes.
        </div>
      )}
      {noConnections ? <EmptyState /> : (
        <>
          <Summary
            view={v}
            value={current.value}
            status={market && !current.value ? { ...status, market } : status}
          />
          <Freshness h={h} />
          <HistorySection />
          <AllocationCard />
          <section class="card" aria-labelledby="holdings-title">
            <div class="card-head">
              <h2 id="holdings-title">Holdings</h2>
              <div class="segmented" role="group" aria-label="Group holdings">
                <button type="button" aria-pressed={view === "all"} onClick={() => setView("all")}>
                  All accounts
                </button>
                <button
                  type="button"
                  aria-pressed={view === "accounts"}
                  onClick={() => setView("accounts")}
                >
                  By account
                </button>
              </div>
            </div>
            {v.positions.length === 0 && v.accounts.every((a) => a.positions.length === 0)
              ? <p class="muted">No positions yet.</p>
              : view === "all"
              ? (
                <HoldingsTable
                  rows={v.positions.map(aggRow)}
                  caption="Holdings across all accounts"
                  labels={labels}
                  base={base}
                  onTrade={onTrade}
                />
              )
              : v.accounts.map((a) => (
                <div class="account-block" key={a.id}>
                  <h3>
                    <ProviderBadge provider={a.provider} /> {labelOf(labels, a.id)}
                  </h3>
                  {a.positions.length
                    ? (
                      <HoldingsTable
                        rows={a.positions.filter((p) => p.security_type !== "cash").map(
                          acctRow(a.provider, a.id),
                        )}
                        caption={`Holdings in ${labelOf(labels, a.id)}`}
                        labels={labels}
                        base={base}
                        onTrade={a.can_trade && a.status === "open" ? onTrade : undefined}
                      />
                    )
                    : <p class="muted">No positions in this account.</p>}
                </div>
              ))}
          </section>
          <section class="card" aria-labelledby="cash-title">
            <h2 id="cash-title">Cash</h2>
            {h.cash.length === 0
              ? <p class="muted">No cash balances reported.</p>
              : (
                <ul class="cash-list">
                  {h.cash.map((c) => (
                    <li key={c.currency}>
                      <span class="strong">{formatMoney(c.amount, c.currency)}</span>
                      <span class="muted">
                        {` in ${c.accounts.length} account${c.accounts.length === 1 ? "" : "s"}`}
                      </span>
                      <ul class="cash-accounts">
                        {c.accounts.map((a) => (
                          <li key={a.account_id}>
                            <ProviderBadge provider={a.provider} /> {labelOf(labels, a.account_id)}:
                            {" "}
                            {formatMoney(a.amount, c.currency)}
                          </li>
                        ))}
                      </ul>
                    </li>
                  ))}
                </ul>
              )}
          </section>
        </>
      )}
    </>
  );
}
