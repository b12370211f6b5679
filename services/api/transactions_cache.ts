/**
 * Each user's transactions, and what the history derives from them (cash flows, the P/L and
 * income summary of a range), kept while the user's holdings fingerprint stands: sync writes
 * transactions in the same transaction as holdings, so a new fingerprint is a new ledger.
 * Bounded in users, least recently used evicted first.
 * @module
 */
import type { Transaction } from "@meridian/portfolio/cash_flows";
import type { Sql } from "@meridian/runtime";
import { LruMap } from "./lru.ts";

/** One user's transactions (oldest first) and values derived from them. */
export interface Ledger {
  transactions: readonly Transaction[];
  /** `compute()` once per key while the ledger stands. */
  memo<T>(key: string, compute: () => T): T;
}

interface Entry {
  fingerprint: string;
  ledger: Promise<Ledger>;
}

async function load(sql: Sql, userId: string): Promise<Ledger> {
  const transactions = await sql<Transaction[]>`
    select type, symbol, quantity::text as quantity, price::text as price, amount::text as amount,
           fee::text as fee, currency, trade_date::text as trade_date, account_id
      from transactions where user_id = ${userId}
     order by trade_date, id`;
  const derived = new Map<string, unknown>();
  return {
    transactions,
    memo<T>(key: string, compute: () => T): T {
      if (!derived.has(key)) derived.set(key, compute());
      return derived.get(key) as T;
    },
  };
}

/** The ledgers of recently seen users. */
export class TransactionsCache {
  readonly #entries: LruMap<string, Entry>;

  constructor(private readonly sql: Sql, maxUsers = 2_000) {
    this.#entries = new LruMap(maxUsers);
  }

  /** The user's ledger as of `fingerprint` (from the holdings cache's answer). */
  get(userId: string, fingerprint: string): Promise<Ledger> {
    let entry = this.#entries.get(userId);
    if (!entry || entry.fingerprint !== fingerprint) {
      const ledger = load(this.sql, userId);
      const fresh: Entry = entry = { fingerprint, ledger };
      this.#entries.set(userId, fresh);
      // A failed read is not kept: the next request reads again.
      ledger.catch(() => {
        if (this.#entries.get(userId) === fresh) this.#entries.delete(userId);
      });
    }
    return entry.ledger;
  }
}
