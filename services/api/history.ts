/**
 * The reads behind `GET /api/portfolio/history` and `GET /api/income`: stored points, the
 * scope's transactions and the reconstruction's gaps, put together with the pure modules
 * (portfolio/history/series.ts, portfolio/returns.ts, portfolio/cash_flows.ts).
 * @module
 */
import type { Sql } from "@meridian/runtime";
import { Exact } from "@meridian/portfolio/exact";
import {
  addDays,
  BUCKET_MS,
  drawSeries,
  type HistoryWindow,
  nyDay,
  type PointKind,
  readPoints,
  type StoredPoint,
} from "@meridian/portfolio/history";
import { loadFxHistory } from "@meridian/portfolio/fx_history";
import { FORMULAS, moneyWeightedReturn, timeWeightedReturn } from "@meridian/portfolio/returns";
import {
  type Convert,
  externalFlows,
  incomeByMonth,
  summarise,
  type Transaction,
} from "@meridian/portfolio/cash_flows";
import type { Ledger } from "./transactions_cache.ts";

/** Whose history: the whole portfolio, or one of the user's accounts. */
export type Scope = { kind: "portfolio" } | { kind: "account"; account_id: string; name: string };

/** The account's name if the user owns it, else null (the caller answers 404). */
export async function accountScope(
  sql: Sql,
  userId: string,
  accountId: string,
): Promise<Scope | null> {
  const [row] = await sql<{ name: string }[]>`
    select name from accounts where id = ${accountId} and user_id = ${userId}`;
  return row ? { kind: "account", account_id: accountId, name: row.name } : null;
}

/** Converts into `base` at each day's ECB rate, loading the rates only when first needed. */
function converter(sql: Sql, base: string, from: string, to: string) {
  let fx: Awaited<ReturnType<typeof loadFxHistory>> | null = null;
  return {
    /** Loads the rates if any of `currencies` is not the base. */
    async need(currencies: Iterable<string>): Promise<void> {
      if (fx) return;
      for (const c of currencies) {
        if (c !== base) {
          fx = await loadFxHistory(sql, addDays(from, -7), to);
          return;
        }
      }
    },
    convert:
      ((amount, currency, day) =>
        currency === base ? amount : fx?.convert(amount, currency, base, day) ?? null) as Convert,
  };
}

async function gapsOf(
  sql: Sql,
  userId: string,
  scope: Scope,
  from: string,
  to: string,
): Promise<{ from: string; to: string; reason: string }[]> {
  const accountId = scope.kind === "account" ? scope.account_id : null;
  const rows = await sql<{ from: string; to: string; reason: string; name: string | null }[]>`
    select g->>'from' as from, g->>'to' as to, g->>'reason' as reason, a.name
      from history_backfills b, jsonb_array_elements(b.unexplained) as g
      left join accounts a on a.id = (g->>'account_id')::uuid
     where b.user_id = ${userId}
       and (${accountId}::uuid is null or g->>'account_id' = ${accountId}::text)
       and g->>'to' >= ${from} and g->>'from' <= ${to}
     order by g->>'from'`;
  return rows.map((r) => ({
    from: r.from < from ? from : r.from,
    to: r.to > to ? to : r.to,
    reason: scope.kind === "portfolio" && r.name ? `${r.name}: ${r.reason}` : r.reason,
  }));
}

/** What the history answer is built from. */
export interface HistoryRequest {
  userId: string;
  base: string;
  window: HistoryWindow;
  scope: Scope;
  /** The user's transactions, and what was derived from them already. */
  ledger: Ledger;
}

/** The scope's transactions up to `to`, oldest first. */
function scopeTransactions(ledger: Ledger, scope: Scope, to: string): readonly Transaction[] {
  const accountId = scope.kind === "account" ? scope.account_id : null;
  return ledger.memo(
    `transactions|${accountId}|${to}`,
    () =>
      ledger.transactions.filter((t) =>
        t.trade_date <= to && (accountId === null || t.account_id === accountId)
      ),
  );
}

/** The ECB rates for `base` from the first transaction on, loaded once per ledger. */
function ledgerConverter(sql: Sql, ledger: Ledger, base: string, from: string, to: string) {
  const first = ledger.transactions[0]?.trade_date;
  const start = first && first < from ? first : from;
  return ledger.memo(`fx|${base}|${start}|${to}`, () => converter(sql, base, start, to));
}

