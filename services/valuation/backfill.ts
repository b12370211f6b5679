/**
 * History reconstruction, the I/O around portfolio/history/reconstruct.ts: when a connection
 * of a user valued here has synced since its last reconstruction (or never had one), rebuild
 * its accounts' daily values back `HISTORY_BACKFILL_DAYS` from their transactions, with the
 * market-data provider's daily closes and the ECB's historical rates, then the portfolio's
 * total from every account's. A rebuild replaces its months whole, in one transaction, so a
 * resync fills gaps and never duplicates. One rebuild at a time per instance.
 * @module
 */
import { multiplier } from "@meridian/portfolio";
import { loadFxHistory } from "@meridian/portfolio/fx_history";
import {
  type AccountSeries,
  addDays,
  nyDay,
  portfolioTotals,
  replaceReconstructed,
  weekdaysBetween,
} from "@meridian/portfolio/history";
import {
  type AccountTransaction,
  type HeldPosition,
  holdingKeys,
  reconstructAccount,
} from "@meridian/portfolio/history/reconstruct";
import type { HistoricalPrices } from "@meridian/prices/market_data";
import { counter, type Logger, type Sql, type TransactionSql } from "@meridian/runtime";

const rebuilds = counter(
  "meridian_valuation_history_rebuilds_total",
  "Connections whose value history was rebuilt from transactions",
  ["outcome"],
);

/** A close may be carried over market holidays: at most this many days back. */
const CARRY_DAYS = 6;
/** A failed rebuild is retried after this long, doubling up to an hour. */
const RETRY_MS = 60_000;
const MAX_RETRY_MS = 3_600_000;
/** Symbols that can be asked of the market-data provider. */
const MARKET_SYMBOL = /^[A-Z0-9][A-Z0-9./]{0,31}$/;

/** What a rebuild needs. */
export interface BackfillDeps {
  sql: Sql;
  log: Logger;
  prices: HistoricalPrices;
  /** Makes sure `fx_rates` holds the ECB's rates from `from` on. */
  ensureFx(from: string): Promise<void>;
  /** Days to rebuild. */
  days: number;
  now?: () => Date;
}

interface Due {
  connection_id: string;
  user_id: string;
  synced_at: Date;
}

/** The connections of `users` that synced since their last rebuild (or never had one). */
async function dueConnections(sql: Sql, users: readonly string[]): Promise<Due[]> {
  if (!users.length) return [];
  return await sql<Due[]>`
    select c.id as connection_id, c.user_id, c.last_synced_at as synced_at
      from connections c
      left join history_backfills b on b.connection_id = c.id
     where c.user_id = any (${users as string[]}::uuid[]) and c.last_synced_at is not null
       and (b.synced_at is null or b.synced_at < c.last_synced_at)
     order by c.last_synced_at`;
}

/** A close lookup over fetched bars that carries the last close across holidays. */
function closeLookup(bars: Map<string, Map<string, string>>) {
  return (symbol: string, day: string): string | null => {
    const closes = bars.get(symbol);
    if (!closes) return null;
    for (let back = 0, d = day; back <= CARRY_DAYS; back++, d = addDays(d, -1)) {
      const c = closes.get(d);
      if (c !== undefined) return c;
    }
    return null;
  };
}

/** Rebuilds one connection's history; returns the accounts rebuilt. */
export async function rebuildConnection(deps: BackfillDeps, due: Due): Promise<number> {
  const { sql } = deps;
  const today = nyDay(deps.now?.() ?? new Date());
  // Up to yesterday: today is the live snapshots' to draw.
  const to = addDays(today, -1), from = addDays(today, -deps.days);
  const days = weekdaysBetween(from, to);
  const [user] = await sql<{ base_currency: string }[]>`
    select base_currency from users where id = ${due.user_id}`;
  const accounts = await sql<{ id: string }[]>`
    select id from accounts where connection_id = ${due.connection_id} and user_id = ${due.user_id}
     order by id`;
  if (!user || !days.length) return 0;
  const base = user.base_currency;
  type Row = Omit<HeldPosition, "multiplier"> & {
    account_id: string;
    option_details: Record<string, unknown> | null;
  };
  const positions = (await sql<Row[]>`
    select p.account_id, p.symbol, i.symbol as market_symbol, p.security_type,
           p.quantity::text as quantity, p.price::text as price, p.currency, p.option_details
      from positions p left join instruments i on i.id = p.instrument_id
     where p.connection_id = ${due.connection_id}`)
    .map(({ option_details, ...p }) => ({
      ...p,
      // The contract multiplier as valuation and the holdings view read it.
      multiplier: multiplier({ security_type: p.security_type, option_details }).toFixed(),
    }));
  const cash = await sql<{ account_id: string; currency: string; amount: string }[]>`
    select b.account_id, b.currency, b.cash::text as amount
      from balances b join accounts a on a.id = b.account_id
     where a.connection_id = ${due.connection_id}`;
  const txns = await sql<(AccountTransaction & { account_id: string })[]>`
    select id, account_id, type, symbol, quantity::text as quantity, price::text as price,
           amount::text as amount, fee::text as fee, currency, trade_date::text as trade_date
      from transactions
     where connection_id = ${due.connection_id} and trade_date > ${from}
     order by trade_date, id`;

  // Every symbol held today or traded since `from`: its daily closes, in one batch.
  const symbols = new Set<string>();
  for (const a of accounts) {
    const held = positions.filter((p) => p.account_id === a.id);
    const keyOf = holdingKeys(held);
    for (const p of held) if (p.market_symbol) symbols.add(p.market_symbol);
    for (const t of txns) {
      if (t.account_id === a.id && t.symbol) symbols.add(keyOf(t.symbol, t.currency));
    }
  }
  const fetchFrom = addDays(from, -CARRY_DAYS);
  const wanted = [...symbols].filter((s) => MARKET_SYMBOL.test(s));
  const bars = wanted.length ? await deps.prices.dailyCloses(wanted, fetchFrom, to) : new Map();
  await deps.ensureFx(fetchFrom);
  const fx = await loadFxHistory(sql, fetchFrom, to);
  const close = closeLookup(bars);
  const convert = (amount: string, currency: string, day: string) =>
    currency === base ? amount : fx.convert(amount, currency, base, day);

  const built = accounts.map((a) => {
    const r = reconstructAccount({
      days,
      positions: positions.filter((p) => p.account_id === a.id),
      cash: cash.filter((c) => c.account_id === a.id),
      transactions: txns.filter((t) => t.account_id === a.id),
      close,
      convert,
    });
    return { account_id: a.id, ...r };
  });

  await sql.begin(async (tx) => {
    for (const b of built) {
      const points = b.days.flatMap((d) =>
        d.value === null ? [] : [{ day: d.day, value: d.value }]
      );
      await replaceReconstructed(
        tx,
        {
          user_id: due.user_id,
          account_id: b.account_id,
          currency: base,
          points,
        },
        from,
        to,
      );
    }
    const unexplained = built.flatMap((b) =>
      b.unexplained.map((u) => ({ account_id: b.account_id, ...u }))
    );
    await tx`
      insert into history_backfills (connection_id, user_id, synced_at, from_day, to_day, unexplained)
      values (${due.connection_id}, ${due.user_id}, ${due.synced_at}, ${from}, ${to},
              ${tx.json(unexplained)})
      on conflict (connection_id) do update
        set synced_at = excluded.synced_at, from_day = excluded.from_day,
            to_day = excluded.to_day, unexplained = excluded.unexplained, built_at = now()`;
    await rebuildTotal(tx, due.user_id, base, from, to);
  });
  return built.length;
}

