/**
 * Pure aggregation of a user's rows into the holdings view: exact decimal arithmetic, no I/O.
 * Prices follow the rules of `pricing.ts` (one price per instrument); a symbol's row is the
 * sum of its account rows and a currency's total the sum of its rows.
 *
 * Browser-safe (the dashboard bundles it through `reprice.ts`): decimal.js and types only.
 * @module
 */
import type { Decimal } from "decimal.js";
import type { Provider } from "@meridian/proto";
import { decimalString, Exact, percentOf } from "./exact.ts";
import { convert, crossRate } from "./fx_cross.ts";
import type { FxRates } from "./fx_rates.ts";
import { type AppliedPrice, type MarketPrices, NO_MARKET, pricePositions } from "./pricing.ts";
import type {
  AccountPositionView,
  AccountView,
  AggregatedPositionView,
  BaseTotalView,
  CashView,
  ConnectionSummaryView,
  CurrencyTotalView,
  HoldingsView,
  ProviderSummaryView,
} from "./views.ts";

/** A connection row as the aggregation needs it. */
export interface ConnectionSummaryRow {
  id: string;
  provider: Provider;
  institution: string;
  status: "active" | "error" | "disabled";
  status_reason: string | null;
  warning: string | null;
  last_synced_at: Date | null;
  pending_since: Date | null;
}

/** An account row. */
export interface AccountRow {
  id: string;
  connection_id: string;
  provider: Provider;
  name: string;
  number_mask: string | null;
  type: AccountView["type"];
  currency: string;
  status: AccountView["status"];
  can_trade: boolean;
  synced_at: Date;
}

/** A position row (NUMERIC columns as strings). */
export interface PositionRow {
  id: string;
  account_id: string;
  symbol: string;
  name: string | null;
  security_type: AccountPositionView["security_type"];
  quantity: string;
  price: string | null;
  /** The provider's close of the previous session; null = unknown. */
  previous_close: string | null;
  cost_basis: string | null;
  currency: string;
  option_details: Record<string, unknown> | null;
  synced_at: Date;
  /** The position's instrument; null when it has none, and `unresolved_reason` says why. */
  instrument_id: string | null;
  /** The instrument's market-data symbol, name and currency (null without an instrument). */
  instrument_symbol: string | null;
  instrument_name: string | null;
  instrument_currency: string | null;
  unresolved_reason: string | null;
}

/** A balance row. */
export interface BalanceRow {
  account_id: string;
  currency: string;
  cash: string;
  buying_power: string | null;
  synced_at: Date;
}

/** Everything {@link aggregateHoldings} reads. */
export interface HoldingsRows {
  connections: ConnectionSummaryRow[];
  accounts: AccountRow[];
  positions: PositionRow[];
  balances: BalanceRow[];
}

const PROVIDER_ORDER: Provider[] = ["snaptrade", "plaid", "alpaca"];

export { decimalString, percentOf };

/** An option's contract multiplier (`option_details.multiplier`, default 100); 1 otherwise. */
export function multiplier(p: Pick<PositionRow, "security_type" | "option_details">): Decimal {
  if (p.security_type !== "option") return new Exact(1);
  const m = p.option_details?.multiplier;
  if (typeof m === "number" || (typeof m === "string" && /^\d+(\.\d+)?$/.test(m))) {
    return new Exact(m);
  }
  return new Exact(100);
}

/** quantity × price (× multiplier for options), or null without a price. */
export function positionValue(
  p: Pick<PositionRow, "quantity" | "price" | "security_type" | "option_details">,
): Decimal | null {
  if (p.price === null) return null;
  return new Exact(p.quantity).times(p.price).times(multiplier(p));
}

/**
 * quantity × (price − previous_close) (× multiplier for options), or null when either price is
 * unknown.
 */
export function positionDayChange(
  p: Pick<
    PositionRow,
    "quantity" | "price" | "previous_close" | "security_type" | "option_details"
  >,
): Decimal | null {
  if (p.price === null || p.previous_close === null) return null;
  return new Exact(p.quantity).times(new Exact(p.price).minus(p.previous_close))
    .times(multiplier(p));
}

/** |quantity × previous_close × multiplier|: what a day change is a percentage of. */
function previousValue(
  p: Pick<PositionRow, "quantity" | "previous_close" | "security_type" | "option_details">,
): Decimal {
  if (p.previous_close === null) return new Exact(0);
  return new Exact(p.quantity).times(p.previous_close).times(multiplier(p)).abs();
}

