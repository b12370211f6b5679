/**
 * Value history in PostgreSQL (`value_history`, see migration 100): recorded intraday and daily
 * points, reconstructed daily values, thinning, and reads. A row packs one scope's points of one
 * period; a point is idempotent on (scope, kind, time).
 * @module
 */
import type { Sql, TransactionSql } from "postgres";
import { marketClose, monthStart, nyDay, nyHour } from "./market_days.ts";

/** What a point measures: the whole portfolio (`account_id` null) or one account. */
export interface ValuePoint {
  user_id: string;
  account_id: string | null;
  at: Date;
  /** Decimal string in `currency`. */
  value: string;
  currency: string;
}

/** A recorded kind of point. */
export type RecordedKind = "intraday" | "daily";
/** Every kind of point. */
export type PointKind = RecordedKind | "reconstructed";

/** A point as read back. */
export interface StoredPoint {
  at: Date;
  value: string;
  currency: string;
  kind: PointKind;
}

/** Rows written per statement: keeps each statement's parameters well under PostgreSQL's limits. */
const BATCH = 5000;

function periodOf(kind: PointKind, at: Date): string {
  const day = nyDay(at);
  return kind === "intraday" ? day : monthStart(day);
}

/** The row's hour: an intraday point's New York hour while written; -1 for a whole period. */
function hourOf(kind: PointKind, at: Date): number {
  return kind === "intraday" ? nyHour(at) : -1;
}

/**
 * Adds points; a point whose time its row already holds is left as it was (the first value
 * recorded for a time stands). Returns the number of points added. Points for one row are added
 * in the order given (a row's points stay in time order when they are given in time order).
 */
export async function recordPoints(
  sql: Sql,
  kind: RecordedKind,
  points: readonly ValuePoint[],
): Promise<number> {
  // ON CONFLICT may not touch a row twice in one statement: a second point for the same row
  // goes to a later statement, in the order given.
  const rounds: ValuePoint[][] = [];
  const seen: Set<string>[] = [];
  for (const p of points) {
    const key = `${p.account_id ?? p.user_id}|${periodOf(kind, p.at)}|${
      hourOf(kind, p.at)
    }|${p.currency}`;
    let r = seen.findIndex((keys) => !keys.has(key));
    if (r < 0) {
      r = rounds.length;
      rounds.push([]);
      seen.push(new Set());
    }
    rounds[r].push(p);
    seen[r].add(key);
  }
  let added = 0;
  for (const round of rounds) added += await insertRound(sql, kind, round);
  return added;
}

/** Adds points that all go to different rows. */
async function insertRound(sql: Sql, kind: RecordedKind, all: ValuePoint[]): Promise<number> {
  let added = 0;
  for (let i = 0; i < all.length; i += BATCH) {
    const batch = all.slice(i, i + BATCH);
    const result = await sql`
      insert into value_history as h
        (user_id, scope, account_id, kind, period, hour, currency, at, value)
      select u, coalesce(a, u), a, ${kind}, p, hr, c, array[t], array[v]
        from unnest(
          ${batch.map((x) => x.user_id)}::uuid[],
          ${batch.map((x) => x.account_id)}::uuid[],
          ${batch.map((x) => periodOf(kind, x.at))}::date[],
          ${batch.map((x) => hourOf(kind, x.at))}::int2[],
          ${batch.map((x) => x.currency)}::text[],
          ${batch.map((x) => x.at.toISOString())}::timestamptz[],
          ${batch.map((x) => x.value)}::numeric[]
        ) as x(u, a, p, hr, c, t, v)
       -- An account deleted since the value was computed has nothing to record.
       where a is null or exists (select 1 from accounts where id = a and user_id = u)
      on conflict (scope, kind, period, hour, currency) do update
        set (at, value) = (
          -- Appended; a late point (older than the row's last) is sorted in: reads rely on order.
          select case when excluded.at[1] > h.at[cardinality(h.at)] then h.at || excluded.at
                      else array_agg(a order by a) end,
                 case when excluded.at[1] > h.at[cardinality(h.at)] then h.value || excluded.value
                      else array_agg(v order by a) end
            from unnest(h.at || excluded.at, h.value || excluded.value) as u(a, v))
        where not (excluded.at[1] = any (h.at))`;
    added += result.count;
  }
  return added;
}

/** One scope's reconstructed daily values. */
export interface ReconstructedSeries {
  user_id: string;
  account_id: string | null;
  currency: string;
  /** Days (New York) with a value; days left out are days with no value. */
  points: ReadonlyArray<{ day: string; value: string }>;
}

/**
 * Replaces a scope's reconstructed values in the months from `from` to `to` with `series`
 * (each stamped at that day's market close). Run inside the caller's transaction, so a rebuild
 * is seen whole or not at all.
 */
