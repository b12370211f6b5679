/**
 * Value-history benchmark (issue #13). In this order:
 * - storage: 10,000 users with one account each and a year of daily points (portfolio and
 *   account) in `value_history`, packed a month to a row; the table's, its TOAST's and its
 *   indexes' sizes and the bytes per daily point, beside a row-per-point table holding 1,000 of
 *   those users' points;
 * - snapshot writes: 10,000 users with 3 accounts; one intraday round is 40,000 points
 *   (`writeRound`); 5 rounds at the start of a day, planned by the valuation's planner (the
 *   first inserts the rows, the next append to them), and 5 at the end of a day (the day's 283
 *   points already stored); thinning that day to hourly (`thinIntraday`, once a day's work);
 *   beside, in the same run and database, the naive design: a row per point with one INSERT
 *   per point (10 connections, each waiting for its insert), and a row per point inserted in
 *   batches; the write-ahead log each round makes;
 * - one request's steps, serially: each range's stored-point queries, the drawing of the
 *   series, the whole `readHistory` and the JSON;
 * - reads: one signed-in user with 10 accounts, 20 positions and 300 transactions over the
 *   year, a year of reconstructed daily values, 30 days of recorded closes and 30 days of
 *   intraday points every 5 minutes around the clock (what SNAPSHOT_INTRADAY_S=300 records at
 *   most), for the portfolio and each account; GET /api/portfolio/history on a mix of ranges,
 *   open loop at 200 requests/s for 25 s after 5 s of warm-up, latency from each request's
 *   scheduled send time; the api's and PostgreSQL's CPU meanwhile; then each range alone,
 *   closed loop (4 in flight): the requests/s one api serves;
 * - where the time goes, apart from the measurements: one more write round and 5 s more of the
 *   read load under V8's sampling profiler (in the writing process, in the api process) with
 *   PostgreSQL logging every statement's duration (the steps above log theirs too).
 * The api runs in its own process (this file with `--serve`), the load generator in another
 * (`--reads`). BENCH_HISTORY_USERS, _WRITERS, _RATE and _READ_S size a quick trial.
 *
 *   deno run -A bench/history.ts
 * @module
 */
import { Session } from "node:inspector/promises";
import type { TransactionSql } from "postgres";
import { Hono } from "hono";
import { connect } from "@nats-io/transport-node";
import { connectDb, hashPassword, provisionAll, type Sql } from "@meridian/runtime";
import {
  freePort,
  startNats,
  testCluster,
  testDatabase,
  waitForPort,
} from "@meridian/runtime/testing";
import type { PortfolioValue } from "@meridian/proto";
import { examplePortfolioValue } from "@meridian/proto/fixtures";
import {
  addDays,
  BUCKET_MS,
  drawSeries,
  marketClose,
  monthStart,
  nyDay,
  nyInstant,
  readPoints,
  type RecordedKind,
  recordPoints,
  replaceReconstructed,
  resolveRange,
  thinIntraday,
  type ValuePoint,
  weekdaysBetween,
} from "@meridian/portfolio/history";
import { benchApiApp } from "./lib/api_app.ts";
import { TransactionsCache } from "../services/api/transactions_cache.ts";
import { accountScope, readHistory } from "../services/api/history.ts";
import { hashToken, newToken } from "../services/api/sessions.ts";
import {
  pointsOf,
  SnapshotPlanner,
  type SnapshotRound,
} from "../services/valuation/snapshot_plan.ts";
import { writeRound } from "../services/valuation/snapshots.ts";
import { machine, pct, RawClient, runJson, writeResult } from "./lib/load.ts";
import { procStats } from "./lib/sse.ts";

const self = new URL(import.meta.url).pathname;
const DAY_MS = 86_400_000;
const INTERVAL_MS = 300_000;

const USERS = Number(Deno.env.get("BENCH_HISTORY_USERS") ?? 10_000);
const WRITERS = Number(Deno.env.get("BENCH_HISTORY_WRITERS") ?? 10_000);
const ROUNDS = 5;
const RATE = Number(Deno.env.get("BENCH_HISTORY_RATE") ?? 200);
const READ_S = Number(Deno.env.get("BENCH_HISTORY_READ_S") ?? 25);
const WARMUP_S = 5;
const TARGET_P99_MS = 25;

// ---- small helpers ----

/** A seeded pseudo-random generator (mulberry32): the same data every run. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Integer cents as a decimal string. */
function money(cents: number): string {
  const abs = Math.abs(cents);
  return `${cents < 0 ? "-" : ""}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, "0")}`;
}

function median(xs: number[]): number {
  return pct([...xs].sort((a, b) => a - b), 0.5);
}

const ms = (x: number) => +x.toFixed(2);

async function timed<T>(f: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const out = await f();
  return [out, performance.now() - t0];
}

/**
 * Records points with `recordPoints`, which writes one point per row and statement: each call
 * takes the next point of every (scope, period), oldest first. Returns the points added and
 * the statements' count.
 */
async function recordSpread(
  sql: Sql,
  kind: RecordedKind,
  points: ValuePoint[],
): Promise<{ added: number; calls: number }> {
  const groups = new Map<string, ValuePoint[]>();
  for (const p of points) {
    const day = nyDay(p.at);
    const key = `${p.account_id ?? p.user_id}|${kind === "intraday" ? day : monthStart(day)}`;
    const g = groups.get(key);
    if (g) g.push(p);
    else groups.set(key, [p]);
  }
  const lists = [...groups.values()].map((g) => g.sort((a, b) => a.at.getTime() - b.at.getTime()));
  const longest = Math.max(0, ...lists.map((g) => g.length));
  let added = 0;
  for (let i = 0; i < longest; i++) {
    added += await recordPoints(sql, kind, lists.flatMap((g) => i < g.length ? [g[i]] : []));
  }
  return { added, calls: longest };
}

// ---- the user the reads are for: 10 accounts, 20 positions, 300 transactions ----

const SYMBOLS = [
  "AAPL",
  "MSFT",
  "NVDA",
  "AMZN",
  "GOOGL",
  "META",
  "VTI",
  "VOO",
  "QQQ",
  "SCHD",
  "BND",
  "VXUS",
  "JNJ",
  "KO",
  "PG",
  "XOM",
  "JPM",
  "V",
  "COST",
  "HD",
];

interface ReadUser {
  userId: string;
  accounts: string[];
  cookie: string;
  transactions: number;
  positions: number;
  points: { reconstructed: number; daily: number; intraday: number };
  recordCalls: { daily: number; intraday: number };
}

