/**
 * A user's holdings as valuation loads them from PostgreSQL, prepared for valuing with the
 * api's pricing rules.
 * @module
 */
import type { SecurityType } from "@meridian/proto";
import {
  multiplier,
  NO_MARKET,
  type PositionRow,
  pricePositions,
  quoteApplies,
} from "@meridian/portfolio";

/** One position row with its instrument, as read (the api's row, less what only it shows). */
export type PositionInput = Pick<
  PositionRow,
  | "id"
  | "account_id"
  | "symbol"
  | "security_type"
  | "quantity"
  | "price"
  | "previous_close"
  | "cost_basis"
  | "currency"
  | "option_details"
  | "synced_at"
  | "instrument_id"
  | "instrument_symbol"
  | "instrument_currency"
>;

/** One cash balance row. */
export interface BalanceInput {
  account_id: string;
  currency: string;
  cash: string;
}

/** Everything valuation needs of one user. */
export interface UserHoldings {
  user_id: string;
  base_currency: string;
  account_ids: string[];
  positions: PositionInput[];
  balances: BalanceInput[];
}

/** A position ready to value: its quote (if one applies) and the provider's price otherwise. */
export interface ValuedPosition {
  account_id: string;
  currency: string;
  security_type: SecurityType;
  quantity: string;
  /** 1, or an option's contract multiplier. */
  multiplier: string;
  cost_basis: string | null;
  /** The market-data symbol whose live quote values this position, or null. */
  quote_symbol: string | null;
  /** The price and previous close of the key's most recently synced priced position. */
  provider_price: string | null;
  provider_previous_close: string | null;
  /** When that position was synced (ms). */
  provider_time: number | null;
}

/**
 * Prepares a user's positions (cash positions are left out: balances carry cash) with the
 * api's own pricing rules (portfolio/pricing.ts): whether a live quote may value each, and,
 * for when none does, the provider price every position of its key shares (the most recently
 * synced priced one), so the accounts of one security never disagree on its price.
 */
export function preparePositions(positions: readonly PositionInput[]): ValuedPosition[] {
  const provider = pricePositions(positions, NO_MARKET, new Date());
  const out: ValuedPosition[] = [];
  for (const p of positions) {
    if (p.security_type === "cash") continue;
    const applied = provider.get(p.id);
    out.push({
      account_id: p.account_id,
      currency: p.currency,
      security_type: p.security_type,
      quantity: p.quantity,
      multiplier: multiplier(p).toFixed(),
      cost_basis: p.cost_basis,
      quote_symbol: quoteApplies(p) ? p.instrument_symbol : null,
      provider_price: applied?.price ?? null,
      provider_previous_close: applied?.previous_close ?? null,
      provider_time: applied?.time ? Date.parse(applied.time) : null,
    });
  }
  return out;
}
