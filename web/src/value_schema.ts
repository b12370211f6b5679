/**
 * The `value` event's schema as the dashboard checks it: proto's `PortfolioValue`
 * (`@meridian/proto/value`) restated with `zod/mini`. proto's schema is browser-safe, but
 * classic zod cannot be tree-shaken: bundling it took the dashboard from ~90 KB to ~560 KB
 * (every locale and the JSON Schema code). zod/mini costs a few KB. `value_schema_test.ts`
 * checks that the two accept the same messages, and the type below must stay assignable to
 * proto's (a compile error otherwise).
 * @module
 */
import * as z from "zod/mini";
import type { PortfolioValue as ProtoValue } from "@meridian/proto/value";

const Decimal = z.string().check(z.regex(/^-?\d+(\.\d+)?$/));
const Timestamp = z.iso.datetime({ offset: true });
const Currency = z.string().check(z.regex(/^[A-Z]{3}$/));
const Count = z.int().check(z.minimum(0));
const Symbol = z.string().check(z.regex(/^[A-Z0-9][A-Z0-9./]{0,63}$/));

/** `portfolio.value.<userId>`: see `PortfolioValue` in proto/value.ts for every field. */
export const PortfolioValue = z.object({
  user_id: z.uuid(),
  time: Timestamp,
  seq: Count,
  currency: Currency,
  total: Decimal,
  positions_value: Decimal,
  cash: Decimal,
  totals: z.array(z.object({
    currency: Currency,
    positions_value: Decimal,
    cash: Decimal,
    total: Decimal,
    base_total: z.nullable(Decimal),
  })),
  accounts: z.array(z.object({
    account_id: z.uuid(),
    value: Decimal,
    native: z.array(z.object({ currency: Currency, value: Decimal })),
    day_change: Decimal,
  })),
  day_change: z.object({
    amount: Decimal,
    percent: z.nullable(Decimal),
    covered: Count,
    positions: Count,
  }),
  unrealized_pl: z.object({
    amount: Decimal,
    cost_basis: Decimal,
    covered: Count,
    positions: Count,
  }),
  prices: z.object({
    as_of: z.nullable(Timestamp),
    live: Count,
    delayed: Count,
    stale: Count,
    provider: Count,
    unpriced: Count,
    market: z.enum(["open", "closed", "unknown"]),
  }),
  fx: z.object({
    date: z.nullable(z.string().check(z.regex(/^\d{4}-\d{2}-\d{2}$/))),
    unconverted: z.array(Currency),
  }),
  quotes: z.record(Symbol, z.tuple([Decimal, z.nullable(Decimal), Timestamp, z.boolean()])),
});
export type PortfolioValue = z.infer<typeof PortfolioValue>;

// The dashboard's value is proto's, field for field: this fails to compile if they drift.
const _sameShape: (v: PortfolioValue) => ProtoValue = (v) => v;
const _sameShapeBack: (v: ProtoValue) => PortfolioValue = (v) => v;
void _sameShape;
void _sameShapeBack;
