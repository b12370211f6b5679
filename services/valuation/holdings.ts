/**
 * A user's holdings as valuation loads them from PostgreSQL, and the rule that gives every
 * position of one security the same price when no live quote applies.
 * @module
 */
import { quoteCurrency, type SecurityType } from "@meridian/proto";

/** One position row with its instrument, as read. */
export interface PositionInput {
  id: string;
  account_id: string;
  symbol: string;
  security_type: SecurityType;
  quantity: string;
  price: string | null;
  previous_close: string | null;
  cost_basis: string | null;
  currency: string;
  option_details: Record<string, unknown> | null;
  synced_at: Date;
  instrument_id: string | null;
  instrument_symbol: string | null;
  instrument_currency: string | null;
}

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

/** An option's multiplier from its details (100 when not given), 1 for anything else. */
export function multiplierOf(
  p: Pick<PositionInput, "security_type" | "option_details">,
): string {
  if (p.security_type !== "option") return "1";
  const m = p.option_details?.multiplier;
  if (typeof m === "number" && Number.isFinite(m) && m > 0) return String(m);
  if (typeof m === "string" && /^\d+(\.\d+)?$/.test(m)) return m;
  return "100";
}

/**
 * Prepares a user's positions (cash positions are left out: balances carry cash). A live quote
 * applies when the position has an instrument and both are in the quote's currency. Without
 * one, every position of the same key (instrument, else symbol and currency) takes the price
 * and previous close of the key's most recently synced priced position (ties: smaller id), so
 * the accounts of one security never disagree on its price.
 */
export function preparePositions(positions: readonly PositionInput[]): ValuedPosition[] {
  const freshest = new Map<string, PositionInput>();
  const keyOf = (p: PositionInput) => p.instrument_id ?? `${p.symbol}\u0000${p.currency}`;
  for (const p of positions) {
    if (p.price === null) continue;
    const key = keyOf(p);
    const best = freshest.get(key);
    const t = p.synced_at.getTime();
    if (
      !best || t > best.synced_at.getTime() ||
      (t === best.synced_at.getTime() && p.id < best.id)
    ) freshest.set(key, p);
  }
  const out: ValuedPosition[] = [];
  for (const p of positions) {
    if (p.security_type === "cash") continue;
    const source = freshest.get(keyOf(p));
    const quoted = p.instrument_symbol !== null && p.instrument_currency !== null &&
      quoteCurrency(p.instrument_symbol) === p.instrument_currency &&
      p.currency === p.instrument_currency;
    out.push({
      account_id: p.account_id,
      currency: p.currency,
      security_type: p.security_type,
      quantity: p.quantity,
      multiplier: multiplierOf(p),
      cost_basis: p.cost_basis,
      quote_symbol: quoted ? p.instrument_symbol : null,
      provider_price: source?.price ?? null,
      provider_previous_close: source?.previous_close ?? null,
      provider_time: source ? source.synced_at.getTime() : null,
    });
  }
  return out;
}
