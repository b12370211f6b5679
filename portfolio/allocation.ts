/**
 * Allocation: how the portfolio's value splits by asset class, account, currency or
 * instrument, from the same priced holdings view `GET /api/holdings` shows. Every amount is in
 * the base currency at the view's rates; the total is the exact sum of the slices, and what
 * cannot be valued (no price, no rate) is listed apart, never counted at a guess.
 * @module
 */
import { Exact } from "./exact.ts";
import type { HoldingsView } from "./views.ts";

/** What an allocation is grouped by. */
export const ALLOCATION_GROUPS = ["asset_class", "account", "currency", "instrument"] as const;
export type AllocationGroup = typeof ALLOCATION_GROUPS[number];

/** One slice. */
export interface AllocationSlice {
  key: string;
  label: string;
  /** Base currency, decimal string. */
  value: string;
  /** Fraction of the total, 4 places ("0.4312"). */
  weight: string;
}

/** Something left out, and why. */
export interface Unvalued {
  key: string;
  label: string;
  reason: string;
}

/** The allocation of a holdings view. */
export interface Allocation {
  currency: string;
  by: AllocationGroup;
  total: string;
  slices: AllocationSlice[];
  unvalued: Unvalued[];
}

const CLASS_LABELS: Record<string, string> = {
  equity: "Stocks",
  etf: "ETFs",
  mutual_fund: "Mutual funds",
  bond: "Bonds",
  option: "Options",
  crypto: "Crypto",
  cash_equivalent: "Money market",
  other: "Other",
  cash: "Cash",
};

/** The allocation of `view` by `by`, over one account or all. */
export function allocation(
  view: HoldingsView,
  by: AllocationGroup,
  accountId?: string,
): Allocation {
  const rates = view.base.rates;
  const groups = new Map<string, { label: string; value: Exact }>();
  const unvalued: Unvalued[] = [];
  const add = (key: string, label: string, amount: string, currency: string, what: string) => {
    const rate = rates[currency];
    if (rate === undefined) {
      unvalued.push({ key, label: what, reason: `no exchange rate for ${currency}` });
      return;
    }
    const g = groups.get(key) ?? { label, value: new Exact(0) };
    g.value = g.value.plus(new Exact(amount).times(rate));
    groups.set(key, g);
  };
  for (const account of view.accounts) {
    if (accountId && account.id !== accountId) continue;
    for (const p of account.positions) {
      if (p.security_type === "cash") continue;
      const [key, label] = by === "asset_class"
        ? [p.security_type, CLASS_LABELS[p.security_type] ?? p.security_type]
        : by === "account"
        ? [account.id, account.name]
        : by === "currency"
        ? [p.currency, p.currency]
        : [p.instrument_symbol ?? p.symbol, p.instrument_name ?? p.name ?? p.symbol];
      if (p.value === null) {
        unvalued.push({ key, label: `${p.symbol} (${account.name})`, reason: "no price known" });
        continue;
      }
      add(key, label, p.value, p.currency, `${p.symbol} (${account.name})`);
    }
    for (const b of account.balances) {
      const [key, label] = by === "asset_class"
        ? ["cash", CLASS_LABELS.cash]
        : by === "account"
        ? [account.id, account.name]
        : by === "currency"
        ? [b.currency, b.currency]
        : [`cash:${b.currency}`, `Cash (${b.currency})`];
      add(key, label, b.cash, b.currency, `Cash ${b.currency} (${account.name})`);
    }
  }
  const total = [...groups.values()].reduce((s, g) => s.plus(g.value), new Exact(0));
  const slices = [...groups]
    .map(([key, g]) => ({
      key,
      label: g.label,
      value: g.value.toFixed(),
      weight: total.isZero() ? "0" : g.value.div(total).toDecimalPlaces(4).toFixed(4),
      sort: g.value,
    }))
    .sort((a, b) => b.sort.comparedTo(a.sort) || a.key.localeCompare(b.key))
    .map(({ sort: _sort, ...s }) => s);
  return { currency: view.base.currency, by, total: total.toFixed(), slices, unvalued };
}

/**
 * Unrealised P/L in the base currency: Σ (value − cost basis) over the positions (of one
 * account, or all) whose value and cost basis are both known; null when none is.
 */
export function unrealizedPl(view: HoldingsView, accountId?: string): string | null {
  let sum = new Exact(0), any = false;
  for (const account of view.accounts) {
    if (accountId && account.id !== accountId) continue;
    for (const p of account.positions) {
      const rate = view.base.rates[p.currency];
      if (p.unrealized_pl === null || rate === undefined) continue;
      sum = sum.plus(new Exact(p.unrealized_pl).times(rate));
      any = true;
    }
  }
  return any ? sum.toFixed() : null;
}
