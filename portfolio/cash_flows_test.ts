import assert from "node:assert/strict";
import {
  type Convert,
  externalFlows,
  incomeByMonth,
  summarise,
  type Transaction,
} from "./cash_flows.ts";
import { Exact } from "./exact.ts";

/** Base USD: EUR at 1.1 (1.2 from June 2024), no rate for JPY. */
const convert: Convert = (amount, currency, day) => {
  if (currency === "USD") return amount;
  if (currency === "EUR") {
    return new Exact(amount).times(day >= "2024-06-01" ? "1.2" : "1.1").toFixed();
  }
  return null;
};

const tx = (
  t: Partial<Transaction> & Pick<Transaction, "type" | "amount" | "trade_date">,
): Transaction => ({
  symbol: null,
  quantity: null,
  price: null,
  fee: null,
  currency: "USD",
  ...t,
});

Deno.test("externalFlows: cash and units in and out, by day, in the base currency", () => {
  const txns = [
    tx({ type: "contribution", amount: "10000", trade_date: "2024-01-02" }),
    tx({
      type: "buy",
      symbol: "VTI",
      quantity: "10",
      price: "200",
      amount: "-2000",
      trade_date: "2024-01-03",
    }),
    tx({ type: "withdrawal", amount: "-500", trade_date: "2024-03-01" }),
    tx({ type: "transfer", amount: "200", trade_date: "2024-03-01" }),
    // Units in and out with no amount: units × price, direction by the quantity's sign.
    tx({
      type: "transfer",
      symbol: "VTI",
      quantity: "10",
      price: "200",
      amount: "0",
      trade_date: "2024-04-01",
    }),
    tx({
      type: "transfer",
      symbol: "VTI",
      quantity: "-5",
      price: "210",
      amount: "0",
      trade_date: "2024-05-01",
    }),
    // Units with neither an amount nor a price cannot be valued.
    tx({ type: "transfer", symbol: "AAPL", quantity: "3", amount: "0", trade_date: "2024-06-01" }),
    tx({ type: "contribution", amount: "100", currency: "EUR", trade_date: "2024-05-15" }),
    tx({ type: "contribution", amount: "1000", currency: "JPY", trade_date: "2024-08-01" }),
    // A day that nets to zero (money moved between two accounts of the scope) is left out.
    tx({ type: "transfer", amount: "50", trade_date: "2024-09-01" }),
    tx({ type: "transfer", amount: "-50", trade_date: "2024-09-01" }),
    // A securities withdrawal with no amount goes out.
    tx({
      type: "withdrawal",
      symbol: "VTI",
      quantity: "1",
      price: "220",
      amount: "0",
      trade_date: "2024-10-01",
    }),
  ];
  assert.deepEqual(externalFlows(txns, convert), {
    flows: [
      { day: "2024-01-02", amount: "10000" },
      { day: "2024-03-01", amount: "-300" },
      { day: "2024-04-01", amount: "2000" },
      { day: "2024-05-01", amount: "-1050" },
      { day: "2024-05-15", amount: "110" },
      { day: "2024-10-01", amount: "-220" },
    ],
    unexplained: [{
      day: "2024-06-01",
      symbol: "AAPL",
      reason: "transfer of units without an amount or a price",
    }],
    unconverted: [{
      day: "2024-08-01",
      type: "contribution",
      symbol: null,
      amount: "1000",
      currency: "JPY",
    }],
  });
});

