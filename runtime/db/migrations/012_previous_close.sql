-- The previous trading session's close of a position's security, as the provider reports it
-- (Plaid Security.close_price, Alpaca position lastday_price). Day change is
-- quantity × (price − previous_close) (× the option multiplier). Null = unknown: SnapTrade has
-- no such field, and cash or cash equivalents never get one.
alter table positions add column previous_close numeric check (previous_close >= 0);
