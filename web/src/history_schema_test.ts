import assert from "node:assert/strict";
import type { z } from "zod";
import * as Api from "../../services/api/schemas.ts";
import * as Web from "./history_schema.ts";

const ACCOUNT = "00000000-0000-4000-8000-000000000001";
const ID = "00000000-0000-4000-8000-0000000000aa";

// The answers as issue 13's api documents them.
const HISTORY = {
  currency: "USD",
  range: "1Y",
  from: "2025-05-04T14:00:00.000Z",
  to: "2026-05-04T14:00:00.000Z",
  scope: { kind: "account", account_id: ACCOUNT, name: "Robinhood Individual" },
  resolution: "1d",
  points: [
    { time: "2025-05-05T20:05:00.000Z", value: "10000.00", reconstructed: true },
    { time: "2026-05-01T20:05:00.000Z", value: "12345.67", reconstructed: false },
  ],
  gaps: [{ from: "2025-08-01", to: "2025-08-04", reason: "A transfer in had no price." }],
  returns: {
    twr: "0.0523",
    mwr: "0.0481",
    mwr_annualized: "0.0610",
    start_value: "10000.00",
    end_value: "12345.67",
    net_contributions: "1500",
    income: "120.50",
    fees: "4.95",
    realized_pl: "300",
    unrealized_pl: null,
  },
  formulas: {
    twr: "Chained daily returns.",
    mwr: "XIRR.",
    pl: "Sold less cost.",
    income: "D+I.",
    net_contributions: "In less out.",
    fees: "Fees.",
  },
};
const INCOME = {
  currency: "USD",
  from: "2025-06-01",
  to: "2026-05-31",
  months: [{ month: "2026-05", dividends: "10.5", interest: "0.25", total: "10.75" }],
  total: "10.75",
  unconverted: ["CAD"],
};
const ALLOCATION = {
  currency: "USD",
  by: "asset_class",
  total: "1000",
  as_of: "2026-05-04T14:00:00.000Z",
  slices: [{ key: "equity", label: "Stocks", value: "431.2", weight: "0.4312" }],
  unvalued: [{ key: "XYZ", label: "XYZ Corp", reason: "No price." }],
};
const TRANSACTION = {
  id: ID,
  account_id: ACCOUNT,
  connection_id: ID,
  provider: "alpaca",
  type: "dividend",
  symbol: "AAPL",
  description: "Cash dividend",
  quantity: null,
  price: null,
  amount: "12.34",
  fee: null,
  currency: "USD",
  trade_date: "2026-05-01",
  settlement_date: null,
};

Deno.test("history, income and allocation answers as documented are read", () => {
  // The api's own schemas take the same samples.
  assert.equal(Api.HistoryView.safeParse(HISTORY).success, true);
  assert.equal(Api.IncomeView.safeParse(INCOME).success, true);
  assert.equal(Api.AllocationView.safeParse(ALLOCATION).success, true);
  assert.deepEqual(Web.History.parse(HISTORY), HISTORY);
  assert.equal(
    Web.History.safeParse({ ...HISTORY, scope: { kind: "portfolio" } }).success,
    true,
  );
  assert.deepEqual(Web.Income.parse(INCOME), INCOME);
  assert.deepEqual(Web.Allocation.parse(ALLOCATION), ALLOCATION);
});

Deno.test("answers that are not what the api documents are refused", () => {
  const bad = [
    { ...HISTORY, resolution: "2m" },
    { ...HISTORY, points: [{ time: "yesterday", value: "1", reconstructed: false }] },
    { ...HISTORY, points: [{ time: HISTORY.to, value: 1, reconstructed: false }] },
    { ...HISTORY, returns: { ...HISTORY.returns, twr: 0.05 } },
    { ...HISTORY, gaps: [{ from: "2025-08-01", to: "2025-08-04" }] },
    { ...HISTORY, scope: { kind: "account" } },
  ];
  for (const b of bad) {
    assert.equal(Web.History.safeParse(b).success, false, JSON.stringify(b));
    if (b.gaps === HISTORY.gaps) {
      assert.equal(Api.HistoryView.safeParse(b).success, false, `api: ${JSON.stringify(b)}`);
    }
  }
  assert.equal(Web.Income.safeParse({ ...INCOME, months: [{ month: "May" }] }).success, false);
  assert.equal(Web.Allocation.safeParse({ ...ALLOCATION, by: "sector" }).success, false);
});

Deno.test("transactions: the dashboard reads what the api answers", () => {
  const page = { transactions: [TRANSACTION], next_cursor: "abc" };
  assert.equal(Api.TransactionPage.safeParse(page).success, true);
  assert.deepEqual(Web.TransactionPage.parse(page), page);
  for (
    const b of [
      { ...TRANSACTION, type: "gift" },
      { ...TRANSACTION, amount: 12.34 },
      { ...TRANSACTION, trade_date: "May 1" },
      { ...TRANSACTION, provider: "robinhood" },
    ]
  ) {
    const p = { transactions: [b], next_cursor: null };
    assert.equal(
      Web.TransactionPage.safeParse(p).success,
      Api.TransactionPage.safeParse(p).success,
    );
  }
});

// The dashboard's answers are the api's, field for field: this fails to compile if they drift.
// (The dashboard reads `formulas` as any texts by name and a gap's days as dates, so the history
// is compared as assignable one way.)
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const _transaction: Same<Web.Transaction, z.infer<typeof Api.TransactionView>> = true;
const _returns: Same<Web.Returns, z.infer<typeof Api.HistoryView>["returns"]> = true;
const _income: Same<Web.Income, z.infer<typeof Api.IncomeView>> = true;
const _history: (h: z.infer<typeof Api.HistoryView>) => Omit<Web.History, "gaps"> = (h) => h;
void [_transaction, _returns, _income, _history];
