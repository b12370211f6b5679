/**
 * Test fixtures for the api: users with connections, accounts, positions, balances,
 * transactions, sync runs, pending flags and snapshots, written straight to PostgreSQL.
 * @module
 */
import type { Sql } from "@meridian/runtime";
import { hashPassword } from "@meridian/runtime";
import { recordPoints } from "@meridian/portfolio/history";

/** The ids of one seeded user's objects. */
export interface Seeded {
  userId: string;
  email: string;
  password: string;
  connections: string[];
  accounts: string[];
  transactions: string[];
  syncs: string[];
  positions: string[];
}

let cachedHash: Promise<string> | undefined;

/** Seeds a user with one SnapTrade (trade) and one Plaid (read) connection and their data. */
export async function seedUser(
  sql: Sql,
  email: string,
  opts: { positions?: number; pending?: boolean; password?: string; owner?: boolean } = {},
): Promise<Seeded> {
  const password = opts.password ?? "correct horse battery";
  cachedHash ??= hashPassword("correct horse battery");
  const hash = opts.password ? await hashPassword(password) : await cachedHash;
  const [user] = await sql<{ id: string }[]>`
    insert into users (email, password_hash, role)
    values (${email}, ${hash}, ${opts.owner ? "owner" : "member"}) returning id`;
  const now = new Date();
  const synced = new Date(now.getTime() - 2 * 3600_000);
  const out: Seeded = {
    userId: user.id,
    email,
    password,
    connections: [],
    accounts: [],
    transactions: [],
    syncs: [],
    positions: [],
  };
  const tag = crypto.randomUUID().slice(0, 8);
  const conns = [
    { provider: "snaptrade", access: "trade", institution: "Sandbox Brokerage" },
    { provider: "plaid", access: "read", institution: "Sandbox Bank" },
  ];
  for (const [i, c] of conns.entries()) {
    const [conn] = await sql<{ id: string }[]>`
      insert into connections (user_id, provider, external_id, access, institution, last_synced_at,
                               secret_key_id, secret_ciphertext)
      values (${user.id}, ${c.provider}, ${`ext-${tag}-${i}`}, ${c.access}, ${c.institution},
              ${synced}, ${c.provider === "plaid" ? "k1" : null},
              ${c.provider === "plaid" ? new Uint8Array([1, 2, 3]) : null})
      returning id`;
    out.connections.push(conn.id);
    const [acct] = await sql<{ id: string }[]>`
      insert into accounts (user_id, connection_id, provider, external_id, name, number_mask, type,
                            currency, can_trade, synced_at)
      values (${user.id}, ${conn.id}, ${c.provider}, ${`acct-${tag}-${i}`},
              ${c.provider === "plaid" ? "Plaid IRA" : "Individual"}, '1234',
              ${c.provider === "plaid" ? "retirement" : "brokerage"}, 'USD', ${
      c.access === "trade"
    },
              ${synced})
      returning id`;
    out.accounts.push(acct.id);
    await sql`insert into balances (account_id, user_id, currency, cash, buying_power, synced_at)
              values (${acct.id}, ${user.id}, 'USD', '1000.50', '2000', ${synced})`;
    const n = i === 0 ? (opts.positions ?? 3) : 2;
    for (let p = 0; p < n; p++) {
      const symbol = p === 0 ? "AAPL" : p === 1 ? "VTI" : `SYM${p}`;
      // Plaid reports a previous close (AAPL up, VTI down); SnapTrade has none.
      const close = c.provider !== "plaid" ? null : p === 0 ? "99.875" : "101";
      const [pos] = await sql<{ id: string }[]>`
        insert into positions (user_id, account_id, connection_id, provider, symbol, name,
                               security_type, quantity, price, previous_close, cost_basis,
                               currency, synced_at)
        values (${user.id}, ${acct.id}, ${conn.id}, ${c.provider}, ${symbol}, ${symbol + " Inc."},
                'equity', ${String(10 + p)}, '100.25', ${close}, ${String(900 + p)}, 'USD',
                ${synced})
        returning id`;
      out.positions.push(pos.id);
    }
    for (let t = 0; t < 3; t++) {
      const [tx] = await sql<{ id: string }[]>`
        insert into transactions (user_id, account_id, connection_id, provider, external_id, type,
                                  symbol, quantity, price, amount, currency, trade_date)
        values (${user.id}, ${acct.id}, ${conn.id}, ${c.provider}, ${`tx-${tag}-${i}-${t}`},
                ${t === 2 ? "dividend" : "buy"}, 'AAPL', '1', '100', '-100', 'USD',
                ${`2026-0${t + 1}-15`})
        returning id`;
      out.transactions.push(tx.id);
    }
    const [run] = await sql<{ id: string }[]>`
      insert into sync_runs (user_id, connection_id, reason, status, finished_at)
      values (${user.id}, ${conn.id}, 'initial', 'succeeded', now()) returning id`;
    out.syncs.push(run.id);
  }
  if (opts.pending) {
    await sql`insert into pending_updates (connection_id, user_id, reason)
              values (${out.connections[0]}, ${user.id}, 'HOLDINGS_UPDATED')`;
  }
  const yesterday = new Date(now.getTime() - 24 * 3600_000);
  await recordPoints(sql, "daily", [
    { user_id: user.id, account_id: null, at: yesterday, value: "9000", currency: "USD" },
  ]);
  await recordPoints(sql, "intraday", [
    { user_id: user.id, account_id: null, at: now, value: "9450.75", currency: "USD" },
  ]);
  return out;
}
