-- Schema v1: users, connections and their data, webhooks, syncs, orders, snapshots.
-- Every tenant row carries user_id, and composite foreign keys tie it to its parent's
-- user, so a row can never point at another user's connection or account.

create table users (
  id uuid primary key default gen_random_uuid(),
  email text not null unique check (email = lower(email) and length(email) between 3 and 254 and email like '%_@_%'),
  password_hash text not null check (length(password_hash) > 20),
  role text not null default 'member' check (role in ('owner', 'member')),
  auto_sync boolean not null default false,
  holdings_version bigint not null default 0 check (holdings_version >= 0),
  created_at timestamptz not null default now()
);
create unique index users_single_owner on users (role) where role = 'owner';

create table sessions (
  token_hash text primary key check (length(token_hash) = 64),
  user_id uuid not null references users (id) on delete cascade,
  created_at timestamptz not null default now(),
  last_seen_at timestamptz not null default now(),
  expires_at timestamptz not null,
  check (expires_at > created_at)
);
create index sessions_user on sessions (user_id);

-- A Meridian user's identity at a provider that keeps per-user secrets (SnapTrade userSecret).
create table provider_users (
  user_id uuid not null references users (id) on delete cascade,
  provider text not null check (provider in ('snaptrade')),
  external_user_id text not null check (length(external_user_id) between 1 and 256),
  secret_key_id text not null,
  secret_ciphertext bytea not null,
  created_at timestamptz not null default now(),
  primary key (user_id, provider),
  unique (provider, external_user_id)
);

create table connections (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references users (id) on delete cascade,
  provider text not null check (provider in ('snaptrade', 'plaid', 'alpaca')),
  -- SnapTrade brokerage authorization id, Plaid item_id, Alpaca account id.
  external_id text not null check (length(external_id) between 1 and 256),
  access text not null default 'read' check (access in ('read', 'trade')),
  status text not null default 'active' check (status in ('active', 'error', 'disabled')),
  status_reason text,
  warning text,
  institution text not null check (length(institution) between 1 and 200),
  -- Plaid access token or Alpaca key pair, AES-256-GCM; SnapTrade keeps its secret per user.
  secret_key_id text,
  secret_ciphertext bytea,
  last_synced_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (provider, external_id),
  unique (id, user_id),
  check ((secret_key_id is null) = (secret_ciphertext is null)),
  check (provider = 'snaptrade' or secret_ciphertext is not null),
  check (status = 'active' or status_reason is not null)
);
create index connections_user on connections (user_id);

create table accounts (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null,
  connection_id uuid not null,
  provider text not null check (provider in ('snaptrade', 'plaid', 'alpaca')),
  external_id text not null check (length(external_id) between 1 and 256),
  name text not null,
  number_mask text,
  type text not null check (type in ('brokerage', 'retirement', 'crypto', 'cash', 'other')),
  currency text not null check (currency ~ '^[A-Z]{3}$'),
  status text not null default 'open' check (status in ('open', 'closed', 'archived', 'unavailable')),
  can_trade boolean not null default false,
  synced_at timestamptz not null,
  unique (connection_id, external_id),
  unique (id, user_id),
  unique (id, connection_id),
  foreign key (connection_id, user_id) references connections (id, user_id) on delete cascade
);
create index accounts_user on accounts (user_id);

create table positions (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null,
  account_id uuid not null,
  connection_id uuid not null,
  provider text not null check (provider in ('snaptrade', 'plaid', 'alpaca')),
  symbol text not null check (length(symbol) between 1 and 64),
  name text,
  security_type text not null check (security_type in
    ('equity', 'etf', 'mutual_fund', 'bond', 'option', 'crypto', 'cash', 'cash_equivalent', 'other')),
  quantity numeric not null,
  price numeric check (price >= 0),
  cost_basis numeric,
  currency text not null check (currency ~ '^[A-Z]{3}$'),
  -- For options: {underlying, strike, expiration, option_type ('call'|'put'), multiplier}.
  option_details jsonb,
  provider_security_id text,
  synced_at timestamptz not null,
  foreign key (account_id, user_id) references accounts (id, user_id) on delete cascade,
  foreign key (account_id, connection_id) references accounts (id, connection_id) on delete cascade,
  check ((security_type = 'option') = (option_details is not null))
);
create index positions_user on positions (user_id);
create index positions_account on positions (account_id);
create index positions_connection on positions (connection_id);

create table balances (
  account_id uuid not null,
  user_id uuid not null,
  currency text not null check (currency ~ '^[A-Z]{3}$'),
  cash numeric not null,
  buying_power numeric,
  synced_at timestamptz not null,
  primary key (account_id, currency),
  foreign key (account_id, user_id) references accounts (id, user_id) on delete cascade
);
create index balances_user on balances (user_id);

