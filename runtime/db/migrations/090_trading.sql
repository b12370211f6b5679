-- Trading: previews kept server-side, one order per preview and per idempotency key, the
-- `unknown` state of an order sent without an answer, trading halts (the kill switch), and an
-- append-only audit trail.

alter table orders drop constraint orders_state_check;
alter table orders add constraint orders_state_check check (state in ('pending', 'submitted',
  'accepted', 'partially_filled', 'filled', 'canceled', 'rejected', 'expired', 'failed', 'unknown'));
alter table order_events drop constraint order_events_state_check;
alter table order_events add constraint order_events_state_check check (state in ('pending',
  'submitted', 'accepted', 'partially_filled', 'filled', 'canceled', 'rejected', 'expired', 'failed',
  'unknown'));

-- What a person saw and confirmed; the broker's side of it (SnapTrade's trade id) stays here.
create table order_previews (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null,
  account_id uuid not null,
  connection_id uuid not null,
  provider text not null check (provider in ('snaptrade', 'plaid', 'alpaca')),
  intent jsonb not null,
  confirmation jsonb not null,
  broker_trade_id text check (length(broker_trade_id) between 1 and 256),
  expires_at timestamptz not null,
  created_at timestamptz not null default now(),
  foreign key (account_id, user_id) references accounts (id, user_id) on delete cascade,
  check (expires_at > created_at)
);
create index order_previews_user on order_previews (user_id, created_at desc);

alter table orders
  add column preview_id uuid references order_previews (id) on delete set null,
  add column idempotency_key text check (length(idempotency_key) between 1 and 128),
  add column estimated_amount numeric check (estimated_amount >= 0),
  add column currency text check (currency ~ '^[A-Z]{3}$'),
  add column submitted_at timestamptz;
-- Exactly one order per confirmed preview and per idempotency key, whatever the concurrency.
create unique index orders_preview on orders (preview_id) where preview_id is not null;
create unique index orders_idempotency on orders (user_id, idempotency_key)
  where idempotency_key is not null;
create index orders_account_recent on orders (account_id, created_at desc);
create index orders_open on orders (state) where state in ('submitted', 'accepted',
  'partially_filled', 'unknown');

-- The kill switch: a halt of everything, of one user, or of one account.
create table trading_halts (
  id uuid primary key default gen_random_uuid(),
  scope text not null check (scope in ('global', 'user', 'account')),
  user_id uuid references users (id) on delete cascade,
  account_id uuid references accounts (id) on delete cascade,
  reason text not null check (length(reason) between 1 and 500),
  engaged_by uuid references users (id) on delete set null,
  engaged_at timestamptz not null default now(),
  check ((scope = 'global') = (user_id is null)),
  check ((scope = 'account') = (account_id is not null))
);
create unique index trading_halts_one on trading_halts (scope, coalesce(user_id::text, ''),
  coalesce(account_id::text, ''));

-- Every trading request, decision and broker answer: who, what, when (UTC), from where.
-- Rows outlive the orders and accounts they name, so no foreign keys.
create table trading_audit (
  id bigint generated always as identity primary key,
  at timestamptz not null default now(),
  actor_id uuid,
  client_address text,
  action text not null check (length(action) between 1 and 64),
  user_id uuid,
  account_id uuid,
  preview_id uuid,
  order_id uuid,
  detail jsonb not null default '{}'
);
create index trading_audit_order on trading_audit (order_id) where order_id is not null;

create function trading_audit_append_only() returns trigger language plpgsql as $$
begin
  raise exception 'trading_audit is append-only';
end $$;
create trigger trading_audit_append_only before update or delete on trading_audit
  for each row execute function trading_audit_append_only();

-- A position changed by a fill Meridian saw before the brokerage's next sync, which replaces it.
alter table positions add column provisional boolean not null default false;
