/**
 * The kill switch: halts of all trading (by environment, `TRADING_HALTED`, or by the owner at
 * runtime), of one user, or of one account. Read inside the transaction that records an order
 * and again just before the order is sent, on every instance, so a halt stops new orders
 * everywhere at once.
 * @module
 */
import type { Sql, TransactionSql } from "@meridian/runtime";

/** A halt in force. */
export interface Halt {
  id: string;
  scope: "global" | "user" | "account";
  account_id: string | null;
  reason: string;
  engaged_at: string;
}

/** Why trading is halted for `userId`'s `accountId`, or null when it is not. */
export async function haltReason(
  sql: Sql | TransactionSql,
  haltedByEnvironment: boolean,
  userId: string,
  accountId: string,
): Promise<string | null> {
  if (haltedByEnvironment) return "Trading is halted on this server (TRADING_HALTED).";
  const [halt] = await sql<{ scope: string; reason: string }[]>`
    select scope, reason from trading_halts
     where scope = 'global' or (scope = 'user' and user_id = ${userId})
        or (scope = 'account' and account_id = ${accountId})
     order by case scope when 'global' then 0 when 'user' then 1 else 2 end
     limit 1`;
  if (!halt) return null;
  const what = halt.scope === "global"
    ? "Trading is halted for everyone"
    : halt.scope === "user"
    ? "Trading is halted for your orders"
    : "Trading is halted for this account";
  return `${what}: ${halt.reason}`;
}

/** The halts that apply to `userId`: everyone's, theirs, and their accounts'. */
export async function listHalts(sql: Sql, userId: string): Promise<Halt[]> {
  return await sql<Halt[]>`
    select id, scope, account_id, reason, engaged_at from trading_halts
     where scope = 'global' or user_id = ${userId}
        or account_id in (select id from accounts where user_id = ${userId})
     order by engaged_at`;
}