/** The user's base currency and the latest FX reference rates (null: none stored). */
export interface BaseCurrency {
  currency: string;
  fx: FxRates | null;
}

/** Converts each currency's totals into the base currency and sums them. */
export function baseTotals(
  totals: readonly CurrencyTotalView[],
  base: BaseCurrency,
): BaseTotalView {
  let pv = new Exact(0);
  let cash = new Exact(0);
  let converted = false;
  const unconverted: string[] = [];
  for (const t of totals) {
    if (t.currency === base.currency) {
      pv = pv.plus(t.positions_value);
      cash = cash.plus(t.cash);
      continue;
    }
    const rates = base.fx?.rates ?? new Map<string, string>();
    const tpv = convert(t.positions_value, t.currency, base.currency, rates);
    const tcash = convert(t.cash, t.currency, base.currency, rates);
    if (tpv === null || tcash === null) {
      unconverted.push(t.currency);
      continue;
    }
    converted = true;
    pv = pv.plus(tpv);
    cash = cash.plus(tcash);
  }
  // The rates behind those sums, for the currencies held and the base: to show a row in the
  // base currency, and to convert the same way again when the view is re-priced.
  const perEur = base.fx?.rates ?? new Map<string, string>();
  const rates: Record<string, string> = {};
  const eurRates: Record<string, string> = {};
  for (const c of new Set([base.currency, ...totals.map((t) => t.currency)])) {
    const r = c === base.currency ? new Exact(1) : crossRate(perEur, c, base.currency);
    if (r !== null) rates[c] = decimalString(r);
    const e = perEur.get(c);
    if (e !== undefined) eurRates[c] = decimalString(new Exact(e));
  }
  return {
    currency: base.currency,
    positions_value: decimalString(pv),
    cash: decimalString(cash),
    total: decimalString(pv.plus(cash)),
    fx_date: converted ? base.fx?.date ?? null : null,
    unconverted,
    rates,
    eur_rates: eurRates,
  };
}

/**
 * Builds the holdings view from a user's rows, valued at `market`'s quotes where they apply
 * (else the providers' prices; see `pricing.ts`); `now` dates the view and decides staleness.
 * Ordering is deterministic.
 */