/** One account's transactions over the year before `today`, and what it holds after them. */
function accountActivity(a: number, today: string, rand: () => number) {
  const symbols = [SYMBOLS[2 * a], SYMBOLS[2 * a + 1]];
  const price = new Map(symbols.map((s) => [s, 5_000 + Math.floor(rand() * 40_000)]));
  const kinds = [
    ...Array(3).fill("contribution"),
    ...Array(12).fill("buy"),
    ...Array(4).fill("sell"),
    ...Array(6).fill("dividend"),
    ...Array(2).fill("interest"),
    ...Array(2).fill("fee"),
  ] as string[];
  for (let i = kinds.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [kinds[i], kinds[j]] = [kinds[j], kinds[i]];
  }
  kinds.unshift("contribution");
  const days = weekdaysBetween(addDays(today, -364), addDays(today, -1));
  const picked = kinds.map(() => days[Math.floor(rand() * days.length)]).sort();
  picked[0] = days[0];
  const held = new Map(symbols.map((s) => [s, 0]));
  let cash = 0;
  const rows = kinds.map((kind, i) => {
    let type = kind, symbol: string | null = null, quantity: string | null = null;
    let unit: string | null = null, amount: number;
    const s = symbols[Math.floor(rand() * 2)];
    const p = price.get(s)! + Math.floor((rand() - 0.45) * 1_000);
    price.set(s, p);
    if (type === "sell" && held.get(s)! === 0) type = "buy";
    switch (type) {
      case "contribution":
        amount = i === 0 ? 2_000_000 : 100_000 + Math.floor(rand() * 400_000);
        break;
      case "buy": {
        const q = 1 + Math.floor(rand() * 20);
        held.set(s, held.get(s)! + q);
        [symbol, quantity, unit, amount] = [s, String(q), money(p), -q * p];
        break;
      }
      case "sell": {
        const q = 1 + Math.floor(rand() * held.get(s)!);
        held.set(s, held.get(s)! - q);
        [symbol, quantity, unit, amount] = [s, String(q), money(p), q * p];
        break;
      }
      case "dividend":
        [symbol, amount] = [s, 500 + Math.floor(rand() * 4_500)];
        break;
      case "interest":
        amount = 100 + Math.floor(rand() * 1_900);
        break;
      default:
        amount = -(100 + Math.floor(rand() * 2_400));
    }
    cash += amount;
    return {
      type,
      symbol,
      quantity,
      price: unit,
      amount: money(amount),
      currency: "USD",
      trade_date: picked[i],
    };
  });
  return { rows, held, price, cash };
}

/** An account's value in cents at `t`: a slow swing and an intraday wiggle around its base. */
function accountCents(a: number, t: number): number {
  const base = 2_000_000 + a * 1_750_000;
  return base + Math.round(base * 0.08 * Math.sin(t / (9 * DAY_MS) + a)) +
    Math.round(base * 0.005 * Math.sin(t / (5 * 3_600_000) + 2 * a));
}

async function seedReadUser(sql: Sql, now: Date): Promise<ReadUser> {
  const rand = random(13);
  const today = nyDay(now);
  const synced = new Date(now.getTime() - 2 * 3_600_000);
  const [user] = await sql<{ id: string }[]>`
    insert into users (email, password_hash)
    values ('history@example.com', ${await hashPassword("bench-password-0")}) returning id`;
  const userId = user.id;
  const providers = ["snaptrade", "snaptrade", "plaid", "plaid", "alpaca"];
  const accounts: string[] = [];
  let transactions = 0, positions = 0;
  for (const [c, provider] of providers.entries()) {
    const secret = provider === "snaptrade" ? null : new Uint8Array([1, 2, 3]);
    const [conn] = await sql<{ id: string }[]>`
      insert into connections (user_id, provider, external_id, access, institution,
                               last_synced_at, secret_key_id, secret_ciphertext)
      values (${userId}, ${provider}, ${`history-${c}`}, ${provider === "plaid" ? "read" : "trade"},
              ${`Bench ${provider} ${c}`}, ${synced}, ${secret ? "k1" : null}, ${secret})
      returning id`;
    for (let k = 0; k < 2; k++) {
      const a = accounts.length;
      const [acct] = await sql<{ id: string }[]>`
        insert into accounts (user_id, connection_id, provider, external_id, name, number_mask,
                              type, currency, can_trade, synced_at)
        values (${userId}, ${conn.id}, ${provider}, ${`history-${c}-${k}`},
                ${k === 0 ? `Individual ${c + 1}` : `IRA ${c + 1}`}, ${String(1000 + a)},
                ${k === 0 ? "brokerage" : "retirement"}, 'USD', ${provider !== "plaid"}, ${synced})
        returning id`;
      accounts.push(acct.id);
      const act = accountActivity(a, today, rand);
      const txRows = act.rows.map((r, i) => ({
        user_id: userId,
        account_id: acct.id,
        connection_id: conn.id,
        provider,
        external_id: `history-tx-${a}-${i}`,
        ...r,
      }));
      await sql`insert into transactions ${sql(txRows)}`;
      transactions += txRows.length;
      const posRows = [...act.held].map(([symbol, q]) => ({
        user_id: userId,
        account_id: acct.id,
        connection_id: conn.id,
        provider,
        symbol,
        name: `${symbol} Inc.`,
        security_type: "equity",
        quantity: String(q),
        price: money(act.price.get(symbol)!),
        previous_close: money(act.price.get(symbol)! - 25),
        cost_basis: money(q * (act.price.get(symbol)! - 900)),
        currency: "USD",
        synced_at: synced,
      }));
      await sql`insert into positions ${sql(posRows)}`;
      positions += posRows.length;
      await sql`insert into balances (account_id, user_id, currency, cash, buying_power, synced_at)
                values (${acct.id}, ${userId}, 'USD', ${money(Math.max(0, act.cash))},
                        ${money(Math.max(0, act.cash))}, ${synced})`;
    }
    // The reconstruction's record; the first connection with a gap it could not explain.
    const gaps = c === 0
      ? [{
        account_id: accounts[0],
        from: addDays(today, -200),
        to: addDays(today, -190),
        reason: "A transfer in of 10 VTI without a price.",
      }]
      : [];
    await sql`insert into history_backfills (connection_id, user_id, synced_at, from_day, to_day,
                                             unexplained)
              values (${conn.id}, ${userId}, ${synced}, ${addDays(today, -365)}, ${today},
                      ${sql.json(gaps)})`;
  }

  // Values: each account's, and the portfolio's as their exact sum.
  const scopes: Array<string | null> = [null, ...accounts];
  const valueAt = (scope: number, t: number) =>
    scope === 0
      ? accounts.reduce((sum, _, a) => sum + accountCents(a, t), 0)
      : accountCents(scope - 1, t);
  const pointsAt = (at: Date): ValuePoint[] =>
    scopes.map((account_id, s) => ({
      user_id: userId,
      account_id,
      at,
      value: money(valueAt(s, at.getTime())),
      currency: "USD",
    }));

  // A year of reconstructed weekdays, rebuilt whole in one transaction as the backfill does.
  const from = addDays(today, -365), to = addDays(today, -1);
  const days = weekdaysBetween(from, to);
  await sql.begin(async (tx: TransactionSql) => {
    for (const [s, account_id] of scopes.entries()) {
      await replaceReconstructed(
        tx,
        {
          user_id: userId,
          account_id,
          currency: "USD",
          points: days.map((day) => ({
            day,
            value: money(valueAt(s, marketClose(day).getTime())),
          })),
        },
        from,
        to,
      );
    }
  });
  // Recorded closes of the last 30 days.
  const closes = weekdaysBetween(addDays(today, -30), today)
    .map(marketClose)
    .filter((t) => t <= now)
    .flatMap(pointsAt);
  const daily = await recordSpread(sql, "daily", closes);
  // 30 days of intraday points every 5 minutes, around the clock.
  const intradayPoints: ValuePoint[] = [];
  const last = Math.floor(now.getTime() / INTERVAL_MS) * INTERVAL_MS;
  for (let t = last - 30 * DAY_MS; t <= last; t += INTERVAL_MS) {
    intradayPoints.push(...pointsAt(new Date(t)));
  }
  const intraday = await recordSpread(sql, "intraday", intradayPoints);

  const token = newToken();
  await sql`insert into sessions (token_hash, user_id, expires_at)
            values (${await hashToken(token)}, ${userId}, now() + interval '1 day')`;
  return {
    userId,
    accounts,
    cookie: `meridian_session=${token}`,
    transactions,
    positions,
    points: {
      reconstructed: days.length * scopes.length,
      daily: daily.added,
      intraday: intraday.added,
    },
    recordCalls: { daily: daily.calls, intraday: intraday.calls },
  };
}

