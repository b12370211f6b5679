/** The dashboard: total value, freshness, the updates banner, holdings and cash. */
import { useEffect, useMemo, useState } from "preact/hooks";
import type { AccountPosition, AggregatedPosition, Holdings, Provider } from "./api.ts";
import {
  formatMoney,
  formatPercent,
  formatQuantity,
  formatSignedMoney,
  PROVIDER_NAMES,
  timeAgo,
  tone,
} from "./format.ts";
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

export function ProviderBadge({ provider }: { provider: Provider }) {
  return <span class={`badge badge-${provider}`}>{PROVIDER_NAMES[provider] ?? provider}</span>;
}

function useNow(everyMs = 30_000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(t);
  }, [everyMs]);
  return now;
}

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
          {dayAmount === null
            ? "—"
            : `${formatSignedMoney(dayAmount, currency)} ${
              formatPercent(primary?.day_change_percent)
            }`}{" "}
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

type Row = {
  key: string;
  symbol: string;
  name: string | null;
  quantity: string;
  price: string | null;
  value: string | null;
  cost_basis: string | null;
  unrealized_pl: string | null;
  day_change: string | null;
  day_change_percent: string | null;
  /** Accounts holding the symbol whose day change is unknown (left out of the sum). */
  day_unknown: number;
  /** Accounts holding the symbol. */
  day_of: number;
  currency: string;
  providers: Provider[];
};
type SortKey =
  | "symbol"
  | "quantity"
  | "price"
  | "value"
  | "day_change"
  | "cost_basis"
  | "unrealized_pl";

const COLUMNS: {
  key: SortKey | "name" | "provider";
  label: string;
  numeric?: boolean;
  sortable?: boolean;
}[] = [
  { key: "symbol", label: "Symbol", sortable: true },
  { key: "name", label: "Name" },
  { key: "quantity", label: "Quantity", numeric: true, sortable: true },
  { key: "price", label: "Price", numeric: true, sortable: true },
  { key: "value", label: "Value", numeric: true, sortable: true },
  { key: "day_change", label: "Day change", numeric: true, sortable: true },
  { key: "cost_basis", label: "Cost basis", numeric: true, sortable: true },
  { key: "unrealized_pl", label: "Unrealised P/L", numeric: true, sortable: true },
  { key: "provider", label: "Provider" },
];

function sortRows(rows: Row[], key: SortKey, dir: 1 | -1): Row[] {
  return [...rows].sort((a, b) => {
    if (key === "symbol") return a.symbol.localeCompare(b.symbol) * dir;
    const x = a[key] === null ? -Infinity : Number(a[key]);
    const y = b[key] === null ? -Infinity : Number(b[key]);
    return (x - y) * dir || a.symbol.localeCompare(b.symbol);
  });
}

