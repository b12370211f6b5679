/**
 * The api's own reads, each scoped to the signed-in user: a row of another user is never
 * returned, so its id answers 404.
 * @module
 */
import type { Sql } from "@meridian/runtime";
import { Id, type Provider } from "@meridian/proto";
import { CalendarDate } from "./schemas.ts";

const iso = (d: Date | null) => (d ? d.toISOString() : null);
const day = (d: Date | string | null) =>
  d === null ? null : typeof d === "string" ? d.slice(0, 10) : d.toISOString().slice(0, 10);

/** The user's connections with health, freshness and pending flag. */
export async function listConnections(sql: Sql, userId: string, id?: string) {
  const rows = await sql<{
    id: string;
    provider: Provider;
    institution: string;
    access: "read" | "trade";
    status: "active" | "error" | "disabled";
    status_reason: string | null;
    warning: string | null;
    last_synced_at: Date | null;
    created_at: Date;
    pending: boolean;
    accounts: number;
  }[]>`
    select c.id, c.provider, c.institution, c.access, c.status, c.status_reason, c.warning,
           c.last_synced_at, c.created_at, (p.connection_id is not null) as pending,
           (select count(*)::int from accounts a where a.connection_id = c.id and a.user_id = c.user_id)
             as accounts
      from connections c left join pending_updates p on p.connection_id = c.id
     where c.user_id = ${userId} ${id ? sql`and c.id = ${id}` : sql``}
     order by c.created_at, c.id`;
  return rows.map((r) => ({
    id: r.id,
    provider: r.provider,
    institution: r.institution,
    access: r.access,
    status: r.status,
    status_reason: r.status_reason,
    warning: r.warning,
    last_synced_at: iso(r.last_synced_at),
    created_at: r.created_at.toISOString(),
    has_pending_updates: r.pending,
    accounts: r.accounts,
  }));
}

/** The user's accounts (optionally one). */
export async function listAccounts(sql: Sql, userId: string, id?: string) {
  const rows = await sql<{
    id: string;
    connection_id: string;
    provider: Provider;
    institution: string;
    name: string;
    number_mask: string | null;
    type: string;
    currency: string;
    status: string;
    can_trade: boolean;
    synced_at: Date;
  }[]>`
    select a.id, a.connection_id, a.provider, c.institution, a.name, a.number_mask, a.type,
           a.currency, a.status, a.can_trade, a.synced_at
      from accounts a join connections c on c.id = a.connection_id and c.user_id = a.user_id
     where a.user_id = ${userId} ${id ? sql`and a.id = ${id}` : sql``}
     order by c.institution, a.name, a.id`;
  return rows.map((r) => ({ ...r, synced_at: r.synced_at.toISOString() }));
}

/** True when `accountId` is the user's. */
export async function ownsAccount(sql: Sql, userId: string, accountId: string): Promise<boolean> {
  const rows = await sql`select 1 from accounts where id = ${accountId} and user_id = ${userId}`;
  return rows.length > 0;
}

/** True when `connectionId` is the user's. */
export async function ownsConnection(sql: Sql, userId: string, id: string): Promise<boolean> {
  const rows = await sql`select 1 from connections where id = ${id} and user_id = ${userId}`;
  return rows.length > 0;
}

/** The provider of one of the user's connections, or null. */
export async function connectionProvider(sql: Sql, userId: string, id: string) {
  const rows = await sql<
    { provider: Provider }[]
  >`
    select provider from connections where id = ${id} and user_id = ${userId}`;
  return rows[0] ?? null;
}

interface TxFilter {
  account_id?: string;
  type?: string;
  symbol?: string;
  from?: string;
  to?: string;
  limit: number;
  cursor?: string;
}

/** Keyset cursor over (trade_date desc, id desc). */
export function encodeCursor(tradeDate: string, id: string): string {
  return btoa(`${tradeDate}|${id}`).replaceAll("+", "-").replaceAll("/", "_").replaceAll("=", "");
}
/** Decodes a cursor; null when it is not one of ours. */
export function decodeCursor(cursor: string): { date: string; id: string } | null {
  let text: string;
  try {
    text = atob(cursor.replaceAll("-", "+").replaceAll("_", "/"));
  } catch {
    return null;
  }
  // The same rules as the query's own dates and ids: a cursor is input too.
  const [date, id, ...rest] = text.split("|");
  if (rest.length || !CalendarDate.safeParse(date).success || !Id.safeParse(id).success) {
    return null;
  }
  return { date, id };
}

/** One page of the user's transactions, newest first. */
export async function listTransactions(sql: Sql, userId: string, f: TxFilter, id?: string) {
  const cur = f.cursor ? decodeCursor(f.cursor) : null;
  const rows = await sql<{
    id: string;
    account_id: string;
    connection_id: string;
    provider: Provider;
    type: string;
    symbol: string | null;
    description: string | null;
    quantity: string | null;
    price: string | null;
    amount: string;
    fee: string | null;
    currency: string;
    trade_date: string;
    settlement_date: string | null;
  }[]>`
    select id, account_id, connection_id, provider, type, symbol, description,
           quantity::text as quantity, price::text as price, amount::text as amount,
           fee::text as fee, currency, trade_date::text as trade_date,
           settlement_date::text as settlement_date
      from transactions
     where user_id = ${userId}
       ${id ? sql`and id = ${id}` : sql``}
       ${f.account_id ? sql`and account_id = ${f.account_id}` : sql``}
       ${f.type ? sql`and type = ${f.type}` : sql``}
       ${f.symbol ? sql`and symbol = ${f.symbol}` : sql``}
       ${f.from ? sql`and trade_date >= ${f.from}::date` : sql``}
       ${f.to ? sql`and trade_date <= ${f.to}::date` : sql``}
       ${cur ? sql`and (trade_date, id) < (${cur.date}::date, ${cur.id}::uuid)` : sql``}
     order by trade_date desc, id desc
     limit ${f.limit + 1}`;
  const page = rows.slice(0, f.limit).map((r) => ({
    ...r,
    trade_date: day(r.trade_date)!,
    settlement_date: day(r.settlement_date),
  })) as Array<Record<string, unknown> & { id: string; trade_date: string }>;
  const last = page[page.length - 1];
  return {
    transactions: page,
    next_cursor: rows.length > f.limit && last ? encodeCursor(last.trade_date, last.id) : null,
  };
}

/** The user's sync runs (optionally one, or filtered). */
export async function listSyncs(
  sql: Sql,
  userId: string,
  f: { connection_id?: string; request_id?: string; limit: number },
  id?: string,
) {
  const rows = await sql<{
    id: string;
    connection_id: string;
    provider: Provider;
    request_id: string | null;
    reason: string;
    status: "running" | "succeeded" | "failed";
    started_at: Date;
    finished_at: Date | null;
    provider_calls: number;
    error: string | null;
  }[]>`
    select s.id, s.connection_id, c.provider, s.request_id, s.reason, s.status, s.started_at,
           s.finished_at, s.provider_calls, s.error
      from sync_runs s join connections c on c.id = s.connection_id and c.user_id = s.user_id
     where s.user_id = ${userId}
       ${id ? sql`and s.id = ${id}` : sql``}
       ${f.connection_id ? sql`and s.connection_id = ${f.connection_id}` : sql``}
       ${f.request_id ? sql`and s.request_id = ${f.request_id}` : sql``}
     order by s.started_at desc, s.id
     limit ${f.limit}`;
  return rows.map((r) => ({
    ...r,
    started_at: r.started_at.toISOString(),
    finished_at: iso(r.finished_at),
  }));
}