// ---- users in bulk ----

/** Inserts `n` users with one connection of `accounts` accounts each; their ids by user. */
async function bulkUsers(
  sql: Sql,
  prefix: string,
  n: number,
  accounts: number,
): Promise<Array<{ user_id: string; accounts: string[] }>> {
  const hash = await hashPassword("bench-password-0");
  const rows = await sql<{ user_id: string; accounts: string[] }[]>`
    with u as (
      insert into users (email, password_hash)
      select ${prefix}::text || g || '@example.com', ${hash} from generate_series(1, ${n}) g
      returning id
    ), c as (
      insert into connections (user_id, provider, external_id, institution, last_synced_at)
      select id, 'snaptrade', ${prefix}::text || id::text, 'Bench Brokerage', now() from u
      returning id, user_id
    ), a as (
      insert into accounts (user_id, connection_id, provider, external_id, name, type, currency,
                            synced_at)
      select c.user_id, c.id, 'snaptrade', 'acct-' || k, 'Account ' || k, 'brokerage', 'USD', now()
        from c, generate_series(1, ${accounts}) k
      returning id, user_id
    )
    select user_id, array_agg(id::text order by id) as accounts from a group by user_id
     order by user_id`;
  return rows;
}

/**
 * A year of daily closes (weekdays, `from`..`to`) for `users`' portfolios and accounts,
 * packed a month to a row as recordPoints leaves them.
 */
async function bulkDaily(sql: Sql, users: string[], from: string, to: string): Promise<void> {
  for (let i = 0; i < users.length; i += 1_000) {
    await sql`
      insert into value_history (user_id, scope, account_id, kind, period, currency, at, value)
      select s.user_id, s.scope, s.account_id, 'daily', date_trunc('month', d)::date, 'USD',
             array_agg((d::date + time '16:00') at time zone 'America/New_York' order by d),
             array_agg(round((20000 + random() * 180000)::numeric, 2) order by d)
        from (select distinct user_id, user_id as scope, null::uuid as account_id
                from accounts where user_id = any (${users.slice(i, i + 1_000)}::uuid[])
              union all
              select user_id, id, id
                from accounts where user_id = any (${users.slice(i, i + 1_000)}::uuid[])) s,
             generate_series(${from}::timestamp, ${to}::timestamp, interval '1 day') d
       where extract(isodow from d) < 6
       group by s.user_id, s.scope, s.account_id, date_trunc('month', d)`;
  }
}

async function tableSizes(sql: Sql, table: string) {
  const [r] = await sql<
    { total: string; heap: string; toast: string; indexes: string; rows: string }[]
  >`
    select pg_total_relation_size(c.oid)::text as total,
           pg_relation_size(c.oid)::text as heap,
           coalesce(pg_total_relation_size(nullif(c.reltoastrelid, 0)), 0)::text as toast,
           pg_indexes_size(c.oid)::text as indexes,
           (select count(*) from ${sql(table)})::text as rows
      from pg_class c where c.oid = ${table}::regclass`;
  const idx = await sql<{ name: string; bytes: string }[]>`
    select i.relname as name, pg_relation_size(i.oid)::text as bytes
      from pg_index x join pg_class i on i.oid = x.indexrelid
     where x.indrelid = ${table}::regclass order by i.relname`;
  return {
    rows: Number(r.rows),
    total_bytes: Number(r.total),
    heap_bytes: Number(r.heap),
    toast_bytes: Number(r.toast),
    indexes_bytes: Number(r.indexes),
    index_bytes: Object.fromEntries(idx.map((x) => [x.name, Number(x.bytes)])),
  };
}

// ---- snapshot writes ----

interface WriteFigures {
  rounds_ms: number[];
  median_ms: number;
  max_ms: number;
  points_per_round: number;
  points_per_s: number;
  /** Write-ahead log PostgreSQL wrote per round: what a round really writes, dead rows included. */
  wal_mb_per_round_median: number;
}

interface Round {
  ms: number;
  wal: number;
}

/** Runs one write round: its time and the WAL bytes it made. */
async function writeTimed(sql: Sql, f: () => Promise<unknown>): Promise<Round> {
  const [{ lsn }] = await sql<{ lsn: string }[]>`select pg_current_wal_lsn()::text as lsn`;
  const [, t] = await timed(f);
  const [{ wal }] = await sql<{ wal: string }[]>`
    select pg_wal_lsn_diff(pg_current_wal_lsn(), ${lsn}::pg_lsn)::text as wal`;
  return { ms: t, wal: Number(wal) };
}

function writeFigures(rounds: Round[], points: number): WriteFigures {
  const med = median(rounds.map((r) => r.ms));
  return {
    rounds_ms: rounds.map((r) => ms(r.ms)),
    median_ms: ms(med),
    max_ms: ms(Math.max(...rounds.map((r) => r.ms))),
    points_per_round: points,
    points_per_s: Math.round(points / (med / 1000)),
    wal_mb_per_round_median: +(median(rounds.map((r) => r.wal)) / 1048576).toFixed(1),
  };
}

