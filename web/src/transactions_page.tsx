/**
 * The transactions page: every transaction the brokerages reported, newest first, filtered by
 * account, type and dates, a page at a time with the api's cursor.
 * @module
 */
import { signal } from "@preact/signals";
import { useEffect, useRef, useState } from "preact/hooks";
import { AccountSelect } from "./account_select.tsx";
import { accountLabels, labelOf } from "./accounts.ts";
import { api } from "./api.ts";
import { ProviderBadge } from "./badges.tsx";
import { formatMoney, formatQuantity, formatSignedMoney, tone } from "./format.ts";
import { type Transaction, TransactionPage } from "./history_schema.ts";
import { checked } from "./order_schema.ts";
import { holdings } from "./state.ts";
import {
  filterProblem,
  isFiltered,
  NO_FILTER,
  type TransactionFilter,
  transactionsPath,
  TYPE_LABELS,
  TYPES,
} from "./transactions.ts";

/** The filter, kept while the person moves between pages. */
const txFilter = signal<TransactionFilter>(NO_FILTER);

const dayText = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeZone: "UTC" });

/** A figure of a row, "—" without one (a phone's row card leaves those out). */
function Figure({ cls, label, text }: { cls: string; label: string; text: string | null }) {
  return (
    <td class={`num ${cls}${text === null ? " is-none" : ""}`} data-label={label}>
      {text ?? "—"}
    </td>
  );
}

function TransactionRow({ t, account }: { t: Transaction; account: string }) {
  return (
    <tr data-transaction-id={t.id} data-type={t.type}>
      <td class="c-date">
        <time dateTime={t.trade_date}>{dayText.format(Date.parse(t.trade_date))}</time>
      </td>
      <td class="c-account">
        <ProviderBadge provider={t.provider} /> <span class="muted">{account}</span>
      </td>
      <td class="c-type strong">{TYPE_LABELS[t.type]}</td>
      <td class={`c-what${t.symbol || t.description ? "" : " is-none"}`}>
        {t.symbol && <span class="strong">{t.symbol}</span>}
        {t.symbol && t.description && " "}
        {t.description && <span class="muted">{t.description}</span>}
      </td>
      <Figure
        cls="c-qty"
        label="Quantity"
        text={t.quantity === null ? null : formatQuantity(t.quantity)}
      />
      <Figure
        cls="c-price"
        label="Price"
        text={t.price === null ? null : formatMoney(t.price, t.currency)}
      />
      <td class={`num strong c-amount ${tone(t.amount)}`}>
        {formatSignedMoney(t.amount, t.currency)}
      </td>
      <Figure
        cls="c-fee"
        label="Fee"
        text={t.fee === null ? null : formatMoney(t.fee, t.currency)}
      />
    </tr>
  );
}

function Filters({ filter, problem }: { filter: TransactionFilter; problem: string | null }) {
  const set = (patch: Partial<TransactionFilter>) => (txFilter.value = { ...filter, ...patch });
  return (
    <form
      class="filters"
      aria-label="Filter transactions"
      onSubmit={(e) => e.preventDefault()}
    >
      <AccountSelect
        id="tx-account"
        label="Account"
        value={filter.account_id}
        onChange={(id) => set({ account_id: id })}
        testid="transactions-account"
      />
      <div class="inline-field">
        <label for="tx-type">Type</label>
        <select
          id="tx-type"
          class="field field-inline"
          data-testid="transactions-type"
          value={filter.type}
          onChange={(e) =>
            set({
              type: (e.currentTarget as HTMLSelectElement).value as TransactionFilter["type"],
            })}
        >
          <option value="">All types</option>
          {TYPES.map((t) => <option key={t} value={t}>{TYPE_LABELS[t]}</option>)}
        </select>
      </div>
      <div class="inline-field">
        <label for="tx-from">From</label>
        <input
          id="tx-from"
          type="date"
          class="field field-inline"
          data-testid="transactions-from"
          value={filter.from}
          max={filter.to || undefined}
          aria-invalid={problem !== null}
          onChange={(e) => set({ from: (e.currentTarget as HTMLInputElement).value })}
        />
      </div>
      <div class="inline-field">
        <label for="tx-to">To</label>
        <input
          id="tx-to"
          type="date"
          class="field field-inline"
          data-testid="transactions-to"
          value={filter.to}
          min={filter.from || undefined}
          aria-invalid={problem !== null}
          onChange={(e) => set({ to: (e.currentTarget as HTMLInputElement).value })}
        />
      </div>
      {isFiltered(filter) && (
        <button
          type="button"
          class="btn btn-ghost btn-small"
          data-testid="transactions-clear"
          onClick={() => (txFilter.value = NO_FILTER)}
        >
          Clear filters
        </button>
      )}
    </form>
  );
}

