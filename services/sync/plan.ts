/**
 * What one sync fetches. Holdings (accounts, positions, balances) are fetched on every sync;
 * transactions only when needed, because on Plaid they are a separate (billed) call and a
 * holdings webhook says nothing about them. Pure.
 * @module
 */
import type { SyncRequest } from "@meridian/proto";

/** Why a sync fetches the connection's transactions. */
export type TransactionsWhy =
  | "never_synced"
  | "expired"
  | "flagged"
  | "initial"
  | "stale"
  | "new_account"
  | "no_webhooks";

/** What {@link transactionsNeeded} decides from. */
export interface TransactionsInput {
  /** The connection's provider sends webhooks when account activity changes. */
  activityWebhooks: boolean;
  /** The trigger's reason. */
  reason: SyncRequest["reason"];
  /** When the connection's transactions were last fetched; null = never. */
  transactionsSyncedAt: Date | null;
  /** The connection's pending row (read at the start of the run) came from a transactions event. */
  pendingTransactions: boolean;
  /** The provider lists an account the connection did not have: its history was never fetched. */
  newAccount: boolean;
  /** The holdings TTL (`HOLDINGS_TTL_H`), which also bounds how old transactions may get. */
  ttlH: number;
  now: Date;
}

/**
 * Whether this sync fetches the connection's transactions, and why; null = it fetches
 * holdings only and leaves the stored transactions as they are.
 */
export function transactionsNeeded(i: TransactionsInput): TransactionsWhy | null {
  if (i.reason === "initial") return "initial";
  // Without activity webhooks (Alpaca, whose calls are not billed either), a refresh is the
  // only way a person sees new activity before the TTL.
  if (!i.activityWebhooks) return "no_webhooks";
  if (i.reason === "stale") return "stale";
  if (i.transactionsSyncedAt === null) return "never_synced";
  if (i.pendingTransactions) return "flagged";
  if (i.newAccount) return "new_account";
  if (i.now.getTime() - i.transactionsSyncedAt.getTime() >= i.ttlH * 3_600_000) return "expired";
  return null;
}