create table transactions (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null,
  account_id uuid not null,
  connection_id uuid not null,
  provider text not null check (provider in ('snaptrade', 'plaid', 'alpaca')),
  external_id text not null,
  type text not null check (type in ('buy', 'sell', 'dividend', 'interest', 'fee', 'contribution',
    'withdrawal', 'transfer', 'tax', 'reinvestment', 'other')),
  symbol text,
  description text,
  quantity numeric,
  price numeric,
  amount numeric not null,
  fee numeric,
  currency text not null check (currency ~ '^[A-Z]{3}$'),
  trade_date date not null,
  settlement_date date,
  unique (account_id, external_id),
  foreign key (account_id, user_id) references accounts (id, user_id) on delete cascade,
  foreign key (account_id, connection_id) references accounts (id, connection_id) on delete cascade
);
create index transactions_user_date on transactions (user_id, trade_date desc);

-- One row per connection with updates waiting for a refresh.
create table pending_updates (
  connection_id uuid primary key,
  user_id uuid not null,
  since timestamptz not null default now(),
  last_event_at timestamptz not null default now(),
  events integer not null default 1 check (events > 0),
  reason text not null,
  foreign key (connection_id, user_id) references connections (id, user_id) on delete cascade
);
create index pending_updates_user on pending_updates (user_id);

-- Per user and provider: when a refresh was last requested (the cooldown).
create table refresh_cooldowns (
  user_id uuid not null references users (id) on delete cascade,
  provider text not null check (provider in ('snaptrade', 'plaid', 'alpaca')),
  last_requested_at timestamptz not null,
  primary key (user_id, provider)
);

-- Each provider webhook processed once; kept beyond any sender's retry horizon.
create table webhook_events (
  id uuid primary key default gen_random_uuid(),
  provider text not null check (provider in ('snaptrade', 'plaid')),
  event_id text not null check (length(event_id) between 1 and 256),
  event_type text not null,
  received_at timestamptz not null,
  processed_at timestamptz not null default now(),
  user_id uuid references users (id) on delete set null,
  connection_id uuid references connections (id) on delete set null,
  outcome text not null check (outcome in ('flagged', 'synced', 'status_changed', 'warning', 'removed',
    'forwarded', 'ignored', 'unknown_item', 'unknown_type')),
  unique (provider, event_id)
);

create table sync_runs (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null,
  connection_id uuid not null,
  request_id uuid,
  reason text not null check (reason in ('manual', 'webhook', 'initial', 'stale', 'auto')),
  status text not null default 'running' check (status in ('running', 'succeeded', 'failed')),
  started_at timestamptz not null default now(),
  finished_at timestamptz,
  provider_calls integer not null default 0 check (provider_calls >= 0),
  -- Each provider call: {operation, status, ms}.
  calls jsonb not null default '[]',
  error text,
  foreign key (connection_id, user_id) references connections (id, user_id) on delete cascade,
  check ((status = 'running') = (finished_at is null)),
  check (status <> 'failed' or error is not null)
);
create index sync_runs_connection on sync_runs (connection_id, started_at desc);
create index sync_runs_user on sync_runs (user_id, started_at desc);

create table orders (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null,
  account_id uuid not null,
  connection_id uuid not null,
  provider text not null check (provider in ('snaptrade', 'plaid', 'alpaca')),
  client_order_id text not null unique check (length(client_order_id) between 1 and 128),
  broker_order_id text,
  symbol text not null check (length(symbol) between 1 and 64),
  side text not null check (side in ('buy', 'sell')),
  type text not null check (type in ('market', 'limit', 'stop', 'stop_limit')),
  time_in_force text not null check (time_in_force in ('day', 'gtc', 'ioc', 'fok')),
  quantity numeric check (quantity > 0),
  notional numeric check (notional > 0),
  limit_price numeric check (limit_price > 0),
  stop_price numeric check (stop_price > 0),
  state text not null check (state in ('pending', 'submitted', 'accepted', 'partially_filled', 'filled',
    'canceled', 'rejected', 'expired', 'failed')),
  filled_quantity numeric not null default 0 check (filled_quantity >= 0),
  average_price numeric check (average_price >= 0),
  reason text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  foreign key (account_id, user_id) references accounts (id, user_id) on delete cascade,
  foreign key (account_id, connection_id) references accounts (id, connection_id) on delete cascade,
  check ((quantity is null) <> (notional is null)),
  check (type not in ('limit', 'stop_limit') or limit_price is not null),
  check (type not in ('stop', 'stop_limit') or stop_price is not null),
  check (quantity is null or filled_quantity <= quantity)
);
create index orders_user on orders (user_id, created_at desc);
create unique index orders_broker on orders (provider, broker_order_id) where broker_order_id is not null;

create table order_events (
  id bigint generated always as identity primary key,
  order_id uuid not null references orders (id) on delete cascade,
  user_id uuid not null references users (id) on delete cascade,
  event_id text not null,
  state text not null check (state in ('pending', 'submitted', 'accepted', 'partially_filled', 'filled',
    'canceled', 'rejected', 'expired', 'failed')),
  detail jsonb not null default '{}',
  at timestamptz not null,
  unique (order_id, event_id)
);

create table portfolio_snapshots (
  user_id uuid not null references users (id) on delete cascade,
  kind text not null check (kind in ('intraday', 'daily')),
  at timestamptz not null,
  currency text not null check (currency ~ '^[A-Z]{3}$'),
  total numeric not null,
  accounts jsonb not null default '[]',
  primary key (user_id, kind, at)
);
