-- Sign-in and sign-up throttling, shared by every api instance. One row per throttled key (a
-- SHA-256 of "address:<ip>" or "pair:<email>|<ip>", so neither emails nor addresses are kept in
-- the clear). Rows are claimed with one INSERT … ON CONFLICT DO UPDATE … WHERE, which locks the
-- row, so parallel attempts are counted one after another and a limit cannot be raced.
create table auth_throttle (
  key text primary key check (key ~ '^[0-9a-f]{64}$'),
  -- Attempts in the address window, or failures of the account from the address.
  hits integer not null check (hits >= 0),
  -- Start of the address window, or the time of the pair's last failure.
  since timestamptz not null,
  -- No attempt is let through before this.
  next_allowed_at timestamptz not null
);
create index auth_throttle_since on auth_throttle (since);
