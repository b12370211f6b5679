/** The dashboard: total value, freshness, the updates banner, holdings and cash. */
import { useState } from "preact/hooks";
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
import { useNow } from "./hooks.ts";
import { acctRow, aggRow, HoldingsTable } from "./holdings_table.tsx";
import {
  hasPending,
  holdings,
  holdingsError,
  liveValue,
  navigate,
  pending,
  refresh,
  refreshMessage,
  syncing,
  syncNote,
} from "./state.ts";

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

function Summary({ h }: { h: Holdings }) {
  const totals = h.totals;
  const primary = totals.find((t) => t.currency === "USD") ?? totals[0];
  const live = liveValue.value;
  const currency = primary?.currency ?? live?.currency ?? "USD";
  const total = live && live.currency === currency ? live.total : primary?.total ?? "0";
  // The day change is the server's: positions' previous closes, summed exactly.
  const dayAmount = primary?.day_change ?? null;
  const coverage = primary?.day_change_coverage;
  const partial = coverage !== undefined && coverage.known < coverage.of;
  return (
    <section class="summary card" aria-labelledby="total-label">
      <div>
        <h2 id="total-label" class="label">Total value</h2>
        <p class="total" data-testid="total-value">{formatMoney(total, currency)}</p>
        <p
          class={`change ${tone(dayAmount)}`}
          data-testid="day-change"
          title={dayAmount === null
            ? "No provider reported a previous close for these holdings"
            : undefined}
        >
          <span class="sr-only">Day change:</span>
          <DayChangeText
            amount={dayAmount}
            percent={primary?.day_change_percent ?? null}
            currency={currency}
          />{" "}
          <span class="muted">
            today{dayAmount !== null && partial
              ? ` · of ${coverage.known} of ${coverage.of} holdings`
              : ""}
          </span>
        </p>
      </div>
      <dl class="figures">
        <div>
          <dt>Invested</dt>
          <dd>{formatMoney(primary?.positions_value ?? "0", currency)}</dd>
        </div>
        <div>
          <dt>Cash</dt>
          <dd>{formatMoney(primary?.cash ?? "0", currency)}</dd>
        </div>
        <div>
          <dt>Unrealised P/L</dt>
          <dd class={tone(primary?.unrealized_pl)}>
            {formatSignedMoney(primary?.unrealized_pl ?? "0", currency)}
          </dd>
        </div>
      </dl>
      {totals.length > 1 && (
        <p class="muted small">
          Also held:{" "}
          {totals.filter((t) => t !== primary).map((t) => formatMoney(t.total, t.currency)).join(
            ", ",
          )} (not converted)
        </p>
      )}
    </section>
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
  const [view, setView] = useState<"all" | "accounts">("all");
  const params = new URLSearchParams(location.search);
  if (holdingsError.value && !h) {
    return (
      <div class="banner banner-error" role="alert">
        Holdings could not be loaded: {holdingsError.value}
      </div>
    );
  }
  if (!h) {
    return (
      <div class="loading" role="status">
        <span class="spinner" aria-hidden="true" /> Loading your portfolio…
      </div>
    );
  }
  const noConnections = h.providers.length === 0;
  const labels: ReadonlyMap<string, AccountLabel> = accountLabels(h.accounts);
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
          <Summary h={h} />
          <Freshness h={h} />
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
            {h.positions.length === 0 && h.accounts.every((a) => a.positions.length === 0)
              ? <p class="muted">No positions yet.</p>
              : view === "all"
              ? (
                <HoldingsTable
                  rows={h.positions.map(aggRow)}
                  caption="Holdings across all accounts"
                  labels={labels}
                />
              )
              : h.accounts.map((a) => (
                <div class="account-block" key={a.id}>
                  <h3>
                    <ProviderBadge provider={a.provider} /> {labelOf(labels, a.id)}
                  </h3>
                  {a.positions.length
                    ? (
                      <HoldingsTable
                        rows={a.positions.filter((p) => p.security_type !== "cash").map(
                          acctRow(a.provider),
                        )}
                        caption={`Holdings in ${labelOf(labels, a.id)}`}
                        labels={labels}
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