export function aggregateHoldings(
  userId: string,
  rows: HoldingsRows,
  now: Date,
  base: BaseCurrency = { currency: "USD", fx: null },
  market: MarketPrices = NO_MARKET,
): HoldingsView {
  const conns = new Map(rows.connections.map((c) => [c.id, c]));
  const accounts: AccountView[] = [...rows.accounts]
    .sort((a, b) =>
      PROVIDER_ORDER.indexOf(a.provider) - PROVIDER_ORDER.indexOf(b.provider) ||
      a.name.localeCompare(b.name) || a.id.localeCompare(b.id)
    )
    .map((a) => ({
      id: a.id,
      connection_id: a.connection_id,
      provider: a.provider,
      institution: conns.get(a.connection_id)?.institution ?? "",
      name: a.name,
      number_mask: a.number_mask,
      type: a.type,
      currency: a.currency,
      status: a.status,
      can_trade: a.can_trade,
      synced_at: a.synced_at.toISOString(),
      positions: [],
      balances: [],
    }));
  const byAccount = new Map(accounts.map((a) => [a.id, a]));

  // Aggregated positions keyed by instrument (one currency each), else by symbol and
  // currency (no FX: never mix currencies). Every position of a key has the same price.
  interface Agg {
    view: AggregatedPositionView;
    qty: Decimal;
    /** Sums of the accounts' values, costs (null once one is unknown) and P/L. */
    value: Decimal | null;
    cost: Decimal | null;
    pl: Decimal | null;
    /** Sum of the accounts' known day changes, and of their previous-close values. */
    day: Decimal | null;
    dayBase: Decimal;
  }
  const aggs = new Map<string, Agg>();
  const totals = new Map<string, {
    pv: Decimal;
    cash: Decimal;
    cost: Decimal;
    pl: Decimal;
    unpriced: number;
    day: Decimal;
    dayBase: Decimal;
    dayKnown: number;
    dayOf: number;
  }>();
  const total = (cur: string) => {
    let t = totals.get(cur);
    if (!t) {
      t = {
        pv: new Exact(0),
        cash: new Exact(0),
        cost: new Exact(0),
        pl: new Exact(0),
        unpriced: 0,
        day: new Exact(0),
        dayBase: new Exact(0),
        dayKnown: 0,
        dayOf: 0,
      };
      totals.set(cur, t);
    }
    return t;
  };

  const positions = rows.positions.filter((p) => byAccount.has(p.account_id))
    .sort((a, b) => a.symbol.localeCompare(b.symbol) || a.id.localeCompare(b.id));
  const prices = pricePositions(positions, market, now);
  for (const p of positions) {
    const account = byAccount.get(p.account_id)!;
    const applied: AppliedPrice = prices.get(p.id)!;
    const priced = { ...p, price: applied.price, previous_close: applied.previous_close };
    const value = positionValue(priced);
    const cost = p.cost_basis === null ? null : new Exact(p.cost_basis);
    const pl = value !== null && cost !== null ? value.minus(cost) : null;
    const day = positionDayChange(priced);
    const dayBase = day === null ? new Exact(0) : previousValue(priced);
    const quantity = decimalString(new Exact(p.quantity));
    const freshness = {
      price_source: applied.source,
      price_time: applied.time,
      stale: applied.stale,
    };
    account.positions.push({
      id: p.id,
      symbol: p.symbol,
      name: p.name,
      security_type: p.security_type,
      quantity,
      price: applied.price,
      previous_close: applied.previous_close,
      ...freshness,
      provider_price: p.price === null ? null : decimalString(new Exact(p.price)),
      provider_previous_close: p.previous_close === null
        ? null
        : decimalString(new Exact(p.previous_close)),
      value: value === null ? null : decimalString(value),
      day_change: day === null ? null : decimalString(day),
      day_change_percent: day === null ? null : percentOf(day, dayBase),
      cost_basis: cost === null ? null : decimalString(cost),
      unrealized_pl: pl === null ? null : decimalString(pl),
      currency: p.currency,
      option_details: p.option_details,
      synced_at: p.synced_at.toISOString(),
      instrument_id: p.instrument_id,
      unresolved_reason: p.unresolved_reason,
      instrument_symbol: p.instrument_symbol,
      instrument_name: p.instrument_name,
      instrument_currency: p.instrument_currency,
    });
    // Cash held as a position is reported through balances; keep it out of the aggregate.
    if (p.security_type === "cash") continue;

    // Day-change coverage counts every position that could have one: a cash equivalent
    // without a previous close is left out (its price does not move; normalisers never give
    // it one), any other position without one counts as unknown.
    if (day !== null || p.security_type !== "cash_equivalent") {
      const t = total(p.currency);
      t.dayOf++;
      if (day !== null) {
        t.dayKnown++;
        t.day = t.day.plus(day);
        t.dayBase = t.dayBase.plus(dayBase);
      }
    }

    // One row per instrument, so the same security held through different providers (or
    // spelled differently by them) is one row; positions without one by symbol and currency.
    const key = p.instrument_id ?? `${p.symbol}\u0000${p.currency}`;
    let agg = aggs.get(key);
    if (!agg) {
      agg = {
        view: {
          symbol: p.instrument_symbol ?? p.symbol,
          instrument_id: p.instrument_id,
          unresolved_reason: p.unresolved_reason,
          name: p.instrument_name ?? p.name,
          security_type: p.security_type,
          currency: p.currency,
          quantity: "0",
          price: applied.price,
          previous_close: applied.previous_close,
          ...freshness,
          value: null,
          cost_basis: null,
          unrealized_pl: null,
          day_change: null,
          day_change_percent: null,
          day_change_unknown_accounts: 0,
          providers: [],
          accounts: [],
        },
        qty: new Exact(0),
        value: new Exact(0),
        cost: new Exact(0),
        pl: new Exact(0),
        day: null,
        dayBase: new Exact(0),
      };
      aggs.set(key, agg);
    }
    agg.qty = agg.qty.plus(p.quantity);
    // A key's positions are all priced or all unpriced (one price per key).
    agg.value = agg.value === null || value === null ? null : agg.value.plus(value);
    agg.cost = agg.cost === null || cost === null ? null : agg.cost.plus(cost);
    agg.pl = agg.pl === null || pl === null ? null : agg.pl.plus(pl);
    if (day === null) agg.view.day_change_unknown_accounts++;
    else {
      agg.day = (agg.day ?? new Exact(0)).plus(day);
      agg.dayBase = agg.dayBase.plus(dayBase);
    }
    agg.view.name ??= p.name;
    if (!agg.view.providers.includes(account.provider)) agg.view.providers.push(account.provider);
    agg.view.accounts.push({
      account_id: account.id,
      connection_id: account.connection_id,
      provider: account.provider,
      quantity,
      price: applied.price,
      previous_close: applied.previous_close,
      value: value === null ? null : decimalString(value),
      day_change: day === null ? null : decimalString(day),
      cost_basis: cost === null ? null : decimalString(cost),
    });
  }

  const aggregated: AggregatedPositionView[] = [];
  for (const agg of aggs.values()) {
    const v = agg.view;
    v.quantity = decimalString(agg.qty);
    const t = total(v.currency);
    if (agg.value !== null) {
      v.value = decimalString(agg.value);
      t.pv = t.pv.plus(agg.value);
      if (agg.pl !== null) {
        v.unrealized_pl = decimalString(agg.pl);
        t.pl = t.pl.plus(agg.pl);
      }
    } else {
      t.unpriced++;
    }
    if (agg.cost !== null) {
      v.cost_basis = decimalString(agg.cost);
      t.cost = t.cost.plus(agg.cost);
    }
    if (agg.day !== null) {
      v.day_change = decimalString(agg.day);
      v.day_change_percent = percentOf(agg.day, agg.dayBase);
    }
    v.providers.sort((a, b) => PROVIDER_ORDER.indexOf(a) - PROVIDER_ORDER.indexOf(b));
    aggregated.push(v);
  }
  aggregated.sort((a, b) =>
    a.symbol.localeCompare(b.symbol) || a.currency.localeCompare(b.currency)
  );

  const cashBy = new Map<string, { amount: Decimal; view: CashView }>();
  for (const b of [...rows.balances].sort((a, b) => a.account_id.localeCompare(b.account_id))) {
    const account = byAccount.get(b.account_id);
    if (!account) continue;
    account.balances.push({
      currency: b.currency,
      cash: decimalString(new Exact(b.cash)),
      buying_power: b.buying_power === null ? null : decimalString(new Exact(b.buying_power)),
      synced_at: b.synced_at.toISOString(),
    });
    let c = cashBy.get(b.currency);
    if (!c) {
      c = { amount: new Exact(0), view: { currency: b.currency, amount: "0", accounts: [] } };
      cashBy.set(b.currency, c);
    }
    c.amount = c.amount.plus(b.cash);
    c.view.accounts.push({
      account_id: account.id,
      provider: account.provider,
      amount: decimalString(new Exact(b.cash)),
    });
    total(b.currency).cash = total(b.currency).cash.plus(b.cash);
  }
  const cash = [...cashBy.values()].map((c) => ({ ...c.view, amount: decimalString(c.amount) }))
    .sort((a, b) => a.currency.localeCompare(b.currency));

  const totalsView: CurrencyTotalView[] = [...totals.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([currency, t]) => ({
      currency,
      positions_value: decimalString(t.pv),
      cash: decimalString(t.cash),
      total: decimalString(t.pv.plus(t.cash)),
      cost_basis: decimalString(t.cost),
      unrealized_pl: decimalString(t.pl),
      unpriced_positions: t.unpriced,
      day_change: t.dayKnown === 0 ? null : decimalString(t.day),
      day_change_percent: t.dayKnown === 0 ? null : percentOf(t.day, t.dayBase),
      day_change_coverage: { known: t.dayKnown, of: t.dayOf },
    }));

  return {
    user_id: userId,
    generated_at: now.toISOString(),
    accounts,
    positions: aggregated,
    cash,
    totals: totalsView,
    base: baseTotals(totalsView, base),
    providers: summarizeProviders(rows.connections),
  };
}

/** Per provider: connections, the oldest last sync, and whether any has pending updates. */
export function summarizeProviders(connections: ConnectionSummaryRow[]): ProviderSummaryView[] {
  const out: ProviderSummaryView[] = [];
  for (const provider of PROVIDER_ORDER) {
    const mine = connections.filter((c) => c.provider === provider)
      .sort((a, b) => a.institution.localeCompare(b.institution) || a.id.localeCompare(b.id));
    if (mine.length === 0) continue;
    const views: ConnectionSummaryView[] = mine.map((c) => ({
      id: c.id,
      institution: c.institution,
      status: c.status,
      status_reason: c.status_reason,
      warning: c.warning,
      last_synced: c.last_synced_at?.toISOString() ?? null,
      has_pending_updates: c.pending_since !== null,
    }));
    const neverSynced = mine.some((c) => c.last_synced_at === null);
    const oldest = neverSynced
      ? null
      : new Date(Math.min(...mine.map((c) => c.last_synced_at!.getTime()))).toISOString();
    out.push({
      provider,
      last_synced: oldest,
      has_pending_updates: views.some((v) => v.has_pending_updates),
      connections: views,
    });
  }
  return out;
}
