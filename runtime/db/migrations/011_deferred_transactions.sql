-- Transactions are fetched only when needed (never synced, older than the holdings TTL, a
-- transactions webhook, an initial or stale sync), not on every holdings refresh.

-- When the connection's transactions were last fetched; null = never.
alter table connections add column transactions_synced_at timestamptz;

-- True when a webhook that flagged the connection was about transactions; a later holdings
-- event never clears it (ingress ORs it on conflict).
alter table pending_updates add column transactions boolean not null default false;

-- Connections synced before this migration did fetch their transactions.
update connections set transactions_synced_at = last_synced_at where last_synced_at is not null;
