-- Each user's open Plaid Hosted Link session, so that whichever api instance the person returns
-- to can complete it. One per user: a newer link replaces the older. Hosted Link tokens live
-- four hours; the api ignores older rows. A link token is shown to the browser, so it is not
-- kept encrypted.
create table plaid_link_sessions (
  user_id uuid primary key references users (id) on delete cascade,
  link_token text not null check (length(link_token) between 1 and 512),
  reconnect_connection_id uuid,
  created_at timestamptz not null default now(),
  foreign key (reconnect_connection_id, user_id) references connections (id, user_id)
    on delete cascade
);