function writerValue(
  w: { user_id: string; accounts: string[] },
  i: number,
  round: number,
): PortfolioValue {
  const cents = w.accounts.map((_, a) => 1_000_000 + i * 37 + a * 250_000 + round * (7 + a));
  const total = money(cents.reduce((s, c) => s + c, 0));
  return {
    ...examplePortfolioValue(w.user_id, round, total),
    accounts: w.accounts.map((account_id, a) => ({
      account_id,
      value: money(cents[a]),
      native: [{ currency: "USD", value: money(cents[a]) }],
      day_change: "0",
    })),
  };
}

const NAIVE_TABLE = `
  create table naive_value_points (
    user_id uuid not null references users (id) on delete cascade,
    scope uuid not null,
    account_id uuid,
    kind text not null check (kind in ('intraday', 'daily', 'reconstructed')),
    at timestamptz not null,
    value numeric not null,
    currency text not null check (currency ~ '^[A-Z]{3}$'),
    primary key (scope, kind, at)
  );
  create index naive_value_points_user on naive_value_points (user_id);`;

/** The naive design's write: one INSERT per point, `workers` connections each awaiting its own. */
async function naivePerPoint(sql: Sql, points: ValuePoint[], workers: number): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: workers }, async () => {
    while (next < points.length) {
      const p = points[next++];
      await sql`
        insert into naive_value_points (user_id, scope, account_id, kind, at, value, currency)
        values (${p.user_id}, ${p.account_id ?? p.user_id}, ${p.account_id}, 'intraday', ${p.at},
                ${p.value}, ${p.currency})
        on conflict do nothing`;
    }
  }));
}

/** A row per point, inserted 5,000 to a statement. */
async function naiveBatched(sql: Sql, points: ValuePoint[]): Promise<void> {
  for (let i = 0; i < points.length; i += 5_000) {
    const b = points.slice(i, i + 5_000);
    await sql`
      insert into naive_value_points (user_id, scope, account_id, kind, at, value, currency)
      select u, coalesce(a, u), a, 'intraday', t, v, c
        from unnest(${b.map((x) => x.user_id)}::uuid[], ${b.map((x) => x.account_id)}::uuid[],
                    ${b.map((x) => x.at.toISOString())}::timestamptz[],
                    ${b.map((x) => x.value)}::numeric[], ${b.map((x) => x.currency)}::text[])
             as x(u, a, t, v, c)
      on conflict do nothing`;
  }
}

async function benchWrites(sql: Sql, url: string, today: string) {
  const writers = await bulkUsers(sql, "writer", WRITERS, 3);
  const ids = writers.map((w) => w.user_id);

  // Start of a day: the planner's rounds at 00:00, 00:05, … (before the close: intraday only).
  const startDay = addDays(today, -3);
  const planner = new SnapshotPlanner();
  const planMs: number[] = [];
  const start: Round[] = [];
  const planned: SnapshotRound[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const values = writers.map((w, i) => writerValue(w, i, r + 1));
    const t0 = performance.now();
    const round = planner.plan(values, nyInstant(startDay, 0, 5 * r));
    planMs.push(performance.now() - t0);
    if (round.intraday.length !== WRITERS * 4 || round.daily.length) {
      throw new Error(`unexpected round: ${round.intraday.length} + ${round.daily.length}`);
    }
    start.push(await writeTimed(sql, () => writeRound(sql, round)));
    planner.committed(round);
    planned.push(round);
  }

  // End of a day: the day's points 00:00…23:30 (283) are stored as recordPoints leaves them,
  // a row per New York hour; rounds at 23:35…23:55.
  const endDay = addDays(today, -2);
  for (let i = 0; i < ids.length; i += 2_500) {
    const chunk = ids.slice(i, i + 2_500);
    await sql`
      insert into value_history (user_id, scope, account_id, kind, period, hour, currency, at,
                                 value)
      select s.user_id, s.scope, s.account_id, 'intraday', ${endDay}::date,
             extract(hour from t at time zone 'America/New_York')::int2, 'USD',
             array_agg(t order by t),
             array_agg(round((20000 + random() * 180000)::numeric, 2) order by t)
        from (select distinct user_id, user_id as scope, null::uuid as account_id
                from accounts where user_id = any (${chunk}::uuid[])
              union all
              select user_id, id, id from accounts where user_id = any (${chunk}::uuid[])) s,
             generate_series(${nyInstant(endDay, 0)}::timestamptz,
                             ${nyInstant(endDay, 23, 30)}::timestamptz, interval '5 minutes') t
       group by s.user_id, s.scope, s.account_id,
                extract(hour from t at time zone 'America/New_York')`;
  }
  await sql`vacuum analyze value_history`;
  const end: Round[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const at = nyInstant(endDay, 23, 35 + 5 * r);
    const round: SnapshotRound = {
      at,
      intraday: writers.flatMap((w, i) => pointsOf(writerValue(w, i, 100 + r), at)!),
      daily: [],
      recorded: new Map(),
    };
    end.push(await writeTimed(sql, () => writeRound(sql, round)));
  }
  // One more end-of-day round (23:57), profiled: this process's CPU and the
  // statements PostgreSQL logs on a connection of its own (not the measurement above).
  const files = await clusterFiles();
  const reserved = await sql.reserve();
  await reserved`set log_min_duration_statement = 0`;
  await reserved`set log_parameter_max_length = 0`;
  const extraAt = nyInstant(endDay, 23, 57);
  const extra: SnapshotRound = {
    at: extraAt,
    intraday: writers.flatMap((w, i) => pointsOf(writerValue(w, i, 200), extraAt)!),
    daily: [],
    recorded: new Map(),
  };
  const offset = (await Deno.stat(files.log)).size;
  const profiler = new CpuProfiler();
  await profiler.start();
  const [, extraMs] = await timed(() => writeRound(reserved, extra));
  const js = await profiler.stop(12);
  reserved.release();
  const profiledRound = {
    ms: ms(extraMs),
    js_profile: js,
    postgres_statements: loggedStatements(files.log, offset, 6),
  };

  const [endRows] = await sql<{ points: number; bytes: number; rows: number }[]>`
    select sum(cardinality(at))::int as points, sum(pg_column_size(h.*))::int as bytes,
           count(*)::int as rows
      from value_history h where kind = 'intraday' and period = ${endDay}
       and user_id = any (${ids}::uuid[])`;

  // Thinning: the start-of-day day first (not measured), then the end-of-day day.
  await thinIntraday(sql, endDay);
  const thin = await writeTimed(sql, () => thinIntraday(sql, addDays(endDay, 1)));

  // The naive design, same points and times as the start-of-day rounds.
  const pool = connectDb(url, { max: 10, name: "naive" });
  const perPoint: Round[] = [];
  for (const round of planned) {
    perPoint.push(await writeTimed(sql, () => naivePerPoint(pool, round.intraday, 10)));
  }
  await pool.end();
  await sql`delete from naive_value_points where kind = 'intraday'`;
  await sql`vacuum analyze naive_value_points`;
  const batched: Round[] = [];
  for (const round of planned) {
    batched.push(await writeTimed(sql, () => naiveBatched(sql, round.intraday)));
  }

  const points = WRITERS * 4;
  return {
    users: WRITERS,
    accounts_per_user: 3,
    plan_ms_median: ms(median(planMs)),
    packed_start_of_day: writeFigures(start, points),
    packed_end_of_day: {
      ...writeFigures(end, points),
      intraday_row_bytes_per_point: +(endRows.bytes / endRows.points).toFixed(1),
      rows: endRows.rows,
    },
    thin_a_day: {
      scopes: WRITERS * 4,
      points_before: endRows.points,
      ms: ms(thin.ms),
      wal_mb: +(thin.wal / 1048576).toFixed(1),
    },
    naive_insert_per_point: writeFigures(perPoint, points),
    naive_rows_batched: writeFigures(batched, points),
    profiled_end_of_day_round: profiledRound,
  };
}

