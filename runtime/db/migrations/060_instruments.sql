-- The security master: one row per security, whichever providers hold it. `symbol` is the
-- market-data symbol in Alpaca's convention (BRK.B, BTC/USD, compact OCC for options); the
-- rules that derive it live in portfolio/instruments.ts. Instruments are shared by all users,
-- hold nothing about anyone, and are never deleted (positions come and go with each sync).
create table instruments (
  id uuid primary key default gen_random_uuid(),
  kind text not null check (kind in
    ('equity', 'etf', 'fund', 'option', 'crypto', 'bond', 'cash_equivalent', 'other')),
  symbol text not null check (length(symbol) between 1 and 64),
  currency text not null check (currency ~ '^[A-Z]{3}$'),
  name text,
  exchange text,
  -- Each provider's own id of the security; the first one seen is kept.
  snaptrade_symbol_id text,
  plaid_security_id text,
  alpaca_asset_id text,
  -- The standard 21-character OCC symbol (root padded to 6), for options only.
  occ_symbol text check ((kind = 'option') = (occ_symbol is not null)),
  created_at timestamptz not null default now(),
  unique (symbol, currency)
);
create index instruments_snaptrade on instruments (snaptrade_symbol_id);
create index instruments_plaid on instruments (plaid_security_id);
create index instruments_alpaca on instruments (alpaca_asset_id);

-- A position points at its instrument, or says why it has none (it then keeps its provider's
-- price and is aggregated by symbol and currency). The sync always writes both; the default
-- covers rows written by anything else.
alter table positions
  add column instrument_id uuid references instruments (id),
  add column unresolved_reason text default 'not resolved yet: the next sync resolves it',
  add constraint positions_instrument_or_reason
    check ((instrument_id is null) = (unresolved_reason is not null));
create index positions_instrument on positions (instrument_id);

-- Existing rows: the same rules as portfolio/instruments.ts, written in SQL. Every sync
-- rewrites a connection's positions through that module, so any row this gets wrong is put
-- right at the connection's next sync.
create temporary table instrument_migration on commit drop as
select p.id as position_id,
  case p.security_type when 'mutual_fund' then 'fund' else p.security_type end as kind,
  p.currency,
  p.name,
  case p.provider when 'snaptrade' then p.provider_security_id end as snaptrade_id,
  case p.provider when 'plaid' then p.provider_security_id end as plaid_id,
  case p.provider when 'alpaca' then p.provider_security_id end as alpaca_id,
  case
    when p.security_type = 'cash' then null
    when p.security_type = 'crypto' then case
      when upper(p.symbol) ~ '^[A-Z0-9]{2,10}\s*[-/ ]\s*[A-Z]{3,4}$' then
        regexp_replace(upper(p.symbol), '^([A-Z0-9]{2,10})\s*[-/ ]\s*([A-Z]{3,4})$', '\1/\2')
      when upper(p.symbol) ~ '^[A-Z0-9]{2,}(USDT|USDC)$' and length(p.symbol) > 5 then
        regexp_replace(upper(p.symbol), '^(.+)(USDT|USDC)$', '\1/\2')
      when upper(p.symbol) ~ '^[A-Z0-9]{2,}(USD|EUR|GBP|CAD|BTC)$' and length(p.symbol) > 4 then
        regexp_replace(upper(p.symbol), '^(.+)(USD|EUR|GBP|CAD|BTC)$', '\1/\2')
      when upper(p.symbol) ~ '^[A-Z0-9]{2,14}$' then upper(p.symbol) || '/' || p.currency
    end
    when p.security_type = 'option' then case
      when upper(p.symbol) ~ '^[A-Z0-9.]{1,6} *\d{6}[CP]\d{8}$' then
        replace(upper(p.symbol), ' ', '')
    end
    when upper(p.symbol) ~ '^[0-9A-Z]{6}[0-9A-Z]{2}[0-9]$'
      and left(upper(p.symbol), 3) ~ '\d' then null
    when upper(p.symbol) ~ '^[A-Z][A-Z0-9]{0,9}([ ./-][A-Z]{1,2})?$' then
      regexp_replace(upper(p.symbol), '^([A-Z][A-Z0-9]{0,9})[ ./-]([A-Z]{1,2})$', '\1.\2')
  end as symbol,
  case when p.security_type = 'option'
    and upper(p.symbol) ~ '^[A-Z0-9.]{1,6} *\d{6}[CP]\d{8}$' then
    rpad(substring(replace(upper(p.symbol), ' ', '') from '^(.*)\d{6}[CP]\d{8}$'), 6) ||
      substring(replace(upper(p.symbol), ' ', '') from '(\d{6}[CP]\d{8})$')
  end as occ_symbol
from positions p;

insert into instruments (kind, symbol, currency, name, snaptrade_symbol_id, plaid_security_id,
  alpaca_asset_id, occ_symbol)
select distinct on (symbol, currency) kind, symbol, currency, name,
  (array_agg(snaptrade_id) filter (where snaptrade_id is not null) over w)[1],
  (array_agg(plaid_id) filter (where plaid_id is not null) over w)[1],
  (array_agg(alpaca_id) filter (where alpaca_id is not null) over w)[1],
  occ_symbol
from instrument_migration
where symbol is not null
window w as (partition by symbol, currency)
order by symbol, currency, position_id;

update positions p set instrument_id = i.id, unresolved_reason = null
from instrument_migration m join instruments i using (symbol, currency)
where m.position_id = p.id;

update positions p set unresolved_reason = case
    when p.security_type = 'cash' then 'cash is counted as a balance'
    when p.security_type = 'option' then 'the option''s contract does not make an OCC symbol'
    when p.security_type = 'crypto' then '"' || p.symbol || '" is not a crypto pair'
    else 'the provider gives no ticker ("' || p.symbol || '")'
  end
where p.instrument_id is null;
