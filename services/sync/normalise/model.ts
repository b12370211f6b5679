/**
 * The one model every provider's data is normalised into. Types only, plus the error raised
 * when provider data does not fit it.
 *
 * Sign convention for transaction `amount`: positive means cash came into the account
 * (sell, dividend, deposit), negative means cash left it (buy, fee, withdrawal).
 * `cost_basis` of a position is the total cost of the whole position, not per unit.
 * @module
 */
import type { SECURITY_TYPES, TRANSACTION_TYPES } from "@meridian/proto";

/** One of the security types Meridian distinguishes. */
export type SecurityType = typeof SECURITY_TYPES[number];

/** One of the transaction types Meridian distinguishes (`TRANSACTION_TYPES` in proto). */
export type TransactionType = typeof TRANSACTION_TYPES[number];

/** Account types (the `accounts.type` check constraint). */
export type AccountType = "brokerage" | "retirement" | "crypto" | "cash" | "other";
/** Account statuses (the `accounts.status` check constraint). */
export type AccountStatus = "open" | "closed" | "archived" | "unavailable";

/** Contract details of an option position (`positions.option_details`). */
export interface OptionDetails {
  underlying: string;
  strike: string;
  /** YYYY-MM-DD */
  expiration: string;
  option_type: "call" | "put";
  multiplier: string;
}

/** A security as Meridian models it, whatever the provider called it. */
export interface Security {
  symbol: string;
  name: string | null;
  type: SecurityType;
  currency: string;
  option_details: OptionDetails | null;
  /** The provider's own id of the security, when it has one. */
  provider_security_id: string | null;
}

/** A normalised account. */
export interface NormAccount {
  external_id: string;
  name: string;
  number_mask: string | null;
  type: AccountType;
  currency: string;
  status: AccountStatus;
  can_trade: boolean;
}

/** A normalised position. Decimals are exact strings. */
export interface NormPosition {
  account_external_id: string;
  symbol: string;
  name: string | null;
  security_type: SecurityType;
  quantity: string;
  price: string | null;
  /**
   * The previous trading session's close, paired with `price` for the day change; null when
   * the provider gives none (SnapTrade), and always for cash and cash equivalents.
   */
  previous_close: string | null;
  cost_basis: string | null;
  currency: string;
  option_details: OptionDetails | null;
  provider_security_id: string | null;
}

/** A normalised cash balance of one account in one currency. */
export interface NormBalance {
  account_external_id: string;
  currency: string;
  cash: string;
  buying_power: string | null;
}

/** A normalised transaction. */
export interface NormTransaction {
  account_external_id: string;
  external_id: string;
  type: TransactionType;
  symbol: string | null;
  description: string | null;
  quantity: string | null;
  price: string | null;
  amount: string;
  fee: string | null;
  currency: string;
  /** YYYY-MM-DD */
  trade_date: string;
  settlement_date: string | null;
}

/** Everything one connection holds, ready to replace its rows. */
export interface Snapshot {
  accounts: NormAccount[];
  positions: NormPosition[];
  balances: NormBalance[];
  /** null = not fetched this time: the stored transactions stay as they are. */
  transactions: NormTransaction[] | null;
}

/** Raised when provider data cannot be normalised (a bad number, a missing field). */
export class NormaliseError extends Error {
  override name = "NormaliseError";
}