// ---- one request's steps, serially ----

const MIX = ["1Y", "1M", "1D", "1W", "1Y&account"] as const;

function mixPath(name: string, accountId: string): string {
  return name === "1Y&account"
    ? `/api/portfolio/history?range=1Y&account_id=${accountId}`
    : `/api/portfolio/history?range=${name}`;
}

/**
 * Each range's request, one at a time, 40 times after 5 to warm up: the stored-point queries
 * and the drawing on their own (on `quiet`, a connection whose statements are not logged), the
 * New York day of every stored point (what the answer's conversion computes per point), the
 * whole `readHistory` on `logged` (a pool whose statements PostgreSQL logs: their time in the
 * database per request) and its JSON. Medians.
 */
async function requestSteps(quiet: Sql, logged: Sql, user: ReadUser, log: string) {
  const out: Record<string, unknown> = {};
  for (const name of MIX) {
    const range = name.replace("&account", "");
    const accountId = name.endsWith("account") ? user.accounts[0] : null;
    const scope = accountId
      ? (await accountScope(quiet, user.userId, accountId))!
      : { kind: "portfolio" as const };
    const scopeId = accountId ?? user.userId;
    const t = {
      daily_query: [] as number[],
      intraday_query: [] as number[],
      ny_day_of_each_point: [] as number[],
      draw_series: [] as number[],
      read_history: [] as number[],
      json: [] as number[],
    };
    let rows = { daily: 0, intraday: 0, drawn: 0, bytes: 0 };
    let offset = 0;
    const runs = 40;
    for (let i = 0; i < runs + 5; i++) {
      if (i === 5) offset = (await Deno.stat(log)).size;
      const window = resolveRange(range, new Date());
      if ("error" in window) throw new Error(window.error);
      const intradayFrom = window.resolution === "1d"
        ? new Date(Math.max(window.from.getTime(), window.to.getTime() - 2 * DAY_MS))
        : window.from;
      const [closes, dq] = await timed(() =>
        readPoints(quiet, scopeId, [{
          kinds: ["daily", "reconstructed"],
          from: window.from,
          to: window.to,
        }])
      );
      const [intraday, iq] = await timed(() =>
        readPoints(quiet, scopeId, [{
          kinds: ["intraday"],
          from: intradayFrom,
          to: window.to,
          bucketMs: BUCKET_MS[window.resolution],
        }])
      );
      const stored = [...closes, ...intraday];
      const n0 = performance.now();
      for (const p of stored) nyDay(p.at);
      const days = performance.now() - n0;
      const d0 = performance.now();
      const drawn = drawSeries(stored, window);
      const draw = performance.now() - d0;
      const [answer, rh] = await timed(async () =>
        // A new ledger each time: the cold path, transactions read and summarised again.
        readHistory(logged, {
          userId: user.userId,
          base: "USD",
          window,
          scope,
          ledger: await new TransactionsCache(logged).get(user.userId, "cold"),
        })
      );
      const j0 = performance.now();
      const body = JSON.stringify(answer);
      const json = performance.now() - j0;
      if (i < 5) continue;
      t.daily_query.push(dq);
      t.intraday_query.push(iq);
      t.ny_day_of_each_point.push(days);
      t.draw_series.push(draw);
      t.read_history.push(rh);
      t.json.push(json);
      rows = {
        daily: closes.length,
        intraday: intraday.length,
        drawn: drawn.length,
        bytes: body.length,
      };
    }
    const statements = loggedStatements(log, offset, 5);
    out[name] = {
      ...Object.fromEntries(Object.entries(t).map(([k, v]) => [`${k}_ms`, ms(median(v))])),
      daily_rows: rows.daily,
      intraday_rows: rows.intraday,
      points_drawn: rows.drawn,
      body_bytes: rows.bytes,
      read_history_postgres_ms_per_request: ms(statements.statements_ms / runs),
      read_history_statements: statements.top.map((s) => ({
        sql: s.sql.slice(0, 60),
        ms_per_request: ms(s.total_ms / runs),
        mean_ms: s.mean_ms,
      })),
    };
  }
  return out;
}

// ---- CPU from /proc ----

/** CPU seconds of the postmaster `pid`, its live children and its reaped children. */
function pgCpu(pid: number): number {
  const stat = (p: number | string) => {
    const s = Deno.readTextFileSync(`/proc/${p}/stat`);
    return s.slice(s.lastIndexOf(")") + 2).split(" ");
  };
  const own = stat(pid);
  // utime, stime, cutime, cstime
  let ticks = Number(own[11]) + Number(own[12]) + Number(own[13]) + Number(own[14]);
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const f = stat(e.name);
      if (Number(f[1]) === pid) ticks += Number(f[11]) + Number(f[12]);
    } catch {
      // exited meanwhile
    }
  }
  return ticks / 100;
}

/** The machine's busy and total CPU ticks so far. */
function machineTicks(): { busy: number; total: number } {
  const f = Deno.readTextFileSync("/proc/stat").split("\n")[0].trim().split(/\s+/).slice(1)
    .map(Number);
  const total = f.slice(0, 8).reduce((s, x) => s + x, 0);
  return { busy: total - f[3] - f[4], total };
}

// ---- where the time goes: V8's sampling profiler in-process, PostgreSQL's statement log ----

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

const REPO = new URL("../", import.meta.url).href;

function inRepo(f: ProfileNode["callFrame"]): boolean {
  return f.url.startsWith(REPO) && !f.url.includes("/node_modules/");
}

/** A function's place: its name and file (the repository's path, or the npm package's). */
function frameKey(f: ProfileNode["callFrame"]): string {
  if (!f.url) return f.functionName || "(anonymous)";
  const npm = /node_modules\/(?:\.deno\/[^/]+\/node_modules\/)?(.*)$/.exec(f.url);
  const where = npm ? npm[1] : f.url.startsWith(REPO) ? f.url.slice(REPO.length) : f.url;
  return `${f.functionName || "(anonymous)"} ${where}:${f.lineNumber + 1}`;
}