function HoldingsTable({ rows, caption }: { rows: Row[]; caption: string }) {
  const [sort, setSort] = useState<{ key: SortKey; dir: 1 | -1 }>({ key: "value", dir: -1 });
  const sorted = useMemo(() => sortRows(rows, sort.key, sort.dir), [rows, sort]);
  const toggle = (key: SortKey) =>
    setSort((
      s,
    ) => (s.key === key
      ? { key, dir: s.dir === 1 ? -1 : 1 }
      : { key, dir: key === "symbol" ? 1 : -1 })
    );
  return (
    <div class="table-wrap" tabIndex={0} role="region" aria-label={caption}>
      <table class="holdings">
        <caption class="sr-only">{caption}</caption>
        <thead>
          <tr>
            {COLUMNS.map((col) => {
              const active = col.sortable && sort.key === col.key;
              return (
                <th
                  key={col.key}
                  scope="col"
                  class={col.numeric ? "num" : ""}
                  aria-sort={active ? (sort.dir === 1 ? "ascending" : "descending") : undefined}
                >
                  {col.sortable
                    ? (
                      <button type="button" class="sort" onClick={() => toggle(col.key as SortKey)}>
                        {col.label}
                        <span aria-hidden="true" class="sort-icon">
                          {active ? (sort.dir === 1 ? "▲" : "▼") : "↕"}
                        </span>
                      </button>
                    )
                    : col.label}
                </th>
              );
            })}
          </tr>
        </thead>
        <tbody>
          {sorted.map((r) => (
            <tr key={r.key} data-symbol={r.symbol}>
              <th scope="row" class="symbol">{r.symbol}</th>
              <td class="name">{r.name ?? "—"}</td>
              <td class="num" data-testid="quantity">{formatQuantity(r.quantity)}</td>
              <td class="num">{formatMoney(r.price, r.currency)}</td>
              <td class="num strong">{formatMoney(r.value, r.currency)}</td>
              <DayChangeCell row={r} />
              <td class="num">{formatMoney(r.cost_basis, r.currency)}</td>
              <td class={`num ${tone(r.unrealized_pl)}`}>
                {formatSignedMoney(r.unrealized_pl, r.currency)}
              </td>
              <td>
                <span class="badges">
                  {r.providers.map((p) => <ProviderBadge key={p} provider={p} />)}
                </span>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function DayChangeCell({ row: r }: { row: Row }) {
  if (r.day_change === null) {
    return (
      <td class="num muted" title="No previous close was reported for this position">
        —
      </td>
    );
  }
  const partial = r.day_unknown > 0;
  return (
    <td
      class={`num ${tone(r.day_change)}`}
      data-testid="day-change"
      title={partial
        ? `Day change of ${r.day_of - r.day_unknown} of ${r.day_of} accounts holding it`
        : undefined}
    >
      {formatSignedMoney(r.day_change, r.currency)}
      {r.day_change_percent !== null && (
        <span class="small">{formatPercent(r.day_change_percent)}</span>
      )}
      {partial && (
        <>
          <span aria-hidden="true">*</span>
          <span class="sr-only">(of {r.day_of - r.day_unknown} of {r.day_of} accounts)</span>
        </>
      )}
    </td>
  );
}

const aggRow = (p: AggregatedPosition): Row => ({
  key: `${p.symbol}|${p.currency}`,
  symbol: p.symbol,
  name: p.name,
  quantity: p.quantity,
  price: p.price,
  value: p.value,
  cost_basis: p.cost_basis,
  unrealized_pl: p.unrealized_pl,
  day_change: p.day_change,
  day_change_percent: p.day_change_percent,
  day_unknown: p.day_change_unknown_accounts,
  day_of: p.accounts.length,
  currency: p.currency,
  providers: p.providers,
});
const acctRow = (provider: Provider) => (p: AccountPosition): Row => ({
  key: p.id,
  symbol: p.symbol,
  name: p.name,
  quantity: p.quantity,
  price: p.price,
  value: p.value,
  cost_basis: p.cost_basis,
  unrealized_pl: p.unrealized_pl,
  day_change: p.day_change,
  day_change_percent: p.day_change_percent,
  day_unknown: p.day_change === null ? 1 : 0,
  day_of: 1,
  currency: p.currency,
  providers: [provider],
});

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
                />
              )
              : h.accounts.map((a) => (
                <div class="account-block" key={a.id}>
                  <h3>
                    <ProviderBadge provider={a.provider} /> {a.institution} · {a.name}
                    {a.number_mask ? <span class="muted">····{a.number_mask}</span> : null}
                  </h3>
                  {a.positions.length
                    ? (
                      <HoldingsTable
                        rows={a.positions.filter((p) => p.security_type !== "cash").map(
                          acctRow(a.provider),
                        )}
                        caption={`Holdings in ${a.name}`}
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
                        {c.accounts.map((a) => {
                          const acct = h.accounts.find((x) => x.id === a.account_id);
                          return (
                            <li key={a.account_id}>
                              <ProviderBadge provider={a.provider} />{" "}
                              {acct ? `${acct.institution} · ${acct.name}` : "Account"}:{" "}
                              {formatMoney(a.amount, c.currency)}
                            </li>
                          );
                        })}
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
