/**
 * The zod schemas of the portfolio read model: what `readHoldings`, `listPendingUpdates` and
 * `requestRefresh` return. The api generates its OpenAPI document from them.
 * @module
 */
import { z } from "zod";
import { Decimal, Id, ProviderName, SecurityType, Timestamp } from "@meridian/proto";

/** A connection's status as the database holds it. */
export const ConnectionStatus = z.enum(["active", "error", "disabled"]);

/** Where a position's price comes from (see `pricing.ts`); null when it has none. */
export const PriceSource = z.enum(["live", "delayed", "provider"]);
export type PriceSource = z.infer<typeof PriceSource>;

/**
 * How a price was chosen, on every position and aggregated row: every position of one
 * instrument has the same price (see `pricing.ts` for the rules).
 */
const PriceFreshness = {
  /**
   * `live`/`delayed`: the instrument's quote in KV `last_prices` (real time, or polled or from
   * a delayed feed); `provider`: the last synced provider price of the instrument's most
   * recently synced position; null: no price at all.
   */
  price_source: PriceSource.nullable(),
  /** When the price was made: the quote's trade time, or that position's sync time. */
  price_time: Timestamp.nullable(),
  /**
   * Older than 15 minutes while its market trades: crypto always, anything else while the US
   * market is open (unknown market status: crypto only).
   */
  stale: z.boolean(),
};

/**
 * One position of one account, valued at its instrument's price: the live quote when there
 * is one, else the last price a provider synced for the instrument (see `pricing.ts`).
 */
export const AccountPositionView = z.object({
  id: Id,
  symbol: z.string(),
  name: z.string().nullable(),
  security_type: SecurityType,
  quantity: Decimal,
  /** The instrument's price, shared by every position of it; null when none is known. */
  price: Decimal.nullable(),
  /** The previous session's close that goes with `price`; null when unknown. */
  previous_close: Decimal.nullable(),
  ...PriceFreshness,
  /** The price this position's provider gave at its last sync (what `price` falls back to). */
  provider_price: Decimal.nullable(),
  /** The previous close this position's provider gave at its last sync. */
  provider_previous_close: Decimal.nullable(),
  /** quantity × price (× the contract multiplier for options); null when no price is known. */
  value: Decimal.nullable(),
  /**
   * quantity × (price − previous_close) (× the multiplier for options); null unless both
   * prices are known.
   */
  day_change: Decimal.nullable(),
  /**
   * day_change as a percentage of |quantity × previous_close × multiplier|, rounded half-up
   * to 2 places ("1.25"); null with day_change or when that value is zero.
   */
  day_change_percent: Decimal.nullable(),
  /** Total cost basis of the position, when the provider reports it. */
  cost_basis: Decimal.nullable(),
  /** value − cost_basis, when both are known. */
  unrealized_pl: Decimal.nullable(),
  currency: z.string().length(3),
  option_details: z.record(z.string(), z.unknown()).nullable(),
  synced_at: Timestamp,
  /** The security-master instrument this position is; null when it could not be resolved. */
  instrument_id: Id.nullable(),
  /** Why the position has no instrument (it keeps its provider's price); null when it has one. */
  unresolved_reason: z.string().nullable(),
  /** The instrument's market-data symbol (its key in `last_prices`); null without one. */
  instrument_symbol: z.string().nullable(),
  instrument_name: z.string().nullable(),
  /** The instrument's currency (a live quote applies only in its quote currency). */
  instrument_currency: z.string().length(3).nullable(),
});
export type AccountPositionView = z.infer<typeof AccountPositionView>;

/** One cash balance of one account. */
export const BalanceView = z.object({
  currency: z.string().length(3),
  cash: Decimal,
  buying_power: Decimal.nullable(),
  synced_at: Timestamp,
});
export type BalanceView = z.infer<typeof BalanceView>;

