/**
 * Valid example messages for tests and benchmarks (never used by services).
 * @module
 */
import type { PortfolioValue } from "./messages.ts";

/** A valid portfolio value of `total` USD in cash-free positions, with `quotes` quotes. */
export function examplePortfolioValue(
  userId: string,
  seq: number,
  total = "1000",
  quotes = 0,
): PortfolioValue {
  const time = new Date().toISOString();
  const q: PortfolioValue["quotes"] = {};
  for (let i = 0; i < quotes; i++) {
    q[`Q${String(i).padStart(4, "0")}`] = ["187.1234", "185.5", time, false];
  }
  return {
    user_id: userId,
    time,
    seq,
    currency: "USD",
    total,
    positions_value: total,
    cash: "0",
    totals: [{
      currency: "USD",
      positions_value: total,
      cash: "0",
      total,
      base_total: total,
    }],
    accounts: [],
    day_change: { amount: "0", percent: null, covered: 0, positions: 0 },
    unrealized_pl: { amount: "0", cost_basis: "0", covered: 0, positions: 0 },
    prices: {
      as_of: quotes ? time : null,
      live: quotes,
      delayed: 0,
      stale: 0,
      provider: 0,
      unpriced: 0,
      market: "open",
    },
    fx: { date: null, unconverted: [] },
    quotes: q,
  };
}
