/**
 * The holdings table: sortable columns on wide screens and, under the phone media query in
 * styles.css, one card per holding (symbol, name, value, day change, quantity, accounts) from
 * the same rows. The day change's amount and percentage are shown apart, and its markers are
 * explained under the table, not only in a tooltip; so are the price markers (delayed, stale,
 * brokerage price). Rows sort by their value in the base currency and show a foreign value
 * converted beside it; the exact decimals are in `data-value` / `data-base-value`.
 */
import { Fragment } from "preact";
import { useId, useMemo, useState } from "preact/hooks";
import { Exact } from "@meridian/portfolio/reprice";
import type { AccountPosition, AggregatedPosition, Holdings, Provider } from "./api.ts";
import { type AccountLabel, labelOf } from "./accounts.ts";
import { ProviderBadge } from "./badges.tsx";
import { useFlash } from "./flash.ts";
import { dayChangeParts, formatMoney, formatQuantity, formatSignedMoney, tone } from "./format.ts";
import { type Rates, toBase } from "./live_value.ts";

/** One account's part of a holding. */
export interface Share {
  account_id: string;
  quantity: string;
  value: string | null;
  day_change: string | null;
}

export type Row = {
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
  /** Where its price came from, and whether it is stale (see `pricing.ts`). */
  price_source: "live" | "delayed" | "provider" | null;
  stale: boolean;
  providers: Provider[];
  /** The accounts it is held in; empty where the table is one account's already. */
  shares: Share[];
  /**
   * What a trade from this row is for: the symbol to order and, in one account's table, that
   * account. Absent for what is not traded as shares (cash, options, bonds, funds).
   */
  trade?: { symbol: string; accountId: string | null };
};

/** Whether a holding of this type can be bought or sold from its row. */
export function tradable(type: AggregatedPosition["security_type"]): boolean {
  return type === "equity" || type === "etf" || type === "crypto" || type === "other";
}

/** The user's base currency and the rates into it (`view.base`): sorting and conversion. */
export interface Base {
  currency: string;
  rates: Rates;
}

/** The base currency of a view. */
export const baseOf = (h: Holdings): Base => ({ currency: h.base.currency, rates: h.base.rates });

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

/**
 * Sorted by `key`: amounts compared in the base currency (a CA$100 holding below a US$100 one
 * in USD), exactly; quantities as they are. Unknown amounts (no price, no rate) sort lowest.
 */
export function sortRows(rows: Row[], key: SortKey, dir: 1 | -1, base: Base): Row[] {
  if (key === "symbol") return [...rows].sort((a, b) => a.symbol.localeCompare(b.symbol) * dir);
  const keyed = rows.map((r) => {
    const v = key === "quantity" ? r.quantity : toBase(r[key], r.currency, base.rates);
    return { r, k: v === null ? null : new Exact(v) };
  });
  keyed.sort((a, b) => {
    const c = a.k === null ? (b.k === null ? 0 : -1) : b.k === null ? 1 : a.k.cmp(b.k);
    return c * dir || a.r.symbol.localeCompare(b.r.symbol);
  });
  return keyed.map((x) => x.r);
}

export const aggRow = (p: AggregatedPosition): Row => ({
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
  price_source: p.price_source,
  stale: p.stale,
  providers: p.providers,
  shares: p.accounts,
  ...(tradable(p.security_type) ? { trade: { symbol: p.symbol, accountId: null } } : {}),
});

export const acctRow = (provider: Provider, accountId: string) => (p: AccountPosition): Row => ({
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
  price_source: p.price_source,
  stale: p.stale,
  providers: [provider],
  shares: [],
  ...(tradable(p.security_type)
    ? { trade: { symbol: p.instrument_symbol ?? p.symbol, accountId } }
    : {}),
});