export async function replaceReconstructed(
  tx: TransactionSql,
  series: ReconstructedSeries,
  from: string,
  to: string,
): Promise<void> {
  const scope = series.account_id ?? series.user_id;
  await tx`delete from value_history
            where scope = ${scope} and kind = 'reconstructed'
              and period between ${monthStart(from)} and ${monthStart(to)}`;
  const months = new Map<string, { at: string[]; value: string[] }>();
  for (const p of [...series.points].sort((a, b) => a.day < b.day ? -1 : 1)) {
    const key = monthStart(p.day);
    let m = months.get(key);
    if (!m) months.set(key, m = { at: [], value: [] });
    m.at.push(marketClose(p.day).toISOString());
    m.value.push(p.value);
  }
  const rows = [...months].map(([period, m]) => ({ period, ...m }));
  if (!rows.length) return;
  // Arrays of arrays do not bind as parameters: each month is its own row.
  for (const r of rows) {
    await tx`
      insert into value_history (user_id, scope, account_id, kind, period, currency, at, value)
      values (${series.user_id}, ${scope}, ${series.account_id}, 'reconstructed', ${r.period},
              ${series.currency}, ${r.at}::timestamptz[], ${r.value}::numeric[])`;
  }
}

/**
 * Thins the intraday points of days before `before` (New York) to the last point of each hour,
 * packed in one row per scope and day (hour -1). Returns the rows written. Several instances
 * may run it at once: the last to commit finds nothing left to thin.
 */
export async function thinIntraday(sql: Sql, before: string): Promise<number> {
  return await sql.begin(async (tx) => {
    await tx`
      create temporary table thinned on commit drop as
      select user_id, scope, account_id, period, currency,
             array_agg(a order by a) as at, array_agg(v order by a) as value
        from (
          select distinct on (h.scope, h.period, h.currency, date_trunc('hour', u.a))
                 h.user_id, h.scope, h.account_id, h.period, h.currency, u.a, u.v
            from value_history h, unnest(h.at, h.value) as u(a, v)
           where h.kind = 'intraday' and h.period < ${before}
             and (h.scope, h.period, h.currency) in (
               select scope, period, currency from value_history
                where kind = 'intraday' and period < ${before} and hour >= 0)
           order by h.scope, h.period, h.currency, date_trunc('hour', u.a), u.a desc
        ) last_of_hour
       group by user_id, scope, account_id, period, currency`;
    await tx`
      delete from value_history h using thinned t
       where h.kind = 'intraday' and h.scope = t.scope and h.period = t.period
         and h.currency = t.currency`;
    const result = await tx`
      insert into value_history (user_id, scope, account_id, kind, period, hour, currency, at, value)
      select user_id, scope, account_id, 'intraday', period, -1, currency, at, value from thinned
      on conflict do nothing`;
    return result.count;
  });
}

/** One part of a read: points of `kinds` between `from` and `to` (both included). */
export interface PointsRead {
  kinds: readonly PointKind[];
  from: Date;
  to: Date;
  /**
   * Only the last point of each bucket of this many ms since the epoch (a divisor of an hour,
   * or whole hours); every point without it.
   */
  bucketMs?: number;
}

/**
 * One read's SQL. A row holds its points in time order, so a point is the last of its bucket
 * when the next one in its row is in another (no sorting); with buckets of an hour or more, a
 * row written an hour at a time gives just its last element.
 */
function pointsOf(sql: Sql, scope: string, read: PointsRead) {
  const firstDay = nyDay(read.from), lastDay = nyDay(read.to);
  // Without buckets, each millisecond is one: every point is read.
  const bucket = (read.bucketMs ?? 1) / 1000;
  const hourly = bucket >= 3600;
  const rowsOfRead = sql`
    r.scope = ${scope} and r.kind = any (${read.kinds as PointKind[]}::text[])
    and r.period between (case when r.kind = 'intraday' then ${firstDay}::date
                               else ${monthStart(firstDay)}::date end)
                     and ${lastDay}::date`;
  return sql`
    select r.at[cardinality(r.at)] as at, r.value[cardinality(r.value)]::text as value,
           r.currency, r.kind
      from value_history r
     where ${rowsOfRead} and ${hourly}::bool and r.hour >= 0
       and r.at[cardinality(r.at)] between ${read.from} and ${read.to}
    union all
    select u.a, u.v::text, r.currency, r.kind
      from value_history r, unnest(r.at, r.value) with ordinality as u(a, v, i)
     where ${rowsOfRead} and not (${hourly}::bool and r.hour >= 0)
       and u.a between ${read.from} and ${read.to}
       and (u.i = cardinality(r.at)
            or floor(extract(epoch from r.at[u.i + 1]) / ${bucket}::float8)
               <> floor(extract(epoch from u.a) / ${bucket}::float8))`;
}

/**
 * A scope's points of every read, in one statement, ascending by time. A month drawn hourly
 * reads 720 points, not 8,640.
 */
export async function readPoints(
  sql: Sql,
  scope: string,
  reads: readonly PointsRead[],
): Promise<StoredPoint[]> {
  const parts = reads.map((r) => pointsOf(sql, scope, r));
  const union = parts.reduce((all, part) => sql`${all} union all ${part}`);
  return await sql<StoredPoint[]>`${union} order by at`;
}
