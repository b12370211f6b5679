/**
 * The one interface every provider adapter implements. An adapter opens a session for one
 * connection (its decrypted credentials and a call recorder); every method of the session
 * makes its provider calls through `providerCall`, so they are limited, timed and counted.
 * @module
 */
import type { Provider } from "@meridian/proto";
import type {
  NormAccount,
  NormBalance,
  NormPosition,
  NormTransaction,
} from "../normalise/common.ts";
import type { CallRecorder } from "./call.ts";

/** Decrypted credentials of one connection, never logged. */
export type Credentials =
  | { provider: "snaptrade"; userId: string; userSecret: string; authorizationId: string }
  | { provider: "plaid"; accessToken: string; itemId: string }
  | { provider: "alpaca"; keyId: string; secret: string; paper: boolean };

/** What one connection can be asked. */
export interface ProviderSession {
  readonly provider: Provider;
  /** The connection's accounts. */
  listAccounts(): Promise<NormAccount[]>;
  positions(account: NormAccount): Promise<NormPosition[]>;
  balances(account: NormAccount): Promise<NormBalance[]>;
  /** Transactions on or after `since` (YYYY-MM-DD). */
  transactions(account: NormAccount, since: string): Promise<NormTransaction[]>;
}

/** A provider adapter: builds sessions for connections. */
export interface ProviderAdapter {
  readonly provider: Provider;
  /** A session for one connection; `recorder` collects its calls for the sync_runs row. */
  session(credentials: Credentials, recorder?: CallRecorder, canTrade?: boolean): ProviderSession;
}
