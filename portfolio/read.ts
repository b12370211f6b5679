/**
 * Database-first reads: holdings and pending updates from PostgreSQL only, never a provider.
 * @module
 */
import type { Sql } from "@meridian/runtime";
import {
  type AccountRow,
  aggregateHoldings,
  type BalanceRow,
  type ConnectionSummaryRow,
  type PositionRow,
} from "./aggregate.ts";
import { latestFxRates } from "./fx_rates.ts";
import type { HoldingsView, PendingUpdatesView } from "./views.ts";

/**
 * Reads a user's holdings view from PostgreSQL in one consistent snapshot, valued at the
 * providers' synced prices (no quotes: the api re-prices it at the live ones with
 * `repriceHoldings`).
 */
export async function readHoldings(
  sql: Sql,
  userId: string,
  opts: { now?: Date } = {},
): Promise<HoldingsView> {
  // One repeatable-read transaction so accounts, positions and balances agree with each
  // other even while a sync replaces a connection's rows.
  const rows = await sql.begin("isolation level repeatable read read only", async (tx) => {
    const connections = await tx<ConnectionSummaryRow[]>`
      select c.id, c.provider, c.institution, c.status, c.status_reason, c.warning,
             c.last_synced_at, p.since as pending_since
        from connections c left join pending_updates p on p.connection_id = c.id
       where c.user_id = ${userId}`;
    const accounts = await tx<AccountRow[]>`
      select id, connection_id, provider, name, number_mask, type, currency, status, can_trade,
             synced_at
        from accounts where user_id = ${userId}`;
    const positions = await tx<PositionRow[]>`
      select p.id, p.account_id, p.symbol, p.name, p.security_type, p.quantity::text as quantity,
             p.price::text as price, p.previous_close::text as previous_close,
             p.cost_basis::text as cost_basis, p.currency, p.option_details, p.synced_at,
             p.instrument_id, i.symbol as instrument_symbol, i.name as instrument_name,
             i.currency as instrument_currency, p.unresolved_reason
        from positions p left join instruments i on i.id = p.instrument_id
       where p.user_id = ${userId}`;
    const balances = await tx<BalanceRow[]>`
      select account_id, currency, cash::text as cash, buying_power::text as buying_power,
             synced_at
        from balances where user_id = ${userId}`;
    const [user] = await tx<{ base_currency: string }[]>`
      select base_currency from users where id = ${userId}`;
    const fx = await latestFxRates(tx);
    return { connections, accounts, positions, balances, base: user?.base_currency ?? "USD", fx };
  });
  return aggregateHoldings(
    userId,
    {
      connections: [...rows.connections],
      accounts: [...rows.accounts],
      positions: [...rows.positions],
      balances: [...rows.balances],
    },
    opts.now ?? new Date(),
    { currency: rows.base, fx: rows.fx },
  );
}

/** The user's connections with updates waiting for a refresh. */
export async function listPendingUpdates(sql: Sql, userId: string): Promise<PendingUpdatesView> {
  const rows = await sql<
    {
      connection_id: string;
      provider: "snaptrade" | "plaid" | "alpaca";
      institution: string;
      since: Date;
      last_event_at: Date;
      events: number;
      reason: string;
    }[]
  >`
    select p.connection_id, c.provider, c.institution, p.since, p.last_event_at, p.events, p.reason
      from pending_updates p join connections c on c.id = p.connection_id and c.user_id = p.user_id
     where p.user_id = ${userId}
     order by p.since, p.connection_id`;
  return {
    user_id: userId,
    has_pending_updates: rows.length > 0,
    connections: rows.map((r) => ({
      connection_id: r.connection_id,
      provider: r.provider,
      institution: r.institution,
      since: r.since.toISOString(),
      last_event_at: r.last_event_at.toISOString(),
      events: r.events,
      reason: r.reason,
    })),
  };
}
