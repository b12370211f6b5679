import assert from "node:assert/strict";
import {
  plaidHoldings,
  plaidSecurity,
  plaidTransaction,
  plaidTransactionType,
} from "./normalise.ts";

Deno.test("Plaid: cash holdings become balances, cash equivalents stay positions, options keep details", () => {
  const snap = plaidHoldings({
    accounts: [{
      account_id: "A",
      name: "Brokerage",
      type: "investment",
      subtype: "ira",
      balances: { iso_currency_code: "USD", available: 5 },
    }],
    securities: [
      {
        security_id: "s-cash",
        type: "cash",
        ticker_symbol: "CUR:USD",
        is_cash_equivalent: true,
        iso_currency_code: "USD",
      },
      {
        security_id: "s-mm",
        type: "mutual fund",
        ticker_symbol: "VMFXX",
        is_cash_equivalent: true,
        iso_currency_code: "USD",
      },
      {
        security_id: "s-opt",
        type: "derivative",
        ticker_symbol: "NKE240119C00100000",
        iso_currency_code: "USD",
        option_contract: {
          contract_type: "call",
          expiration_date: "2024-01-19",
          strike_price: 100,
          underlying_security_ticker: "NKE",
        },
      },
    ],
    holdings: [
      {
        account_id: "A",
        security_id: "s-cash",
        quantity: 1234.56,
        institution_price: 1,
        institution_value: 1234.56,
        iso_currency_code: "USD",
      },
      {
        account_id: "A",
        security_id: "s-mm",
        quantity: 300.1,
        institution_price: 1,
        cost_basis: 300.1,
        iso_currency_code: "USD",
      },
      {
        account_id: "A",
        security_id: "s-opt",
        quantity: 1,
        institution_price: 2.5,
        cost_basis: 210,
        iso_currency_code: "USD",
      },
    ],
  });
  assert.equal(snap.accounts[0].type, "retirement");
  assert.deepEqual(snap.balances, [{
    account_external_id: "A",
    currency: "USD",
    cash: "1234.56",
    buying_power: null,
  }]);
  assert.equal(snap.positions.length, 2);
  assert.equal(snap.positions[0].security_type, "cash_equivalent");
  assert.equal(snap.positions[1].security_type, "option");
  assert.equal(snap.positions[1].option_details?.underlying, "NKE");
  assert.equal(plaidSecurity({ security_id: "e", type: "etf", ticker_symbol: "VTI" }).type, "etf");
});

Deno.test("Plaid transactions: types and sign", () => {
  assert.equal(plaidTransactionType("cash", "qualified dividend"), "dividend");
  assert.equal(plaidTransactionType("buy", "dividend reinvestment"), "reinvestment");
  assert.equal(plaidTransactionType("fee", "account fee"), "fee");
  assert.equal(plaidTransactionType("cash", "tax withheld"), "tax");
  assert.equal(plaidTransactionType("cash", "deposit"), "contribution");
  assert.equal(plaidTransactionType("cash", "withdrawal"), "withdrawal");
  assert.equal(plaidTransactionType("transfer", "transfer"), "transfer");
  const t = plaidTransaction(
    {
      investment_transaction_id: "t",
      account_id: "A",
      date: "2024-01-02",
      type: "buy",
      subtype: "buy",
      amount: 100.5,
      quantity: 1,
      price: 100.5,
      iso_currency_code: "USD",
    },
    new Map(),
  );
  assert.equal(t.amount, "-100.5");
  assert.equal(t.type, "buy");
});

Deno.test("Plaid: close_price is the previous close of a holding priced at institution_price", () => {
  const security = (id: string, type: string, close: number | null, extra = {}) => ({
    security_id: id,
    type,
    ticker_symbol: id.toUpperCase(),
    iso_currency_code: "USD",
    close_price: close,
    close_price_as_of: close === null ? null : "2026-10-29",
    ...extra,
  });
  const holding = (id: string, price: number, extra = {}) => ({
    account_id: "A",
    security_id: id,
    quantity: 3,
    institution_price: price,
    institution_price_as_of: "2026-10-30",
    iso_currency_code: "USD",
    ...extra,
  });
  const snap = plaidHoldings({
    accounts: [{ account_id: "A", type: "investment", subtype: "brokerage", balances: {} }],
    securities: [
      security("eq", "equity", 227.91),
      security("mm", "mutual fund", 1, { is_cash_equivalent: true }),
      security("cur", "cash", 1, { ticker_symbol: "CUR:USD" }),
      security("none", "etf", null),
      security("stale", "etf", 50.5),
      security("undated", "etf", 10.1),
      security("opt", "derivative", 2.35, {
        ticker_symbol: "NKE261120C00100000",
        option_contract: {
          contract_type: "call",
          expiration_date: "2026-11-20",
          strike_price: 100,
          underlying_security_ticker: "NKE",
        },
      }),
    ],
    holdings: [
      holding("eq", 228.52),
      holding("mm", 1),
      holding("cur", 1, { institution_value: 10 }),
      holding("none", 12.3),
      // The institution's price is of the same session as the close: no day change.
      holding("stale", 50.5, { institution_price_as_of: "2026-10-29" }),
      holding("undated", 10.2, { institution_price_as_of: null }),
      holding("opt", 2.5),
    ],
  });
  const by = new Map(snap.positions.map((p) => [p.symbol, p]));
  assert.equal(by.get("EQ")?.price, "228.52");
  assert.equal(by.get("EQ")?.previous_close, "227.91");
  assert.equal(by.get("MM")?.security_type, "cash_equivalent");
  assert.equal(by.get("MM")?.previous_close, null);
  assert.equal(by.has("CUR:USD"), false); // cash is a balance
  assert.equal(by.get("NONE")?.previous_close, null);
  assert.equal(by.get("STALE")?.previous_close, null);
  assert.equal(by.get("UNDATED")?.previous_close, "10.1");
  assert.equal(by.get("NKE261120C00100000")?.previous_close, "2.35");
  assert.equal(by.get("NKE261120C00100000")?.option_details?.multiplier, "100");
});