/** A year of one account, worked by hand below. */
const YEAR: Transaction[] = [
  tx({ type: "contribution", amount: "10000", trade_date: "2024-01-02" }),
  tx({
    type: "buy",
    symbol: "AAPL",
    quantity: "10",
    price: "100",
    amount: "-1001",
    fee: "1",
    trade_date: "2024-01-03",
  }),
  tx({
    type: "buy",
    symbol: "AAPL",
    quantity: "10",
    price: "130",
    amount: "-1301",
    fee: "1",
    trade_date: "2024-02-01",
  }),
  // Plaid signs sold quantities negative; the size counts.
  tx({
    type: "sell",
    symbol: "AAPL",
    quantity: "-5",
    price: "150",
    amount: "749",
    fee: "1",
    trade_date: "2024-03-01",
  }),
  tx({ type: "dividend", symbol: "AAPL", amount: "12.5", trade_date: "2024-03-15" }),
  tx({ type: "interest", amount: "3.21", trade_date: "2024-03-31" }),
  tx({ type: "fee", amount: "-10", trade_date: "2024-04-01" }),
  tx({
    type: "sell",
    symbol: "AAPL",
    quantity: "15",
    price: "120",
    amount: "1799",
    fee: "1",
    trade_date: "2024-05-01",
  }),
  // No purchase explains these units.
  tx({
    type: "sell",
    symbol: "MSFT",
    quantity: "2",
    price: "400",
    amount: "800",
    trade_date: "2024-05-02",
  }),
  // Both legs in one row: a dividend of 0.5 × 240 = 120 bought 0.5 units.
  tx({
    type: "reinvestment",
    symbol: "VTI",
    quantity: "0.5",
    price: "240",
    amount: "0",
    trade_date: "2024-06-03",
  }),
  // The purchase leg of a reinvestment whose dividend is its own row: not income twice.
  tx({ type: "dividend", symbol: "SCHD", amount: "55", trade_date: "2024-06-03" }),
  tx({
    type: "reinvestment",
    symbol: "SCHD",
    quantity: "0.25",
    price: "220",
    amount: "-55",
    trade_date: "2024-06-03",
  }),
  tx({ type: "tax", amount: "-3", trade_date: "2024-06-10" }),
];

Deno.test("summarise: a worked year", () => {
  // Average cost of AAPL: (1,001 + 1,301) ÷ 20 = 115.10. March: 5 sold for 749, cost
  // 5 × 115.10 = 575.50, P/L 173.50. May: the other 15 for 1,799, cost 1,726.50, P/L 72.50.
  // MSFT's 800 has no known cost: uncovered. Dividends 12.50 + 120 + 55 = 187.50, interest
  // 3.21; fees 10 + four trade fees of 1. The tax row is neither.
  assert.deepEqual(summarise(YEAR, "2024-01-01", "2024-12-31", convert), {
    net_contributions: "10000",
    income: "190.71",
    dividends: "187.5",
    interest: "3.21",
    fees: "14",
    realized_pl: "246",
    realized_covered: "2548",
    realized_uncovered: "800",
    unexplained: [],
    unconverted: [],
  });
});

Deno.test("summarise: a range counts its own sales, with costs from before it", () => {
  const q2 = summarise(YEAR, "2024-04-01", "2024-06-30", convert);
  assert.equal(q2.net_contributions, "0");
  assert.equal(q2.realized_pl, "72.5");
  assert.equal(q2.realized_covered, "1799");
  assert.equal(q2.realized_uncovered, "800");
  assert.equal(q2.fees, "11");
  assert.equal(q2.dividends, "175");
  assert.equal(q2.interest, "0");
  // Transactions after `to` play no part.
  const q1 = summarise(YEAR, "2024-01-01", "2024-03-31", convert);
  assert.equal(q1.realized_pl, "173.5");
  assert.equal(q1.realized_uncovered, "0");
  assert.equal(q1.income, "15.71");
  // Unbounded.
  assert.equal(summarise(YEAR, null, null, convert).realized_pl, "246");
  assert.throws(() => summarise(YEAR, "2024-1-1", null, convert), RangeError);
});

