-- Daily foreign exchange reference rates from the European Central Bank: units of `currency`
-- per 1 EUR on `date` (EUR itself is never stored). Cross rates go through EUR; see
-- portfolio/fx.ts. The valuation service refreshes them; a republished date is overwritten.
create table fx_rates (
  date date not null,
  currency text not null check (currency ~ '^[A-Z]{3}$'),
  per_eur numeric not null check (per_eur > 0),
  fetched_at timestamptz not null default now(),
  primary key (date, currency)
);
