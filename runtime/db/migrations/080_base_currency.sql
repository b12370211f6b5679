-- Each user's base currency: what totals are converted into (FX through EUR, fx_rates).
alter table users
  add column base_currency text not null default 'USD' check (base_currency ~ '^[A-Z]{3}$');
