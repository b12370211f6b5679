-- Value history: the whole portfolio's and each account's value over time.
--
-- Packed: one row holds a scope's points of one period, as two parallel arrays, instead of a
-- row per point. A year of daily values of one scope is 12 rows, not 365: PostgreSQL's
-- ~28 bytes of row overhead and a b-tree entry are paid per month, and a read is a handful of
-- index lookups. Intraday points are packed per New York hour while they are written (an
-- append rewrites a row of at most an hour's points, never a whole day's), and per day once
-- thinned.
--
-- kind:
--   intraday       a point every SNAPSHOT_INTRADAY_S while prices move; period = the NY day,
--                  hour = the NY hour (0-23). Days older than SNAPSHOT_INTRADAY_DAYS are thinned
--                  to the last point of each hour, in one row of the day (hour = -1).
--   daily          the value at the first snapshot after the market's close; period = the month.
--   reconstructed  daily values rebuilt from transactions and historical closes; period = the
--                  month. A rebuild replaces its months whole; a recorded daily point wins over
--                  a reconstructed one of the same day when they are read.
-- Points are idempotent on (scope, kind, time): a time already in the row is never added twice.
-- `currency` is the user's base currency when the point was taken; a change of base currency
-- starts new rows, and reads convert older ones at the day's ECB rate.

drop table portfolio_snapshots;

create table value_history (
  user_id uuid not null references users (id) on delete cascade,
  -- The user's id for the whole portfolio, otherwise the account's id.
  scope uuid not null,
  account_id uuid,
  kind text not null check (kind in ('intraday', 'daily', 'reconstructed')),
  period date not null,
  -- intraday rows being written: the New York hour of their points; otherwise -1 (the period).
  hour smallint not null default -1 check (hour between -1 and 23),
  currency text not null check (currency ~ '^[A-Z]{3}$'),
  at timestamptz[] not null,
  value numeric[] not null,
  primary key (scope, kind, period, hour, currency),
  foreign key (account_id, user_id) references accounts (id, user_id) on delete cascade,
  check ((account_id is null and scope = user_id) or account_id = scope),
  check (cardinality(at) = cardinality(value) and cardinality(at) >= 1),
  check (kind = 'intraday' or (extract(day from period) = 1 and hour = -1))
);
create index value_history_user on value_history (user_id);

-- Where each connection's reconstruction stands: what it covered, and what the transactions
-- could not explain (shown as gaps with their reasons rather than as a line).
create table history_backfills (
  connection_id uuid primary key,
  user_id uuid not null,
  -- The connection's last_synced_at the reconstruction was built from: a newer sync rebuilds.
  synced_at timestamptz not null,
  from_day date not null,
  to_day date not null,
  -- [{account_id, from, to, reason}]
  unexplained jsonb not null default '[]',
  built_at timestamptz not null default now(),
  foreign key (connection_id, user_id) references connections (id, user_id) on delete cascade
);
create index history_backfills_user on history_backfills (user_id);