Deno.test("summarise: units of unknown cost make sales uncovered until the holding is gone", () => {
  const txns = [
    tx({ type: "transfer", symbol: "XYZ", quantity: "10", amount: "0", trade_date: "2024-01-02" }),
    tx({
      type: "buy",
      symbol: "XYZ",
      quantity: "10",
      price: "50",
      amount: "-500",
      trade_date: "2024-01-03",
    }),
    tx({
      type: "sell",
      symbol: "XYZ",
      quantity: "5",
      price: "60",
      amount: "300",
      trade_date: "2024-02-01",
    }),
    tx({
      type: "sell",
      symbol: "XYZ",
      quantity: "15",
      price: "60",
      amount: "900",
      trade_date: "2024-03-01",
    }),
    // A fresh holding: 4 bought at 60, then 6 sold for 420: 4 are covered (280 − 240 = 40),
    // the 2 nobody bought are not (140).
    tx({
      type: "buy",
      symbol: "XYZ",
      quantity: "4",
      price: "60",
      amount: "-240",
      trade_date: "2024-04-01",
    }),
    tx({
      type: "sell",
      symbol: "XYZ",
      quantity: "6",
      price: "70",
      amount: "420",
      trade_date: "2024-05-01",
    }),
  ];
  const s = summarise(txns, "2024-01-01", "2024-12-31", convert);
  assert.equal(s.realized_pl, "40");
  assert.equal(s.realized_covered, "280");
  assert.equal(s.realized_uncovered, "1340");
  assert.deepEqual(s.unexplained, [
    { day: "2024-01-02", symbol: "XYZ", reason: "transfer of units without an amount or a price" },
  ]);
});

Deno.test("summarise: units transferred in at a price have that cost; out at average cost", () => {
  const txns = [
    tx({
      type: "transfer",
      symbol: "VTI",
      quantity: "10",
      price: "200",
      amount: "0",
      trade_date: "2024-01-02",
    }),
    tx({
      type: "buy",
      symbol: "VTI",
      quantity: "10",
      price: "220",
      amount: "-2200",
      trade_date: "2024-01-03",
    }),
    // Out at the average of 210: 5 units take 1,050 of cost with them, no P/L.
    tx({
      type: "transfer",
      symbol: "VTI",
      quantity: "-5",
      price: "230",
      amount: "0",
      trade_date: "2024-02-01",
    }),
    tx({
      type: "sell",
      symbol: "VTI",
      quantity: "15",
      price: "240",
      amount: "3600",
      trade_date: "2024-03-01",
    }),
  ];
  const s = summarise(txns, null, null, convert);
  assert.equal(s.net_contributions, "850");
  assert.equal(s.realized_pl, "450");
  assert.equal(s.realized_covered, "3600");
});

Deno.test("summarise: the base currency at each trade's date; no rate, no guess", () => {
  const txns = [
    tx({
      type: "buy",
      symbol: "SAP",
      quantity: "10",
      price: "100",
      amount: "-1000",
      currency: "EUR",
      trade_date: "2024-03-01",
    }),
    // The same 1,000 EUR back, worth 1,200 USD by then: the P/L is the currency's move.
    tx({
      type: "sell",
      symbol: "SAP",
      quantity: "10",
      price: "100",
      amount: "1000",
      currency: "EUR",
      trade_date: "2024-07-01",
    }),
    tx({
      type: "dividend",
      symbol: "7203",
      amount: "5000",
      currency: "JPY",
      trade_date: "2024-07-02",
    }),
    tx({
      type: "buy",
      symbol: "7203",
      quantity: "100",
      price: "3000",
      amount: "-300000",
      currency: "JPY",
      trade_date: "2024-07-03",
    }),
    tx({
      type: "sell",
      symbol: "7203",
      quantity: "100",
      price: "3100",
      amount: "310000",
      currency: "JPY",
      trade_date: "2024-08-01",
    }),
  ];
  const s = summarise(txns, null, null, convert);
  assert.equal(s.realized_pl, "100");
  assert.equal(s.realized_covered, "1200");
  assert.equal(s.realized_uncovered, "0");
  assert.equal(s.dividends, "0");
  assert.deepEqual(s.unconverted, [
    { day: "2024-07-02", type: "dividend", symbol: "7203", amount: "5000", currency: "JPY" },
    { day: "2024-07-03", type: "buy", symbol: "7203", amount: "300000", currency: "JPY" },
    { day: "2024-08-01", type: "sell", symbol: "7203", amount: "310000", currency: "JPY" },
  ]);
});