export function TransactionsPage() {
  const filter = txFilter.value;
  const problem = filterProblem(filter);
  const [rows, setRows] = useState<Transaction[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const latest = useRef(0);
  const load = async (cursor: string | null) => {
    const request = ++latest.current;
    setLoading(true);
    setError(null);
    try {
      const page = checked(
        TransactionPage,
        await api(transactionsPath(filter, cursor)),
        "transactions",
      );
      if (request !== latest.current) return;
      setRows((before) =>
        cursor === null ? page.transactions : [...before ?? [], ...page.transactions]
      );
      setNext(page.next_cursor);
    } catch (e) {
      if (request === latest.current) setError((e as Error).message);
    } finally {
      if (request === latest.current) setLoading(false);
    }
  };
  const key = JSON.stringify(filter);
  useEffect(() => {
    if (problem) return;
    setRows(null);
    setNext(null);
    void load(null);
  }, [key]);
  const h = holdings.value;
  const labels = accountLabels(h?.accounts ?? []);
  // Before the holdings load, no account is named rather than one called gone.
  const label = (id: string) => h ? labelOf(labels, id) : "";
  return (
    <div data-testid="transactions-page">
      <div class="page-head">
        <h1>Transactions</h1>
      </div>
      <section class="card" aria-labelledby="tx-title">
        <h2 id="tx-title" class="sr-only">Your transactions</h2>
        <Filters filter={filter} problem={problem} />
        {problem && <p class="form-error" role="alert">{problem}</p>}
        {error && (
          <div class="banner banner-error" role="alert" data-testid="transactions-error">
            <span>Transactions could not be loaded: {error}</span>
            <button
              type="button"
              class="btn btn-secondary btn-small"
              onClick={() => void load(rows === null ? null : next)}
            >
              Try again
            </button>
          </div>
        )}
        {!problem && rows === null && !error && (
          <p class="chart-empty" role="status">
            <span class="spinner" aria-hidden="true" /> Loading transactions…
          </p>
        )}
        {!problem && rows !== null && rows.length === 0 && (
          <p class="chart-empty" data-testid="transactions-empty">
            {isFiltered(filter)
              ? "No transactions match these filters."
              : "No transactions yet. They appear here after your brokerages sync."}
          </p>
        )}
        {!problem && rows !== null && rows.length > 0 && (
          <>
            <div class="scroll-x">
              <table class="data-table transactions" data-testid="transactions-table">
                <caption class="sr-only">Transactions, newest first</caption>
                <thead>
                  <tr>
                    <th scope="col">Date</th>
                    <th scope="col">Account</th>
                    <th scope="col">Type</th>
                    <th scope="col">Symbol / description</th>
                    <th scope="col" class="num">Quantity</th>
                    <th scope="col" class="num">Price</th>
                    <th scope="col" class="num">Amount</th>
                    <th scope="col" class="num">Fee</th>
                  </tr>
                </thead>
                <tbody>
                  {rows.map((t) => (
                    <TransactionRow key={t.id} t={t} account={label(t.account_id)} />
                  ))}
                </tbody>
              </table>
            </div>
            <div class="list-foot">
              <p class="muted small" data-testid="transactions-count" aria-live="polite">
                {rows.length} transaction{rows.length === 1 ? "" : "s"} shown
                {next ? "; there are more." : "; that is all."}
              </p>
              {next && (
                <button
                  type="button"
                  class="btn btn-secondary"
                  data-testid="transactions-more"
                  disabled={loading}
                  aria-busy={loading}
                  onClick={() =>
                    void load(next)}
                >
                  {loading && <span class="spinner" aria-hidden="true" />}
                  {loading ? "Loading…" : "Show more"}
                </button>
              )}
            </div>
          </>
        )}
      </section>
    </div>
  );
}