/** Where a sample with no code of ours on its stack was: V8's own work, a package, Deno. */
function outside(f: ProfileNode["callFrame"]): string {
  if (!f.url) return f.functionName.startsWith("(") ? f.functionName : `(native) ${f.functionName}`;
  const npm = /node_modules\/(?:\.deno\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/.exec(f.url);
  return `(outside our code) ${npm ? npm[1] : "Deno's runtime"}`;
}

/**
 * Self and inclusive time per function of a CPU profile, the largest first; and time by
 * repository call site: the innermost function of this repository on the stack with its
 * caller here, so time spent in a library (a time-zone lookup, decimal arithmetic) is charged
 * to the line of ours that asked for it.
 */
function summariseProfile(
  p: { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] },
  top: number,
) {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>(), total = new Map<string, number>();
  const site = new Map<string, number>();
  const add = (m: Map<string, number>, k: string, dt: number) => m.set(k, (m.get(k) ?? 0) + dt);
  let sampled = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const dt = (p.timeDeltas[i + 1] ?? 0) / 1000;
    sampled += dt;
    const node = byId.get(p.samples[i])!;
    add(self, frameKey(node.callFrame), dt);
    const seen = new Set<string>();
    const ours: string[] = [];
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const frame = byId.get(id)!.callFrame;
      const key = frameKey(frame);
      if (ours.length < 2 && inRepo(frame) && ours.at(-1) !== key) ours.push(key);
      if (seen.has(key)) continue;
      seen.add(key);
      add(total, key, dt);
    }
    add(site, ours.length ? ours.join(" ← ") : outside(node.callFrame), dt);
  }
  const idle = (self.get("(idle)") ?? 0) + (self.get("(program)") ?? 0);
  const list = (m: Map<string, number>) =>
    [...m].filter(([k]) => !["(root)", "(idle)", "(program)"].includes(k))
      .sort((a, b) => b[1] - a[1]).slice(0, top)
      .map(([fn, t]) => ({
        fn,
        ms: Math.round(t),
        percent_of_busy: +((t / (sampled - idle)) * 100).toFixed(1),
      }));
  return {
    sampled_ms: Math.round(sampled),
    busy_ms: Math.round(sampled - idle),
    by_repository_call_site: list(site),
    self: list(self),
    inclusive: list(total),
  };
}

/** V8's sampling profiler on this process. */
class CpuProfiler {
  readonly #session = new Session();

  async start(): Promise<void> {
    this.#session.connect();
    await this.#session.post("Profiler.enable");
    await this.#session.post("Profiler.setSamplingInterval", { interval: 250 });
    await this.#session.post("Profiler.start");
  }

  async stop(top = 25) {
    const { profile } = await this.#session.post("Profiler.stop");
    this.#session.disconnect();
    return summariseProfile(profile as Parameters<typeof summariseProfile>[0], top);
  }
}

/** The test cluster's log and postmaster. */
async function clusterFiles() {
  const dir = (await testCluster()).dir;
  return {
    log: `${dir}/pg.log`,
    postmaster: Number(Deno.readTextFileSync(`${dir}/data/postmaster.pid`).split("\n")[0]),
  };
}

/**
 * The statements PostgreSQL logged (log_min_duration_statement = 0) in `log` after byte
 * `offset`: parse + bind + execute time per statement text, the largest total first.
 */
function loggedStatements(log: string, offset: number, top: number) {
  const bytes = Deno.readFileSync(log).subarray(offset);
  const lines = new TextDecoder().decode(bytes).split("\n");
  const by = new Map<string, { ms: number; executions: number }>();
  for (let i = 0; i < lines.length; i++) {
    const m = /LOG:\s+duration: ([\d.]+) ms\s+(parse|bind|execute) [^:]*: (.*)$/.exec(lines[i]);
    if (!m) continue;
    let text = m[3];
    while (i + 1 < lines.length && lines[i + 1].startsWith("\t")) text += " " + lines[++i];
    const key = text.replace(/\s+/g, " ").trim().slice(0, 140);
    const s = by.get(key) ?? { ms: 0, executions: 0 };
    s.ms += Number(m[1]);
    if (m[2] === "execute") s.executions++;
    by.set(key, s);
  }
  const all = [...by].sort((a, b) => b[1].ms - a[1].ms);
  return {
    statements_ms: Math.round(all.reduce((s, [, v]) => s + v.ms, 0)),
    top: all.slice(0, top).map(([sql, v]) => ({
      sql,
      executions: v.executions,
      total_ms: Math.round(v.ms),
      mean_ms: +(v.ms / Math.max(1, v.executions)).toFixed(3),
    })),
  };
}

// ---- the load generator (own process) ----

interface MixResult {
  requests: number;
  ok: number;
  errors: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
}

function summarise(lat: number[], errors: number): MixResult {
  const sorted = [...lat].sort((a, b) => a - b);
  return {
    requests: lat.length,
    ok: lat.length - errors,
    errors,
    p50_ms: ms(pct(sorted, 0.5)),
    p99_ms: ms(pct(sorted, 0.99)),
    max_ms: ms(sorted[sorted.length - 1]),
  };
}

async function reads(
  base: string,
  cookie: string,
  paths: string[],
  serverPid: number,
  pgPid: number,
  seconds: number,
  warmup: number,
  capacity: boolean,
) {
  const u = new URL(base);
  const headers = `Cookie: ${cookie}\r\n`;
  const pool: RawClient[] = [];
  const run = async (n: number) => {
    const lat = paths.map(() => [] as number[]);
    const errors = paths.map(() => 0);
    const statuses: Record<string, number> = {};
    let lag = 0;
    const inflight: Promise<void>[] = [];
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      const scheduled = t0 + (i * 1000) / RATE;
      const wait = scheduled - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      lag = Math.max(lag, performance.now() - scheduled);
      const k = i % paths.length;
      inflight.push((async () => {
        const client = pool.pop() ?? new RawClient(u.hostname, Number(u.port));
        let status = 0;
        try {
          status = await client.get(paths[k], headers);
          pool.push(client);
        } catch {
          // a failure; the connection is dropped
        }
        lat[k].push(performance.now() - scheduled);
        if (status !== 200) {
          errors[k]++;
          statuses[status] = (statuses[status] ?? 0) + 1;
        }
      })());
    }
    await Promise.all(inflight);
    return { lat, errors, statuses, lag, seconds: (performance.now() - t0) / 1000 };
  };
  await run(RATE * warmup);
  const api0 = procStats(serverPid).cpu_s, pg0 = pgCpu(pgPid), m0 = machineTicks();
  const r = await run(RATE * seconds);
  const api1 = procStats(serverPid).cpu_s, pg1 = pgCpu(pgPid), m1 = machineTicks();
  const mixes = Object.fromEntries(
    MIX.map((name, k) => [name, summarise(r.lat[k], r.errors[k])]),
  );
  return {
    rate: RATE,
    seconds: +r.seconds.toFixed(2),
    warmup_seconds: warmup,
    mixes,
    overall: summarise(r.lat.flat(), r.errors.reduce((s, e) => s + e, 0)),
    failures_by_status: r.statuses,
    generator_max_lag_ms: ms(r.lag),
    api_cpu_percent_of_one_core: +(((api1 - api0) / r.seconds) * 100).toFixed(1),
    postgres_cpu_percent_of_one_core: +(((pg1 - pg0) / r.seconds) * 100).toFixed(1),
    machine_busy_percent: +(((m1.busy - m0.busy) / (m1.total - m0.total)) * 100).toFixed(1),
    capacity: capacity ? await closedLoop() : undefined,
  };

  /** Each range alone, 4 in flight back to back for 4 s: the requests/s one api serves. */
  async function closedLoop() {
    const out: Record<string, { rps: number; p50_ms: number }> = {};
    for (const [k, name] of MIX.entries()) {
      const lat: number[] = [];
      const until = performance.now() + 4_000;
      await Promise.all(Array.from({ length: 4 }, async () => {
        const client = new RawClient(u.hostname, Number(u.port));
        while (performance.now() < until) {
          const t0 = performance.now();
          await client.get(paths[k], headers);
          lat.push(performance.now() - t0);
        }
      }));
      out[name] = { rps: Math.round(lat.length / 4), p50_ms: ms(median(lat)) };
    }
    return out;
  }
}

