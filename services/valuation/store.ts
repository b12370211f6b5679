/**
 * PostgreSQL reads of valuation: who has anything to value, and their holdings.
 * @module
 */
import type { Sql } from "@meridian/runtime";
import type { BalanceInput, PositionInput, UserHoldings } from "./holdings.ts";

/** Users with at least one account. */
export async function listValuedUsers(sql: Sql): Promise<string[]> {
  const rows = await sql<{ user_id: string }[]>`
    select distinct user_id from accounts order by user_id`;
  return rows.map((r) => r.user_id);
}

/**
 * The holdings of `userIds` (in one consistent snapshot, so a sync replacing a connection's
 * rows is seen whole or not at all). A user without accounts comes back with none.
 */
export async function loadHoldings(sql: Sql, userIds: readonly string[]): Promise<UserHoldings[]> {
  if (userIds.length === 0) return [];
  const ids = [...userIds];
  return await sql.begin("isolation level repeatable read read only", async (tx) => {
    const users = await tx<{ id: string; base_currency: string }[]>`
      select id, base_currency from users where id = any(${ids}::uuid[])`;
    const accounts = await tx<{ id: string; user_id: string }[]>`
      select id, user_id from accounts where user_id = any(${ids}::uuid[])`;
    const positions = await tx<(PositionInput & { user_id: string })[]>`
      select p.user_id, p.id, p.account_id, p.symbol, p.security_type,
             p.quantity::text as quantity, p.price::text as price,
             p.previous_close::text as previous_close, p.cost_basis::text as cost_basis,
             p.currency, p.option_details, p.synced_at, p.instrument_id,
             i.symbol as instrument_symbol, i.currency as instrument_currency
        from positions p left join instruments i on i.id = p.instrument_id
       where p.user_id = any(${ids}::uuid[])`;
    const balances = await tx<(BalanceInput & { user_id: string })[]>`
      select user_id, account_id, currency, cash::text as cash
        from balances where user_id = any(${ids}::uuid[])`;
    const byUser = new Map<string, UserHoldings>();
    for (const u of users) {
      byUser.set(u.id, {
        user_id: u.id,
        base_currency: u.base_currency,
        account_ids: [],
        positions: [],
        balances: [],
      });
    }
    for (const a of accounts) byUser.get(a.user_id)?.account_ids.push(a.id);
    for (const { user_id, ...p } of positions) byUser.get(user_id)?.positions.push(p);
    for (const { user_id, ...b } of balances) byUser.get(user_id)?.balances.push(b);
    return [...byUser.values()];
  });
}