function DayChange({ row: r, noteId }: { row: Row; noteId: string }) {
  const flash = useFlash<HTMLTableCellElement>(r.day_change);
  if (r.day_change === null) {
    return (
      <td class="num muted c-day" data-label="Day change" aria-describedby={noteId}>
        —<span class="sr-only">no previous close reported</span>
      </td>
    );
  }
  const partial = r.day_unknown > 0;
  const parts = dayChangeParts(r.day_change, r.day_change_percent, r.currency);
  return (
    <td
      ref={flash}
      class={`num c-day ${tone(r.day_change)}`}
      data-testid="day-change"
      data-label="Day change"
      aria-describedby={partial ? noteId : undefined}
    >
      <span class="dc-amount">
        {parts.amount}
        {partial && <sup class="dc-mark" aria-hidden="true">*</sup>}
      </span>
      {parts.percent && <span class="dc-percent">{parts.percent}</span>}
      {partial && (
        <span class="sr-only">(of {r.day_of - r.day_unknown} of {r.day_of} accounts)</span>
      )}
    </td>
  );
}

/** The accounts a holding is in, for the phone card (the wide table expands a row instead). */
function AccountsCell({ row, labels }: { row: Row; labels: ReadonlyMap<string, AccountLabel> }) {
  if (row.shares.length === 0) return <td class="c-accounts" />;
  return (
    <td class="c-accounts" data-label="Accounts">
      <ul class="share-list">
        {row.shares.map((s) => (
          <li key={s.account_id}>
            <span>{labelOf(labels, s.account_id)}</span>{" "}
            <span class="muted">{formatQuantity(s.quantity)}</span>
          </li>
        ))}
      </ul>
    </td>
  );
}