// ---- the api under test (own process) ----

async function serve(port: number, dbUrl: string, natsUrl: string) {
  const app = await benchApiApp("history-bench", port, dbUrl, natsUrl);
  // The bench's profile switch beside the app: V8's sampling profiler on this process.
  const root = new Hono();
  let profiler: CpuProfiler | undefined;
  root.post("/profile/start", async (c) => {
    profiler = new CpuProfiler();
    await profiler.start();
    return c.json({ ok: true });
  });
  root.post("/profile/stop", async (c) => c.json(await profiler!.stop()));
  root.route("/", app);
  Deno.serve({ port, hostname: "127.0.0.1", onListen: () => {} }, root.fetch);
}

// ---- the run ----

interface Api {
  base: string;
  pid: number;
  stop(): Promise<void>;
}

async function startApi(dbUrl: string, natsUrl: string): Promise<Api> {
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", self, "--serve", String(port), dbUrl, natsUrl],
    stdout: "inherit",
    stderr: "inherit",
    env: { NO_COLOR: "1" },
  }).spawn();
  await waitForPort(port, 60_000);
  return {
    base: `http://127.0.0.1:${port}`,
    pid: child.pid,
    stop: async () => {
      child.kill("SIGTERM");
      await child.status;
    },
  };
}

/** The load generator in its own process (`--reads`). */
async function runReads(
  api: Api,
  cookie: string,
  paths: string[],
  pgPid: number,
  o: { seconds: number; warmup: number; capacity: boolean },
): Promise<Awaited<ReturnType<typeof reads>>> {
  return await runJson(self, [
    "--reads",
    api.base,
    cookie,
    JSON.stringify(paths),
    String(api.pid),
    String(pgPid),
    String(o.seconds),
    String(o.warmup),
    String(o.capacity),
  ]);
}