/**
 * The portfolio's reconstructed total from every account's reconstructed values, once every
 * connection of the user with accounts has been rebuilt (until then a total would leave
 * accounts out).
 */
async function rebuildTotal(
  tx: TransactionSql,
  userId: string,
  base: string,
  from: string,
  to: string,
): Promise<void> {
  const [{ missing }] = await tx<{ missing: number }[]>`
    select count(*)::int as missing from connections c
     where c.user_id = ${userId}
       and exists (select 1 from accounts a where a.connection_id = c.id)
       and not exists (select 1 from history_backfills b where b.connection_id = c.id)`;
  if (missing > 0) return;
  const rows = await tx<{ account_id: string; day: string; value: string }[]>`
    select a.id as account_id, (u.t at time zone 'America/New_York')::date::text as day,
           u.v::text as value
      from accounts a
      left join value_history h
        on h.scope = a.id and h.kind = 'reconstructed' and h.currency = ${base}
       and h.period between date_trunc('month', ${from}::date) and ${to}::date
      left join lateral unnest(h.at, h.value) as u(t, v) on true
     where a.user_id = ${userId}`;
  const series = new Map<string, Map<string, string>>();
  for (const r of rows) {
    let s = series.get(r.account_id);
    if (!s) series.set(r.account_id, s = new Map());
    if (r.day !== null && r.day >= from && r.day <= to) s.set(r.day, r.value);
  }
  const points = portfolioTotals(series as AccountSeries);
  await replaceReconstructed(
    tx,
    { user_id: userId, account_id: null, currency: base, points },
    from,
    to,
  );
}

/** Finds due connections of the users valued here and rebuilds them, one at a time. */
export class HistoryBackfill {
  #queue = new Set<string>();
  /** Per connection that failed: when to try again, and the wait after that. */
  #retry = new Map<string, { at: number; wait: number }>();
  #running: Promise<void> | null = null;
  #stopped = false;

  constructor(
    private readonly deps: BackfillDeps,
    private readonly owns: (userId: string) => boolean,
  ) {}

  /** Looks at `users`' connections soon (a sync changed their holdings, or a reconcile). */
  request(users: Iterable<string>): void {
    for (const u of users) this.#queue.add(u);
    this.#running ??= this.#drain().finally(() => this.#running = null);
  }

  async #drain(): Promise<void> {
    while (this.#queue.size && !this.#stopped) {
      const users = [...this.#queue].filter(this.owns);
      this.#queue.clear();
      const due = await dueConnections(this.deps.sql, users).catch((e) => {
        this.deps.log.warn("finding history to rebuild failed", { error: e });
        return [];
      });
      for (const d of due) {
        if (this.#stopped) return;
        const started = Date.now();
        const retry = this.#retry.get(d.connection_id);
        if (retry && retry.at > started) continue;
        try {
          const accounts = await rebuildConnection(this.deps, d);
          rebuilds.inc({ outcome: "built" });
          this.#retry.delete(d.connection_id);
          this.deps.log.info("value history rebuilt from transactions", {
            connection_id: d.connection_id,
            accounts,
            ms: Date.now() - started,
          });
        } catch (e) {
          rebuilds.inc({ outcome: "failed" });
          const wait = Math.min((retry?.wait ?? RETRY_MS / 2) * 2, MAX_RETRY_MS);
          this.#retry.set(d.connection_id, { at: Date.now() + wait, wait });
          this.deps.log.warn("rebuilding value history failed; it is retried later", {
            connection_id: d.connection_id,
            error: e,
          });
        }
      }
    }
  }

  /** Stops after the rebuild in progress. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#running;
  }
}