/** One account with its positions and balances. */
export const AccountView = z.object({
  id: Id,
  connection_id: Id,
  provider: ProviderName,
  institution: z.string(),
  name: z.string(),
  number_mask: z.string().nullable(),
  type: z.enum(["brokerage", "retirement", "crypto", "cash", "other"]),
  currency: z.string().length(3),
  status: z.enum(["open", "closed", "archived", "unavailable"]),
  can_trade: z.boolean(),
  synced_at: Timestamp,
  positions: z.array(AccountPositionView),
  balances: z.array(BalanceView),
});
export type AccountView = z.infer<typeof AccountView>;

/** One account's share of an aggregated position. */
export const PositionShareView = z.object({
  account_id: Id,
  connection_id: Id,
  provider: ProviderName,
  quantity: Decimal,
  price: Decimal.nullable(),
  previous_close: Decimal.nullable(),
  value: Decimal.nullable(),
  /** This account's day change; null when unknown. */
  day_change: Decimal.nullable(),
  cost_basis: Decimal.nullable(),
});
export type PositionShareView = z.infer<typeof PositionShareView>;

/**
 * One security held across accounts and providers, cash excluded: one entry per instrument,
 * and for positions without one, per symbol and currency.
 */
export const AggregatedPositionView = z.object({
  /** The instrument's market-data symbol (`BRK.B`, `BTC/USD`), else the provider's symbol. */
  symbol: z.string(),
  /** The instrument; null for positions that could not be resolved. */
  instrument_id: Id.nullable(),
  /** Why those positions have no instrument; null when there is one. */
  unresolved_reason: z.string().nullable(),
  name: z.string().nullable(),
  security_type: SecurityType,
  currency: z.string().length(3),
  quantity: Decimal,
  /** The instrument's price, the same in every account (see `pricing.ts`). */
  price: Decimal.nullable(),
  /** The previous close that goes with `price`. */
  previous_close: Decimal.nullable(),
  ...PriceFreshness,
  /** Sum of the accounts' values; null when no price is known. */
  value: Decimal.nullable(),
  /** Sum of the accounts' cost bases; null unless every account reports one. */
  cost_basis: Decimal.nullable(),
  /** Sum of the accounts' value − cost; null with cost_basis or value. */
  unrealized_pl: Decimal.nullable(),
  /** Sum of the day changes of the accounts that know theirs; null when none does. */
  day_change: Decimal.nullable(),
  /** day_change as a percentage of those accounts' previous-close value, 2 places. */
  day_change_percent: Decimal.nullable(),
  /** Accounts holding the symbol whose share has no day change (left out of day_change). */
  day_change_unknown_accounts: z.number().int().nonnegative(),
  providers: z.array(ProviderName),
  accounts: z.array(PositionShareView),
});
export type AggregatedPositionView = z.infer<typeof AggregatedPositionView>;

/** Cash in one currency across accounts. */
export const CashView = z.object({
  currency: z.string().length(3),
  amount: Decimal,
  accounts: z.array(z.object({ account_id: Id, provider: ProviderName, amount: Decimal })),
});
export type CashView = z.infer<typeof CashView>;

/** Totals in one currency (no FX conversion: Meridian has no FX data). */
export const CurrencyTotalView = z.object({
  currency: z.string().length(3),
  /** Sum of the values of priced positions. */
  positions_value: Decimal,
  cash: Decimal,
  /** positions_value + cash. */
  total: Decimal,
  /** Sum of the cost bases of positions that report one. */
  cost_basis: Decimal,
  /** Sum of unrealized P/L over positions where value and cost basis are both known. */
  unrealized_pl: Decimal,
  /** Positions left out of positions_value because no price is known. */
  unpriced_positions: z.number().int().nonnegative(),
  /**
   * Sum of the day changes of the positions (per account) that know theirs; null when none
   * does. Positions without a previous close are left out, never counted as unchanged.
   */
  day_change: Decimal.nullable(),
  /**
   * day_change as a percentage of those positions' previous-close value, rounded half-up to
   * 2 places; null with day_change.
   */
  day_change_percent: Decimal.nullable(),
  /**
   * How many positions (per account, cash excluded) day_change covers, of how many. Cash
   * equivalents without a previous close are not counted: their price does not move.
   */
  day_change_coverage: z.object({
    known: z.number().int().nonnegative(),
    of: z.number().int().nonnegative(),
  }),
});
export type CurrencyTotalView = z.infer<typeof CurrencyTotalView>;

