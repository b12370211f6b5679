/**
 * The scalar schemas every message uses and the `portfolio.value.<userId>` message, apart from
 * `messages.ts` so that the dashboard can bundle them (`@meridian/proto/value`): zod only, no
 * `node:crypto` or any other server-only import. `messages.ts` re-exports all of it.
 * @module
 */
import { z } from "zod";

/** An exact decimal number as a string, e.g. `"-12.5"`. */
export const Decimal = z.string().regex(/^-?\d+(\.\d+)?$/, "expected a decimal string");
/** An ISO-8601 timestamp with offset. */
export const Timestamp = z.iso.datetime({ offset: true });
/** A database id. */
export const Id = z.uuid();

/** A market-data symbol in Alpaca's convention (`AAPL`, `BRK.B`, `BTC/USD`, compact OCC). */
export const MarketSymbol = z.string().regex(
  /^[A-Z0-9][A-Z0-9./]{0,63}$/,
  "expected a market-data symbol (A-Z, 0-9, '.', '/')",
);

/** An ISO 4217 currency code. */
export const CurrencyCode = z.string().regex(/^[A-Z]{3}$/, "expected a three-letter currency code");

/**
 * A live price as valuation applied it (KV `last_prices` and `prices.<SYMBOL>` folded
 * together), as a tuple: `[price, previous_close, time, delayed]`. The previous close is the
 * previous session's, when known (what day change is measured against); the time is the
 * trade's at the exchange. A tuple, not an object: a value carries one per held instrument,
 * and the field names were half of a 50-position message.
 */
export const ValueQuote = z.tuple([Decimal, Decimal.nullable(), Timestamp, z.boolean()]);
export type ValueQuote = z.infer<typeof ValueQuote>;

/**
 * `portfolio.value.<userId>` (and its last value in KV `portfolio_values`): a user's portfolio
 * valued at `time`. Every amount without its own `currency` is in the user's base currency
 * `currency`; amounts in another currency are converted through the ECB's reference rates of
 * `fx.date`, and a currency without a rate is named in `fx.unconverted` and left out of the
 * base amounts (never added unconverted).
 */
export const PortfolioValue = z.object({
  user_id: Id,
  /** When the value was computed. */
  time: Timestamp,
  /**
   * Strictly increasing per user, across valuation instances too: older messages can be
   * dropped. Valuation uses the value's time in ms when that is above the last seq + 1.
   */
  seq: z.number().int().nonnegative(),
  /** The user's base currency. */
  currency: CurrencyCode,
  /** Positions and cash of every account, in the base currency. */
  total: Decimal,
  positions_value: Decimal,
  cash: Decimal,
  /** Native totals per currency, each with its base-currency equivalent (null: no rate). */
  totals: z.array(z.object({
    currency: CurrencyCode,
    positions_value: Decimal,
    cash: Decimal,
    total: Decimal,
    base_total: Decimal.nullable(),
  })),
  accounts: z.array(z.object({
    account_id: Id,
    /** The account's positions and cash in the base currency. */
    value: Decimal,
    /** The account's value in each currency it holds. */
    native: z.array(z.object({ currency: CurrencyCode, value: Decimal })),
    /** The account's day change in the base currency, over its positions that have one. */
    day_change: Decimal,
  })),
  /**
   * Against each instrument's previous close, over the `covered` of `positions` priced
   * positions that have one; `percent` (2 places) is of those positions' previous value.
   */
  day_change: z.object({
    amount: Decimal,
    percent: Decimal.nullable(),
    covered: z.number().int().nonnegative(),
    positions: z.number().int().nonnegative(),
  }),
  /** Value minus cost over the `covered` of `positions` priced positions with a known cost. */
  unrealized_pl: z.object({
    amount: Decimal,
    cost_basis: Decimal,
    covered: z.number().int().nonnegative(),
    positions: z.number().int().nonnegative(),
  }),
  /** How fresh the prices behind the value are. */
  prices: z.object({
    /** The newest price time among the positions (null: none has a live price). */
    as_of: Timestamp.nullable(),
    /** Positions valued at a real-time price. */
    live: z.number().int().nonnegative(),
    /** Positions valued at a delayed (polled or delayed-feed) price. */
    delayed: z.number().int().nonnegative(),
    /** Positions whose price is older than the staleness limit while its market trades. */
    stale: z.number().int().nonnegative(),
    /** Positions valued at the provider's last synced price (no live price for them). */
    provider: z.number().int().nonnegative(),
    /** Positions without any price, left out of every amount. */
    unpriced: z.number().int().nonnegative(),
    /** The US equity market, from the provider's clock (unknown until it has been read). */
    market: z.enum(["open", "closed", "unknown"]),
  }),
  fx: z.object({
    /** The ECB reference rates' date, when any amount was converted. */
    date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).nullable(),
    unconverted: z.array(CurrencyCode),
  }),
  /** The live price of each held instrument that has one, by market-data symbol. */
  quotes: z.record(MarketSymbol, ValueQuote),
});
export type PortfolioValue = z.infer<typeof PortfolioValue>;