/** The row under a holding that lists its accounts, on wide screens. */
function SharesRow(
  { row, labels, id }: { row: Row; labels: ReadonlyMap<string, AccountLabel>; id: string },
) {
  return (
    <tr class="shares" id={id}>
      <td colSpan={COLUMNS.length}>
        <table class="shares-table">
          <caption class="sr-only">Accounts holding {row.symbol}</caption>
          <thead>
            <tr>
              <th scope="col">Account</th>
              <th scope="col" class="num">Quantity</th>
              <th scope="col" class="num">Value</th>
              <th scope="col" class="num">Day change</th>
            </tr>
          </thead>
          <tbody>
            {row.shares.map((s) => (
              <tr key={s.account_id} data-account-id={s.account_id}>
                <th scope="row">{labelOf(labels, s.account_id)}</th>
                <td class="num">{formatQuantity(s.quantity)}</td>
                <td class="num" data-value={s.value ?? undefined}>
                  {formatMoney(s.value, row.currency)}
                </td>
                <td class={`num ${tone(s.day_change)}`}>
                  {s.day_change === null ? "—" : formatSignedMoney(s.day_change, row.currency)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </td>
    </tr>
  );
}

/** The price markers: what each says, for its tooltip, its screen-reader text and the legend. */
const MARKS = {
  delayed: {
    glyph: "D",
    short: "delayed price",
    long: "Delayed: the price was polled or comes from a delayed feed, so it is not real time.",
  },
  stale: {
    glyph: "S",
    short: "stale price",
    long: "Stale: the price is more than 15 minutes old while its market trades.",
  },
  provider: {
    glyph: "B",
    short: "brokerage price",
    long: "Brokerage price: no live price, so the last price the brokerage reported at its sync.",
  },
} as const;
type Mark = keyof typeof MARKS;

/** The markers a row's price earns; none for a live, fresh price. */
export function marksOf(r: Pick<Row, "price_source" | "stale">): Mark[] {
  const out: Mark[] = [];
  if (r.price_source === "delayed" || r.price_source === "provider") out.push(r.price_source);
  if (r.stale) out.push("stale");
  return out;
}

function PriceMarks({ row, legendId }: { row: Row; legendId: string }) {
  const marks = marksOf(row);
  if (!marks.length) return null;
  return (
    <span class="pmarks" aria-describedby={legendId}>
      {marks.map((m) => (
        <span key={m} class={`pm pm-${m}`} title={MARKS[m].long} data-mark={m}>
          <span aria-hidden="true">{MARKS[m].glyph}</span>
          <span class="sr-only">{MARKS[m].short}</span>
        </span>
      ))}
    </span>
  );
}

/**
 * The row's value in its own currency (`data-value`: the exact decimal) and, when that is not
 * the base currency, converted beside it (`data-base-value`); flashes when it moves.
 */
function ValueCell({ row: r, base, legendId }: { row: Row; base: Base; legendId: string }) {
  const flash = useFlash<HTMLTableCellElement>(r.value);
  const converted = r.currency !== base.currency && r.value !== null;
  const inBase = converted ? toBase(r.value, r.currency, base.rates) : null;
  return (
    <td
      ref={flash}
      class="num strong c-value"
      data-label="Value"
      data-value={r.value ?? undefined}
      data-base-value={inBase ?? undefined}
    >
      <span class="v-native">
        {formatMoney(r.value, r.currency)}
        <PriceMarks row={r} legendId={legendId} />
      </span>
      {converted && (
        <span class="v-base muted">
          {inBase === null
            ? `no ${r.currency}→${base.currency} rate`
            : `≈ ${formatMoney(inBase, base.currency)}`}
        </span>
      )}
    </td>
  );
}

function PriceCell({ row: r }: { row: Row }) {
  const flash = useFlash<HTMLTableCellElement>(r.price);
  return (
    <td ref={flash} class="num c-price" data-price={r.price ?? undefined}>
      {formatMoney(r.price, r.currency)}
    </td>
  );
}

/** Under the table: what its price markers mean, only those shown. */
function PriceNote({ rows, id }: { rows: Row[]; id: string }) {
  const shown = new Set(rows.flatMap(marksOf));
  if (!shown.size) return null;
  return (
    <div class="footnote" id={id} data-testid="price-note">
      {(Object.keys(MARKS) as Mark[]).filter((m) => shown.has(m)).map((m) => (
        <p key={m}>
          <span class={`pm pm-${m}`} aria-hidden="true">{MARKS[m].glyph}</span> {MARKS[m].long}
        </p>
      ))}
    </div>
  );
}

/** Under the table: what its day-change markers mean, only when one is shown. */
function DayChangeNote({ rows, id }: { rows: Row[]; id: string }) {
  const partial = rows.some((r) => r.day_change !== null && r.day_unknown > 0);
  const none = rows.some((r) => r.day_change === null);
  if (!partial && !none) return null;
  return (
    <div class="footnote" id={id} data-testid="day-change-note">
      {partial && (
        <p>
          <span aria-hidden="true">*</span>{" "}
          Day change of only some of the accounts holding it: the others' brokerages reported no
          previous close, so they are left out rather than counted as unchanged.
        </p>
      )}
      {none && <p>— No previous close was reported, so the day change is not known.</p>}
    </div>
  );
}

function HeaderCell(
  { col, sort, toggle }: {
    col: (typeof COLUMNS)[number];
    sort: { key: SortKey; dir: 1 | -1 };
    toggle: (key: SortKey) => void;
  },
) {
  const active = col.sortable && sort.key === col.key;
  return (
    <th
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
}

/**
 * A row's Buy and Sell, under its name: no column of their own, so the phone's card and the
 * wide table keep their shape.
 */
function TradeButtons({ row, onTrade }: { row: Row; onTrade: OnTrade }) {
  const t = row.trade;
  if (!t) return null;
  return (
    <span class="row-trade">
      {(["buy", "sell"] as const).map((side) => (
        <button
          key={side}
          type="button"
          class="btn-row"
          data-side={side}
          aria-label={`${side === "buy" ? "Buy" : "Sell"} ${row.symbol}`}
          onClick={() => onTrade(row, side)}
        >
          {side === "buy" ? "Buy" : "Sell"}
        </button>
      ))}
    </span>
  );
}

/** Opens the trade ticket for a row. */
export type OnTrade = (row: Row, side: "buy" | "sell") => void;

export function HoldingsTable(
  { rows, caption, labels, base, onTrade }: {
    rows: Row[];
    caption: string;
    labels: ReadonlyMap<string, AccountLabel>;
    base: Base;
    /** Given when the person has accounts that may trade: each row offers Buy and Sell. */
    onTrade?: OnTrade;
  },
) {
  const [sort, setSort] = useState<{ key: SortKey; dir: 1 | -1 }>({ key: "value", dir: -1 });
  const [open, setOpen] = useState<ReadonlySet<string>>(new Set());
  const sorted = useMemo(() => sortRows(rows, sort.key, sort.dir, base), [rows, sort, base]);
  const uid = useId();
  const noteId = `${uid}-note`;
  const legendId = `${uid}-prices`;
  const toggle = (key: SortKey) =>
    setSort((s) =>
      s.key === key ? { key, dir: s.dir === 1 ? -1 : 1 } : { key, dir: key === "symbol" ? 1 : -1 }
    );
  const expand = (key: string) =>
    setOpen((o) => {
      const next = new Set(o);
      if (!next.delete(key)) next.add(key);
      return next;
    });
  return (
    <>
      <div class="table-wrap" tabIndex={0} role="region" aria-label={caption}>
        <table class="holdings">
          <caption class="sr-only">{caption}</caption>
          <thead>
            <tr>
              {COLUMNS.map((col) => (
                <HeaderCell key={col.key} col={col} sort={sort} toggle={toggle} />
              ))}
            </tr>
          </thead>
          <tbody>
            {sorted.map((r, i) => {
              const isOpen = open.has(r.key);
              const sharesId = `${uid}-shares-${i}`;
              return (
                <Fragment key={r.key}>
                  <tr data-symbol={r.symbol} class={isOpen ? "open" : undefined}>
                    <th scope="row" class="symbol c-symbol">
                      {r.shares.length > 0 && (
                        <button
                          type="button"
                          class="expand"
                          aria-expanded={isOpen}
                          aria-controls={isOpen ? sharesId : undefined}
                          onClick={() => expand(r.key)}
                        >
                          <span aria-hidden="true">{isOpen ? "▾" : "▸"}</span>
                          <span class="sr-only">Accounts holding {r.symbol}</span>
                        </button>
                      )}
                      <span class={r.symbol.length > 10 ? "sym sym-long" : "sym"}>
                        {r.symbol}
                      </span>
                    </th>
                    <td class="name c-name">
                      {r.name ?? "—"}
                      {onTrade && <TradeButtons row={r} onTrade={onTrade} />}
                    </td>
                    <td
                      class="num c-qty"
                      data-testid="quantity"
                      data-label="Quantity"
                      data-quantity={r.quantity}
                    >
                      {formatQuantity(r.quantity)}
                    </td>
                    <PriceCell row={r} />
                    <ValueCell row={r} base={base} legendId={legendId} />
                    <DayChange row={r} noteId={noteId} />
                    <td class="num c-cost">{formatMoney(r.cost_basis, r.currency)}</td>
                    <td class={`num c-pl ${tone(r.unrealized_pl)}`}>
                      {formatSignedMoney(r.unrealized_pl, r.currency)}
                    </td>
                    <td class="c-provider">
                      <span class="badges">
                        {r.providers.map((p) => <ProviderBadge key={p} provider={p} />)}
                      </span>
                    </td>
                    <AccountsCell row={r} labels={labels} />
                  </tr>
                  {isOpen && <SharesRow row={r} labels={labels} id={sharesId} />}
                </Fragment>
              );
            })}
          </tbody>
        </table>
      </div>
      <DayChangeNote rows={rows} id={noteId} />
      <PriceNote rows={rows} id={legendId} />
    </>
  );
}