async function main() {
  const db = await testDatabase();
  const nats = await startNats();
  const nc = await connect({ servers: nats.url });
  await provisionAll({ nc });
  const sql = db.sql;
  const now = new Date();
  const today = nyDay(now);

  // Storage: 10,000 users, one account each, a year of daily points.
  const [others, seedUsersMs] = await timed(() => bulkUsers(sql, "daily", USERS, 1));
  const ids = others.map((o) => o.user_id);
  const [, seedDailyMs] = await timed(() =>
    bulkDaily(sql, ids, addDays(today, -365), addDays(today, -1))
  );
  await sql`vacuum analyze value_history`;
  const [{ points: dailyPoints }] = await sql<{ points: number }[]>`
    select sum(cardinality(at))::int as points from value_history`;
  const packed = await tableSizes(sql, "value_history");
  await sql.unsafe(NAIVE_TABLE);
  const sample = ids.slice(0, 1_000);
  await sql`
    insert into naive_value_points (user_id, scope, account_id, kind, at, value, currency)
    select h.user_id, h.scope, h.account_id, h.kind, u.a, u.v, h.currency
      from value_history h, unnest(h.at, h.value) as u(a, v)
     where h.user_id = any (${sample}::uuid[])`;
  await sql`vacuum analyze naive_value_points`;
  const naive = await tableSizes(sql, "naive_value_points");
  const storage = {
    users: USERS,
    daily_points: dailyPoints,
    seconds_to_seed: +((seedUsersMs + seedDailyMs) / 1000).toFixed(1),
    packed: {
      ...packed,
      bytes_per_daily_point: +(packed.total_bytes / dailyPoints).toFixed(2),
    },
    row_per_point_1000_users: {
      ...naive,
      bytes_per_daily_point: +(naive.total_bytes / naive.rows).toFixed(2),
    },
  };
  console.error(`storage: ${JSON.stringify(storage)}`);

  // Snapshot writes.
  const writes = await benchWrites(sql, db.url, today);
  console.error(`writes: ${JSON.stringify(writes)}`);

  // The user the reads are for.
  const [user, seedUserMs] = await timed(() => seedReadUser(sql, now));
  // The write phases' dead rows and dirty pages are put away first: the reads measure reads,
  // not the background work of a bulk load minutes before.
  await sql`vacuum analyze`;
  await sql`checkpoint`;
  const final = await tableSizes(sql, "value_history");
  console.error(`read user seeded in ${(seedUserMs / 1000).toFixed(1)} s`);

  // The steps, with PostgreSQL logging the statements of connections opened from now on
  // (`quiet` turns it off for its own).
  const files = await clusterFiles();
  const logStatements = async (on: boolean) => {
    for (const setting of ["log_min_duration_statement", "log_parameter_max_length"]) {
      await sql.unsafe(
        on
          ? `alter database ${db.name} set ${setting} = 0`
          : `alter database ${db.name} reset ${setting}`,
      );
    }
  };
  await logStatements(true);
  const logged = connectDb(db.url, { max: 10, name: "steps" });
  const quiet = await sql.reserve();
  await quiet`set log_min_duration_statement = -1`;
  const steps = await requestSteps(quiet, logged, user, files.log);
  quiet.release();
  await logged.end();
  await logStatements(false);
  console.error(`steps: ${JSON.stringify(steps)}`);

  const paths = MIX.map((name) => mixPath(name, user.accounts[0]));
  const api = await startApi(db.url, nats.url);
  const responses: Record<string, { points: number; bytes: number; resolution: string }> = {};
  for (const [k, path] of paths.entries()) {
    const res = await fetch(api.base + path, { headers: { cookie: user.cookie } });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`${path}: ${res.status} ${text}`);
    const body = JSON.parse(text);
    responses[MIX[k]] = {
      points: body.points.length,
      bytes: text.length,
      resolution: body.resolution,
    };
  }
  console.error(`responses: ${JSON.stringify(responses)}`);
  const readFigures = await runReads(api, user.cookie, paths, files.postmaster, {
    seconds: READ_S,
    warmup: WARMUP_S,
    capacity: true,
  });
  console.error(`reads: ${JSON.stringify(readFigures)}`);
  await api.stop();

  // Where the time goes: a fresh api whose statements PostgreSQL logs, warmed up, then 5 s of
  // the same load under V8's sampling profiler (not the measurement above). A statement's
  // logged time includes waiting for a busy api to take its rows: the steps' are the clean ones.
  await logStatements(true);
  const profiled = await startApi(db.url, nats.url);
  for (let i = 0; i < 20; i++) {
    for (const path of paths) {
      await (await fetch(profiled.base + path, { headers: { cookie: user.cookie } })).text();
    }
  }
  const offset = (await Deno.stat(files.log)).size;
  await (await fetch(`${profiled.base}/profile/start`, { method: "POST" })).text();
  const profiledRun = await runReads(profiled, user.cookie, paths, files.postmaster, {
    seconds: 5,
    warmup: 0,
    capacity: false,
  });
  const apiProfile = await (await fetch(`${profiled.base}/profile/stop`, { method: "POST" }))
    .json();
  const statements = loggedStatements(files.log, offset, 12);
  await profiled.stop();
  const profile = {
    run: { seconds: profiledRun.seconds, overall: profiledRun.overall },
    api_js: apiProfile,
    postgres_statements_under_load: statements,
  };
  console.error(`profile: ${JSON.stringify(profile)}`);

  await nc.close();
  await nats.close();
  await db.close();

  const mb = (b: number) => `${(b / 1048576).toFixed(1)} MB`;
  console.log(`| storage (${USERS} users × 1 account, 1 year daily) | packed | row per point |`);
  console.log("|---|---|---|");
  console.log(
    `| bytes per daily point | ${storage.packed.bytes_per_daily_point} | ${storage.row_per_point_1000_users.bytes_per_daily_point} |`,
  );
  console.log(
    `| total (table+toast+indexes) | ${
      mb(packed.total_bytes)
    } (${dailyPoints} points, ${packed.rows} rows) | ${
      mb(naive.total_bytes)
    } for 1,000 users (${naive.rows} rows) |`,
  );
  console.log(`| indexes | ${mb(packed.indexes_bytes)} | ${mb(naive.indexes_bytes)} |`);
  console.log("");
  console.log(
    `| snapshot round (${WRITERS} users × 3 accounts = ${
      WRITERS * 4
    } points) | median ms | max ms | points/s | WAL MB/round |`,
  );
  console.log("|---|---|---|---|---|");
  for (
    const [label, f] of [
      ["packed, writeRound, start of day", writes.packed_start_of_day],
      ["packed, writeRound, end of day (283 points stored)", writes.packed_end_of_day],
      ["row per point, one INSERT per point (10 conns)", writes.naive_insert_per_point],
      ["row per point, batched 5,000/statement", writes.naive_rows_batched],
    ] as const
  ) {
    console.log(
      `| ${label} | ${f.median_ms} | ${f.max_ms} | ${f.points_per_s} | ${f.wal_mb_per_round_median} |`,
    );
  }
  console.log("");
  console.log(
    `| GET /api/portfolio/history @ ${RATE}/s, ${READ_S} s | points | p50 ms | p99 ms | max ms | errors | alone: req/s | one request: ms |`,
  );
  console.log("|---|---|---|---|---|---|---|---|");
  for (const name of MIX) {
    const m = readFigures.mixes[name];
    const step = steps[name] as { read_history_ms: number };
    console.log(
      `| ${name} | ${
        responses[name].points
      } | ${m.p50_ms} | ${m.p99_ms} | ${m.max_ms} | ${m.errors} | ${
        readFigures.capacity?.[name].rps
      } | ${step.read_history_ms} |`,
    );
  }
  const o = readFigures.overall;
  console.log(`| overall | | ${o.p50_ms} | ${o.p99_ms} | ${o.max_ms} | ${o.errors} | | |`);
  console.log(
    `api CPU ${readFigures.api_cpu_percent_of_one_core} % of a core, PostgreSQL ${readFigures.postgres_cpu_percent_of_one_core} %, machine busy ${readFigures.machine_busy_percent} %`,
  );
  console.log("api CPU by repository call site (profiled run):");
  for (const x of profile.api_js.by_repository_call_site.slice(0, 8)) {
    console.log(`  ${String(x.percent_of_busy).padStart(5)} %  ${x.fn}`);
  }

  const summary = {
    benchmark: "history",
    at: new Date().toISOString(),
    machine: machine(),
    notes:
      "Everything on the same 2 shared cores: PostgreSQL (fsync off), NATS, the api process, the load generator. " +
      "Storage: daily points packed a month to a row, values 20,000–200,000 with 2 decimals; the row-per-point table holds 1,000 of the same users' points. " +
      "Writes: writeRound from this process on a 20-connection pool (it uses one at a time); naive per point: 10 connections each awaiting its INSERT … ON CONFLICT DO NOTHING. " +
      "Reads: open loop, latency from the scheduled send time, the mix rotating request by request; one api process with a 10-connection pool. " +
      "Steps: one request at a time in this process, medians of 40. Capacity: each range alone, closed loop, 4 in flight, 4 s. " +
      "Profiles: V8 sampling every 250 µs, apart from the measurements; PostgreSQL's statement times from its log (log_min_duration_statement = 0).",
    targets: { read_p99_ms_at_200_per_s: TARGET_P99_MS },
    storage: { ...storage, after_all_phases: final },
    writes,
    read_user: {
      accounts: user.accounts.length,
      positions: user.positions,
      transactions: user.transactions,
      points: user.points,
      record_points_calls: user.recordCalls,
      seconds_to_seed: +(seedUserMs / 1000).toFixed(1),
    },
    responses,
    steps,
    reads: readFigures,
    profile,
    met: { read_p99: o.p99_ms <= TARGET_P99_MS, no_errors: o.errors === 0 },
  };
  await writeResult("history", summary);
  console.log(JSON.stringify(summary.met));
}

if (Deno.args[0] === "--reads") {
  const [, base, cookie, paths, serverPid, pgPid, seconds, warmup, capacity] = Deno.args;
  console.log(JSON.stringify(
    await reads(
      base,
      cookie,
      JSON.parse(paths),
      +serverPid,
      +pgPid,
      +seconds,
      +warmup,
      capacity === "true",
    ),
  ));
  Deno.exit(0);
} else if (Deno.args[0] === "--serve") {
  await serve(+Deno.args[1], Deno.args[2], Deno.args[3]);
} else {
  await main();
}