/**
 * The totals in the user's base currency: each currency's total converted with the latest FX
 * reference rates (through EUR, not rounded) and summed. A currency without a rate is left
 * out and listed, never counted at a guessed rate.
 */
export const BaseTotalView = z.object({
  currency: z.string().length(3),
  positions_value: Decimal,
  cash: Decimal,
  /** positions_value + cash. */
  total: Decimal,
  /** The reference rates' date; null when nothing needed converting or no rates are stored. */
  fx_date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).nullable(),
  /** Currencies held that could not be converted (no rate): not in the sums above. */
  unconverted: z.array(z.string().length(3)),
  /**
   * Base-currency units per 1 unit of each currency held (and of the base itself) that has a
   * rate, to 20 significant digits: for showing a row's value in the base currency.
   */
  rates: z.record(z.string().length(3), Decimal),
  /**
   * The reference rates (units per 1 EUR) of those currencies that the totals above were
   * converted with, so the view can be re-priced without the database.
   */
  eur_rates: z.record(z.string().length(3), Decimal),
});
export type BaseTotalView = z.infer<typeof BaseTotalView>;

/** One connection's freshness and health. */
export const ConnectionSummaryView = z.object({
  id: Id,
  institution: z.string(),
  status: ConnectionStatus,
  status_reason: z.string().nullable(),
  warning: z.string().nullable(),
  last_synced: Timestamp.nullable(),
  has_pending_updates: z.boolean(),
});
export type ConnectionSummaryView = z.infer<typeof ConnectionSummaryView>;

/** Per provider: freshness and pending updates. */
export const ProviderSummaryView = z.object({
  provider: ProviderName,
  /** The oldest last sync among the provider's connections; null if any never synced. */
  last_synced: Timestamp.nullable(),
  has_pending_updates: z.boolean(),
  connections: z.array(ConnectionSummaryView),
});
export type ProviderSummaryView = z.infer<typeof ProviderSummaryView>;

/**
 * Everything `GET /api/holdings` shows: the rows of PostgreSQL, valued at the live quotes of
 * KV `last_prices` when there are any (else the providers' synced prices).
 */
export const HoldingsView = z.object({
  user_id: Id,
  generated_at: Timestamp,
  accounts: z.array(AccountView),
  positions: z.array(AggregatedPositionView),
  cash: z.array(CashView),
  totals: z.array(CurrencyTotalView),
  base: BaseTotalView,
  providers: z.array(ProviderSummaryView),
});
export type HoldingsView = z.infer<typeof HoldingsView>;

/** One connection with updates waiting for a refresh. */
export const PendingUpdateView = z.object({
  connection_id: Id,
  provider: ProviderName,
  institution: z.string(),
  since: Timestamp,
  last_event_at: Timestamp,
  events: z.number().int().positive(),
  reason: z.string(),
});
export type PendingUpdateView = z.infer<typeof PendingUpdateView>;

/** `GET /api/pending-updates`. */
export const PendingUpdatesView = z.object({
  user_id: Id,
  has_pending_updates: z.boolean(),
  connections: z.array(PendingUpdateView),
});
export type PendingUpdatesView = z.infer<typeof PendingUpdatesView>;

/** What `requestRefresh` did. */
export const RefreshResult = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("accepted"),
    /** One request id per provider requested. */
    request_ids: z.array(Id),
    requests: z.array(z.object({
      provider: ProviderName,
      request_id: Id,
      connection_ids: z.array(Id),
    })),
    connections: z.array(z.object({ connection_id: Id, provider: ProviderName })),
    /** Providers left out because they are cooling down. */
    cooldown: z.array(z.object({ provider: ProviderName, retry_after_s: z.number().int() })),
  }),
  z.object({ kind: z.literal("cooldown"), retry_after_s: z.number().int().positive() }),
  z.object({ kind: z.literal("up_to_date") }),
]);
export type RefreshResult = z.infer<typeof RefreshResult>;