/** `GET /api/portfolio/history`'s answer, but for the unrealised P/L (it moves with prices). */
export type HistoryAnswer = Awaited<ReturnType<typeof readHistory>>;

/** `GET /api/portfolio/history`'s answer, but for the unrealised P/L (it moves with prices). */
export async function readHistory(sql: Sql, req: HistoryRequest) {
  const { window, scope, base } = req;
  const scopeId = scope.kind === "account" ? scope.account_id : req.userId;
  const fromDay = nyDay(window.from), toDay = nyDay(window.to);
  const daily: PointKind[] = ["daily", "reconstructed"];
  // A daily range needs only the newest intraday point: the last two days hold it.
  const intradayFrom = window.resolution === "1d"
    ? new Date(Math.max(window.from.getTime(), window.to.getTime() - 2 * 86_400_000))
    : window.from;
  const [stored, gaps] = await Promise.all([
    readPoints(sql, scopeId, [
      { kinds: daily, from: window.from, to: window.to },
      {
        kinds: ["intraday"],
        from: intradayFrom,
        to: window.to,
        bucketMs: BUCKET_MS[window.resolution],
      },
    ]),
    gapsOf(sql, req.userId, scope, fromDay, toDay),
  ]);
  const txns = scopeTransactions(req.ledger, scope, toDay);
  const fx = ledgerConverter(sql, req.ledger, base, fromDay, toDay);
  await fx.need([
    ...new Set([...stored.map((p) => p.currency), ...txns.map((t) => t.currency)]),
  ]);
  const inBase: StoredPoint[] = [];
  for (const p of stored) {
    if (p.currency === base) {
      inBase.push(p);
      continue;
    }
    const value = fx.convert(p.value, p.currency, nyDay(p.at));
    if (value !== null) inBase.push({ ...p, value, currency: base });
  }
  const points = drawSeries(inBase, window);

  const key = `${scope.kind === "account" ? scope.account_id : ""}|${base}|${fromDay}|${toDay}`;
  const { flows } = req.ledger.memo(
    `flows|${key}`,
    () => externalFlows(txns.filter((t) => t.trade_date >= fromDay), fx.convert),
  );
  const first = points[0], last = points.at(-1);
  const twr = timeWeightedReturn(points.map((p) => ({ time: p.time, value: p.value })), flows);
  const mwr = first && last && last !== first
    ? moneyWeightedReturn(first.value, last.value, first.time, last.time, flows)
    : { period: null, annualized: null };
  const summary = req.ledger.memo(
    `summary|${key}`,
    () => summarise(txns, fromDay, toDay, fx.convert),
  );
  return {
    currency: base,
    range: window.range,
    from: window.from.toISOString(),
    to: window.to.toISOString(),
    scope,
    resolution: window.resolution,
    points: points.map((p) => ({
      time: p.time.toISOString(),
      value: p.value,
      reconstructed: p.reconstructed,
    })),
    gaps,
    returns: {
      twr,
      mwr: mwr.period,
      mwr_annualized: mwr.annualized,
      start_value: first?.value ?? null,
      end_value: last?.value ?? null,
      net_contributions: summary.net_contributions,
      income: summary.income,
      fees: summary.fees,
      realized_pl: summary.realized_pl,
    },
    formulas: FORMULAS,
  };
}

/** `GET /api/income`'s answer: dividends and interest by month between `from` and `to`. */
export async function readIncome(
  sql: Sql,
  req: { base: string; scope: Scope; from: string; to: string; ledger: Ledger },
) {
  const txns = scopeTransactions(req.ledger, req.scope, req.to)
    .filter((t) => t.trade_date >= req.from);
  const fx = ledgerConverter(sql, req.ledger, req.base, req.from, req.to);
  await fx.need(new Set(txns.map((t) => t.currency)));
  const income = incomeByMonth(txns, fx.convert);
  return {
    currency: req.base,
    from: req.from,
    to: req.to,
    months: income.months,
    total: income.months.reduce((sum, m) => sum.plus(m.total), new Exact(0)).toFixed(),
    unconverted: [...new Set(income.unconverted.map((u) => u.currency))].sort(),
  };
}
