import assert from "node:assert/strict";
import { decimalString, Exact } from "../exact.ts";
import { resolveInstrument } from "../instruments.ts";
import {
  type AccountTransaction,
  applyForward,
  currentHoldings,
  type HeldPosition,
  holdingKeys,
  reconstructAccount,
  type ReconstructInput,
} from "./reconstruct.ts";
import {
  type DemoAccount,
  plaidDemoAccounts,
  type Security,
  snaptradeDemoAccounts,
} from "../../services/sandbox/demo_data.ts";

const DAY_MS = 86_400_000;

/** The weekdays from `from` to `to`, both included. */
function weekdays(from: string, to: string): string[] {
  const out: string[] = [];
  for (let t = Date.parse(`${from}T12:00:00Z`); t <= Date.parse(`${to}T12:00:00Z`); t += DAY_MS) {
    const w = new Date(t).getUTCDay();
    if (w !== 0 && w !== 6) out.push(new Date(t).toISOString().slice(0, 10));
  }
  return out;
}

/** A deterministic close for any symbol and day: 1.00 to 900.99, from an FNV-1a hash. */
function tableClose(symbol: string, day: string): string {
  let h = 0x811c9dc5;
  for (const ch of `${symbol}|${day}`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  return `${1 + (h % 900)}.${String((h >>> 10) % 100).padStart(2, "0")}`;
}

const usdOnly = (amount: string, currency: string) => currency === "USD" ? amount : null;

function position(over: Partial<HeldPosition> & { symbol: string }): HeldPosition {
  return {
    market_symbol: over.symbol,
    security_type: "equity",
    quantity: "1",
    multiplier: "1",
    price: null,
    currency: "USD",
    ...over,
  };
}

let txnId = 0;
function txn(
  type: AccountTransaction["type"],
  trade_date: string,
  over: Partial<AccountTransaction> = {},
): AccountTransaction {
  return {
    id: `t${txnId++}`,
    type,
    symbol: null,
    quantity: null,
    price: null,
    amount: "0",
    fee: null,
    currency: "USD",
    trade_date,
    ...over,
  };
}

function input(over: Partial<ReconstructInput>): ReconstructInput {
  return {
    days: weekdays("2026-03-02", "2026-03-13"),
    positions: [],
    cash: [],
    transactions: [],
    close: tableClose,
    convert: usdOnly,
    ...over,
  };
}

/** Σ quantity × close + cash, each given per day by the test. */
function expectedValue(day: string, holdings: Record<string, string>, cash: string): string {
  let v = new Exact(cash);
  for (const [s, q] of Object.entries(holdings)) v = v.plus(new Exact(q).times(tableClose(s, day)));
  return decimalString(v);
}

function valuesOf(r: ReturnType<typeof reconstructAccount>): Record<string, string | null> {
  return Object.fromEntries(r.days.map((d) => [d.day, d.value]));
}

// --- (1), (2), (6): a hand-built account ---

const HAND = input({
  positions: [position({ symbol: "AAPL", quantity: "10", price: "190.5" })],
  cash: [{ currency: "USD", amount: "500" }],
  transactions: [
    txn("contribution", "2026-03-02", { amount: "2000" }), // on days[0]: not walked
    txn("buy", "2026-03-04", { symbol: "AAPL", quantity: "15", price: "100", amount: "-1500" }),
    // SnapTrade and Plaid sign a sale's quantity negative; the fee is inside amount.
    txn("sell", "2026-03-10", {
      symbol: "AAPL",
      quantity: "-5",
      price: "110",
      amount: "549",
      fee: "1",
    }),
    // Alpaca gives a dividend the quantity held: cash only.
    txn("dividend", "2026-03-11", { symbol: "AAPL", quantity: "10", amount: "2" }),
    txn("fee", "2026-03-12", { amount: "-1", fee: "1" }),
  ],
});

Deno.test("hand-built: the start applied forward gives today's holdings exactly", () => {
  const r = reconstructAccount(HAND);
  assert.deepEqual(r.start, {
    day: "2026-03-02",
    positions: [],
    cash: [{ currency: "USD", amount: "1450" }],
  });
  const keyOf = holdingKeys(HAND.positions);
  const today = applyForward(r.start, HAND.transactions, "2026-03-13", keyOf);
  assert.deepEqual(today, {
    day: "2026-03-13",
    positions: [{ symbol: "AAPL", quantity: "10" }],
    cash: [{ currency: "USD", amount: "500" }],
  });
  assert.deepEqual(today, currentHoldings(HAND));
  // Part-way: the end of 2026-03-09 holds the whole buy and the cash it left.
  assert.deepEqual(applyForward(r.start, HAND.transactions, "2026-03-09", keyOf), {
    day: "2026-03-09",
    positions: [{ symbol: "AAPL", quantity: "15" }],
    cash: [{ currency: "USD", amount: "-50" }],
  });
});

Deno.test("hand-built: each day is prices × holdings plus cash; before the first buy, cash only", () => {
  const r = reconstructAccount(HAND);
  assert.deepEqual(r.unexplained, []);
  const v = valuesOf(r);
  assert.equal(v["2026-03-02"], "1450");
  assert.equal(v["2026-03-03"], "1450");
  for (const d of ["2026-03-04", "2026-03-05", "2026-03-06", "2026-03-09"]) {
    assert.equal(v[d], expectedValue(d, { AAPL: "15" }, "-50"), d);
  }
  assert.equal(v["2026-03-10"], expectedValue("2026-03-10", { AAPL: "10" }, "499"));
  assert.equal(v["2026-03-11"], expectedValue("2026-03-11", { AAPL: "10" }, "501"));
  assert.equal(v["2026-03-12"], expectedValue("2026-03-12", { AAPL: "10" }, "500"));
  assert.equal(v["2026-03-13"], expectedValue("2026-03-13", { AAPL: "10" }, "500"));
});

Deno.test("a sale's quantity counts as a sale however the provider signs it", () => {
  const alpaca = {
    ...HAND,
    transactions: HAND.transactions.map((t) => t.type === "sell" ? { ...t, quantity: "5" } : t),
  };
  assert.deepEqual(reconstructAccount(alpaca), reconstructAccount(HAND));
});

Deno.test("transactions after the last day are walked back; those on or before the first are not", () => {
  const i = input({
    days: ["2026-03-12", "2026-03-13"],
    positions: [position({ symbol: "MSFT", quantity: "4" })],
    cash: [{ currency: "USD", amount: "10" }],
    transactions: [
      // A provider dating in UTC: an evening fill on the 13th stamped the 14th.
      txn("buy", "2026-03-14", { symbol: "MSFT", quantity: "1", amount: "-400" }),
      txn("buy", "2026-03-12", { symbol: "MSFT", quantity: "3", amount: "-1200" }),
      txn("buy", "2026-03-01", { symbol: "MSFT", quantity: "99", amount: "-1" }),
    ],
  });
  const r = reconstructAccount(i);
  assert.deepEqual(r.start.positions, [{ symbol: "MSFT", quantity: "3" }]);
  assert.deepEqual(r.start.cash, [{ currency: "USD", amount: "410" }]);
  assert.equal(r.days[1].value, expectedValue("2026-03-13", { MSFT: "3" }, "410"));
  const keyOf = holdingKeys(i.positions);
  assert.deepEqual(applyForward(r.start, i.transactions, "2026-03-14", keyOf).positions, [
    { symbol: "MSFT", quantity: "4" },
  ]);
});

// --- (3): what the walk cannot explain ---

Deno.test("a security without a close is unexplained on the days it is held, merged into one range", () => {
  const r = reconstructAccount(input({
    positions: [position({ symbol: "SHOP.TO", quantity: "2", price: "150", currency: "CAD" })],
    cash: [{ currency: "CAD", amount: "100" }],
    transactions: [
      txn("buy", "2026-03-05", {
        symbol: "SHOP.TO",
        quantity: "2",
        amount: "-300",
        currency: "CAD",
      }),
    ],
    close: (s, d) => s === "SHOP.TO" ? null : tableClose(s, d),
    convert: (a, c) => c === "CAD" ? decimalString(new Exact(a).times("0.7")) : null,
  }));
  const v = valuesOf(r);
  assert.equal(v["2026-03-04"], "280"); // 400 CAD of cash at 0.7
  assert.equal(v["2026-03-05"], null);
  assert.deepEqual(
    r.days.find((d) => d.day === "2026-03-05")?.reason,
    "no price history for SHOP.TO",
  );
  assert.deepEqual(r.unexplained, [
    { from: "2026-03-05", to: "2026-03-13", reason: "no price history for SHOP.TO" },
  ]);
});

Deno.test("a holding that goes negative walking back makes every earlier day unexplained", () => {
  const r = reconstructAccount(input({
    positions: [position({ symbol: "AAPL", quantity: "10" })],
    transactions: [
      txn("buy", "2026-03-05", { symbol: "AAPL", quantity: "15", amount: "-1500" }),
      // An earlier buy cannot make the holding explained again.
      txn("buy", "2026-03-03", { symbol: "AAPL", quantity: "5", amount: "-500" }),
    ],
  }));
  const reason = "the transactions leave -5 AAPL held before 2026-03-05 " +
    "(a sale or transfer out they do not show)";
  assert.deepEqual(r.unexplained, [{ from: "2026-03-02", to: "2026-03-04", reason }]);
  const v = valuesOf(r);
  assert.equal(v["2026-03-04"], null);
  assert.equal(v["2026-03-05"], expectedValue("2026-03-05", { AAPL: "10" }, "0"));
  // The start is still the arithmetic inverse of the walk.
  assert.deepEqual(r.start.positions, [{ symbol: "AAPL", quantity: "-10" }]);
});

Deno.test("a transfer of a security without a quantity, or a buy naming none, is unexplained before it", () => {
  const r = reconstructAccount(input({
    positions: [position({ symbol: "MSFT", quantity: "3" })],
    cash: [{ currency: "USD", amount: "50" }],
    transactions: [
      txn("transfer", "2026-03-11", { amount: "40" }), // cash: explained
      txn("transfer", "2026-03-09", { symbol: "MSFT", amount: "0" }),
      txn("buy", "2026-03-04", { amount: "-10" }),
    ],
  }));
  const transfer = "a transfer of MSFT on 2026-03-09 gives no quantity";
  assert.deepEqual(r.unexplained, [
    {
      from: "2026-03-02",
      to: "2026-03-03",
      reason: `${transfer}; a buy on 2026-03-04 names no security`,
    },
    { from: "2026-03-04", to: "2026-03-06", reason: transfer },
  ]);
  assert.equal(valuesOf(r)["2026-03-09"], expectedValue("2026-03-09", { MSFT: "3" }, "10"));
});

Deno.test("a day without an exchange rate is unexplained; separate gaps stay separate ranges", () => {
  const missing = new Set(["2026-03-04", "2026-03-05", "2026-03-10"]);
  const r = reconstructAccount(input({
    cash: [{ currency: "CAD", amount: "100" }, { currency: "USD", amount: "1" }],
    convert: (a, c, d) =>
      c === "USD" ? a : missing.has(d) ? null : decimalString(new Exact(a).times("0.7")),
  }));
  assert.deepEqual(r.unexplained, [
    { from: "2026-03-04", to: "2026-03-05", reason: "no exchange rate for CAD" },
    { from: "2026-03-10", to: "2026-03-10", reason: "no exchange rate for CAD" },
  ]);
  assert.equal(valuesOf(r)["2026-03-06"], "71");
});

Deno.test("a cash equivalent without a close is valued at its provider's price; nothing else is", () => {
  const r = reconstructAccount(input({
    days: ["2026-03-13"],
    positions: [
      position({
        symbol: "SPAXX",
        security_type: "cash_equivalent",
        quantity: "250.5",
        price: "1",
      }),
      position({ symbol: "VMFXX", security_type: "cash_equivalent", quantity: "10", price: "1" }),
    ],
    close: (s, d) => s === "VMFXX" ? "1.01" : s === "SPAXX" ? null : tableClose(s, d),
  }));
  assert.equal(r.days[0].value, "260.6");
  const fund = reconstructAccount(input({
    days: ["2026-03-13"],
    positions: [position({ symbol: "VFIAX", security_type: "mutual_fund", price: "500" })],
    close: () => null,
  }));
  assert.deepEqual(fund.days[0], {
    day: "2026-03-13",
    value: null,
    reason: "no price history for VFIAX",
  });
  const unresolved = reconstructAccount(input({
    days: ["2026-03-13"],
    positions: [position({ symbol: "037833100", market_symbol: null, price: "5" })],
  }));
  assert.equal(unresolved.days[0].reason, "no price history for 037833100");
});

// --- (4) FX ---

Deno.test("each currency's total is converted at the day's rate", () => {
  const rate = (d: string) => `0.7${d.slice(8)}`; // 0.702 on the 2nd, 0.713 on the 13th
  const i = input({
    positions: [
      position({ symbol: "RY.TO", quantity: "10", currency: "CAD" }),
      position({ symbol: "AAPL", quantity: "2" }),
    ],
    cash: [{ currency: "CAD", amount: "100" }, { currency: "USD", amount: "50" }],
    transactions: [
      txn("buy", "2026-03-06", { symbol: "RY.TO", quantity: "4", amount: "-700", currency: "CAD" }),
    ],
    convert: (a, c, d) => c === "USD" ? a : decimalString(new Exact(a).times(rate(d))),
  });
  const r = reconstructAccount(i);
  assert.deepEqual(r.unexplained, []);
  const v = valuesOf(r);
  const on = (d: string, ry: string, cad: string) =>
    decimalString(
      new Exact(ry).times(tableClose("RY.TO", d)).plus(cad).times(rate(d))
        .plus(new Exact(2).times(tableClose("AAPL", d))).plus(50),
    );
  assert.equal(v["2026-03-05"], on("2026-03-05", "6", "800"));
  assert.equal(v["2026-03-06"], on("2026-03-06", "10", "100"));
  assert.equal(v["2026-03-13"], on("2026-03-13", "10", "100"));
  assert.deepEqual(r.start.cash, [{ currency: "CAD", amount: "800" }, {
    currency: "USD",
    amount: "50",
  }]);
});

// --- (5) options ---

Deno.test("options count their multiplier; written options may be negative; expiries close them", () => {
  const call = "AAPL270115C00250000";
  const put = "SPY260320P00500000";
  const i = input({
    positions: [
      position({
        symbol: "AAPL  270115C00250000",
        market_symbol: call,
        security_type: "option",
        quantity: "2",
        multiplier: "100",
      }),
      position({
        symbol: "MINI",
        market_symbol: "MINI260320C00010000",
        security_type: "option",
        quantity: "3",
        multiplier: "10",
      }),
      position({ symbol: put, security_type: "option", quantity: "-1", multiplier: "100" }),
    ],
    transactions: [
      txn("buy", "2026-03-03", { symbol: "AAPL  270115C00250000", quantity: "2", amount: "-2000" }),
      txn("sell", "2026-03-05", { symbol: put, quantity: "-1", amount: "300" }), // sell to open
      // Not held today: bought, then expired (SnapTrade OPTIONEXPIRATION → other).
      txn("buy", "2026-03-04", { symbol: "QQQ   260306C00600000", quantity: "1", amount: "-50" }),
      txn("other", "2026-03-09", { symbol: "QQQ   260306C00600000", quantity: "-1" }),
    ],
  });
  const r = reconstructAccount(i);
  assert.deepEqual(r.unexplained, []);
  const v = valuesOf(r);
  const value = (d: string, held: Array<[string, string, string]>, cash: string) =>
    decimalString(held.reduce(
      (s, [sym, q, m]) => s.plus(new Exact(q).times(m).times(tableClose(sym, d))),
      new Exact(cash),
    ));
  const mini: [string, string, string] = ["MINI260320C00010000", "3", "10"];
  assert.equal(v["2026-03-02"], value("2026-03-02", [mini], "1750"));
  assert.equal(
    v["2026-03-04"],
    value("2026-03-04", [mini, [call, "2", "100"], ["QQQ260306C00600000", "1", "100"]], "-300"),
  );
  assert.equal(
    v["2026-03-13"],
    value("2026-03-13", [mini, [call, "2", "100"], [put, "-1", "100"]], "0"),
  );
  const keyOf = holdingKeys(i.positions);
  assert.deepEqual(applyForward(r.start, i.transactions, "2026-03-13", keyOf), currentHoldings(i));
});

// --- symbols ---

Deno.test("a transaction's symbol finds the position its instrument rules make", () => {
  const keyOf = holdingKeys([
    position({ symbol: "BRK/B", market_symbol: "BRK.B" }),
    position({ symbol: "BTC", market_symbol: "BTC/USD", security_type: "crypto" }),
    position({ symbol: "037833100", market_symbol: null }),
    position({ symbol: "CUR:USD", market_symbol: null, security_type: "cash" }),
  ]);
  assert.equal(keyOf("BRK/B", "USD"), "BRK.B");
  assert.equal(keyOf("BRK-B", "USD"), "BRK.B");
  assert.equal(keyOf("BTC", "USD"), "BTC/USD");
  assert.equal(keyOf("BTC-USD", "USD"), "BTC/USD");
  assert.equal(keyOf("037833100", "USD"), "037833100");
  assert.equal(keyOf("tsla", "USD"), "TSLA");
  assert.equal(keyOf("ETH-USD", "USD"), "ETH/USD");
  assert.equal(keyOf("SPY   260320C00600000", "USD"), "SPY260320C00600000");
  assert.equal(keyOf("??", "USD"), "??");
});

Deno.test("days must be given, ascending", () => {
  assert.throws(() => reconstructAccount(input({ days: [] })), RangeError);
  assert.throws(
    () => reconstructAccount(input({ days: ["2026-03-03", "2026-03-02"] })),
    RangeError,
  );
});

// --- the sandbox's demo accounts ---

const TODAY = "2026-09-30";
const DAYS = weekdays("2025-09-30", TODAY);
const CASH_EQUIVALENTS = new Set(["SPAXX", "VMFXX"]);

function securityType(s: Security): HeldPosition["security_type"] {
  if (s.cashEquivalent) return s.kind === "cash" ? "cash" : "cash_equivalent";
  return ({
    stock: "equity",
    etf: "etf",
    crypto: "crypto",
    mutualfund: "mutual_fund",
    option: "option",
    cash: "cash",
  } as const)[s.kind];
}

function marketSymbol(s: Security): string | null {
  const r = resolveInstrument({
    provider: "snaptrade",
    symbol: s.ticker,
    name: s.name,
    security_type: securityType(s),
    currency: s.currency,
    option_details: null,
    provider_security_id: s.id,
  });
  return r.kind === "resolved" ? r.instrument.symbol : null;
}

function demoInput(a: DemoAccount): ReconstructInput {
  return {
    days: DAYS,
    positions: a.holdings.map((h) => ({
      symbol: h.security.ticker,
      market_symbol: marketSymbol(h.security),
      security_type: securityType(h.security),
      quantity: h.units,
      multiplier: h.security.option?.multiplier ?? "1",
      price: h.security.price,
      currency: h.security.currency,
    })),
    cash: [{ currency: a.currency, amount: a.cash }],
    transactions: a.transactions.map((t) => ({
      id: t.id,
      type: t.type.toLowerCase() as AccountTransaction["type"],
      symbol: t.security?.ticker ?? null,
      quantity: t.units,
      price: t.price,
      amount: t.amount,
      fee: t.fee,
      currency: t.currency,
      trade_date: t.date,
    })),
    close: (s, d) => CASH_EQUIVALENTS.has(s) ? null : tableClose(s, d),
    convert: usdOnly,
  };
}

/** The demo account's value on `day`, straight from its own data: units bought and sold by then. */
function demoValue(a: DemoAccount, day: string): string {
  let value = new Exact(a.cash);
  for (const t of a.transactions) if (t.date > day) value = value.minus(t.amount);
  for (const h of a.holdings) {
    const units = a.transactions.filter((t) => t.security === h.security && t.date <= day)
      .reduce((s, t) => s.plus(t.units), new Exact(0));
    const market = marketSymbol(h.security)!;
    const price = CASH_EQUIVALENTS.has(market) ? h.security.price : tableClose(market, day);
    value = value.plus(units.times(h.security.option?.multiplier ?? "1").times(price));
  }
  return decimalString(value);
}

const DEMO_ACCOUNTS: Array<[string, DemoAccount]> = [
  ["Robinhood", snaptradeDemoAccounts("ROBINHOOD")[0]],
  ["IBKR", snaptradeDemoAccounts("INTERACTIVE-BROKERS")[0]],
  ["SnapTrade Sandbox", snaptradeDemoAccounts("SANDBOX")[0]],
  ["Plaid Brokerage", plaidDemoAccounts("ins_109508")[0]],
];

for (const [name, account] of DEMO_ACCOUNTS) {
  Deno.test(`demo ${name}: forward from the start gives today's holdings; sampled days are prices × holdings`, () => {
    const i = demoInput(account);
    const r = reconstructAccount(i);
    assert.deepEqual(r.unexplained, []);
    assert.ok(account.transactions.every((t) => t.date > DAYS[0] && t.date <= TODAY));

    // (1) Forward from the start: today's holdings, exactly, by market symbol.
    const today = applyForward(r.start, i.transactions, TODAY, holdingKeys(i.positions));
    const expected = account.holdings.map((h) => ({
      symbol: marketSymbol(h.security)!,
      quantity: decimalString(new Exact(h.units)),
    })).sort((x, y) => x.symbol < y.symbol ? -1 : 1);
    assert.deepEqual(today.positions, expected);
    assert.deepEqual(today.cash, [{
      currency: account.currency,
      amount: decimalString(new Exact(account.cash)),
    }]);
    assert.deepEqual(today, currentHoldings(i));
    // Before the first transaction the account held nothing but cash.
    assert.deepEqual(r.start.positions, []);

    // (2) Sampled days, and (6) the last weekday before the first deposit: cash only.
    const v = valuesOf(r);
    const sampled = DAYS.filter((_, n) => n % 23 === 0).concat("2025-10-31", TODAY);
    for (const day of sampled) assert.equal(v[day], demoValue(account, day), day);
    const all = account.transactions.reduce((s, t) => s.plus(t.amount), new Exact(0));
    assert.equal(v["2025-10-31"], decimalString(new Exact(account.cash).minus(all)));
  });
}