Deno.test("summarise: a day's purchases come before its sales; quotients are rounded to 10 places", () => {
  const sameDay = [
    tx({
      type: "sell",
      symbol: "QQQ",
      quantity: "1",
      price: "50",
      amount: "50",
      trade_date: "2024-02-01",
    }),
    tx({ type: "buy", symbol: "QQQ", quantity: "3", amount: "-100", trade_date: "2024-02-01" }),
  ];
  const s = summarise(sameDay, null, null, convert);
  // 50 − 100 ÷ 3 = 16.666…
  assert.equal(s.realized_pl, "16.6666666667");
  assert.equal(s.realized_uncovered, "0");
});

Deno.test("summarise: average cost per account when accounts are given", () => {
  const txns = [
    tx({
      type: "buy",
      account_id: "a",
      symbol: "AAPL",
      quantity: "1",
      amount: "-100",
      trade_date: "2024-01-02",
    }),
    tx({
      type: "buy",
      account_id: "b",
      symbol: "AAPL",
      quantity: "1",
      amount: "-200",
      trade_date: "2024-01-02",
    }),
    tx({
      type: "sell",
      account_id: "b",
      symbol: "AAPL",
      quantity: "1",
      amount: "210",
      trade_date: "2024-02-01",
    }),
  ];
  assert.equal(summarise(txns, null, null, convert).realized_pl, "10");
  const pooled = txns.map(({ account_id: _, ...t }) => t);
  assert.equal(summarise(pooled, null, null, convert).realized_pl, "60");
});

Deno.test("summarise: sales without an amount and price, or without a quantity", () => {
  const txns = [
    tx({ type: "buy", symbol: "ABC", quantity: "1", amount: "-10", trade_date: "2024-01-02" }),
    tx({ type: "sell", symbol: "ABC", quantity: "1", amount: "0", trade_date: "2024-02-01" }),
    tx({ type: "sell", symbol: "DEF", amount: "25", trade_date: "2024-02-02" }),
  ];
  const s = summarise(txns, null, null, convert);
  assert.equal(s.realized_pl, "0");
  assert.equal(s.realized_uncovered, "0");
  assert.deepEqual(s.unexplained, [
    { day: "2024-02-02", symbol: "DEF", reason: "sale without a quantity" },
    { day: "2024-02-01", symbol: "ABC", reason: "sale without an amount or a price" },
  ]);
});

Deno.test("incomeByMonth: dividends and interest per month in the base currency", () => {
  const txns = [
    ...YEAR,
    tx({
      type: "dividend",
      symbol: "SAP",
      amount: "10",
      currency: "EUR",
      trade_date: "2024-03-20",
    }),
    tx({
      type: "dividend",
      symbol: "SAP",
      amount: "10",
      currency: "EUR",
      trade_date: "2024-06-20",
    }),
    tx({ type: "interest", amount: "700", currency: "JPY", trade_date: "2024-07-01" }),
    tx({
      type: "reinvestment",
      symbol: "VT",
      quantity: "1",
      amount: "0",
      trade_date: "2024-07-01",
    }),
    // A reversal counts against its month.
    tx({ type: "dividend", symbol: "AAPL", amount: "-2.5", trade_date: "2024-03-28" }),
  ];
  assert.deepEqual(incomeByMonth(txns, convert), {
    months: [
      // 12.5 + 11 (10 EUR at 1.1) − 2.5; interest 3.21
      { month: "2024-03", dividends: "21", interest: "3.21", total: "24.21" },
      // 120 + 55 + 12 (10 EUR at 1.2)
      { month: "2024-06", dividends: "187", interest: "0", total: "187" },
    ],
    unexplained: [{
      day: "2024-07-01",
      symbol: "VT",
      reason: "reinvested dividend without an amount or a price",
    }],
    unconverted: [{
      day: "2024-07-01",
      type: "interest",
      symbol: null,
      amount: "700",
      currency: "JPY",
    }],
  });
  assert.deepEqual(incomeByMonth([], convert), { months: [], unexplained: [], unconverted: [] });
});
