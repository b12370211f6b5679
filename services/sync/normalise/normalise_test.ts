import assert from "node:assert/strict";
import { dec, parseOcc, previousClose } from "./common.ts";
import { snaptradeActivity, snaptradeBalances, snaptradePosition } from "./snaptrade.ts";
import { plaidHoldings, plaidSecurity, plaidTransaction, plaidTransactionType } from "./plaid.ts";
import { alpacaActivity, alpacaAsset, alpacaPosition } from "./alpaca.ts";

Deno.test("dec converts JSON numbers without float artefacts", () => {
  assert.equal(dec(0.1), "0.1");
  assert.equal(dec(0.1 + 0.2), "0.30000000000000004"); // the number itself, not a rounding
  assert.equal(dec(1e-7), "0.0000001");
  assert.equal(dec(123456789.123456), "123456789.123456");
  assert.equal(dec("12.3400"), "12.34");
  assert.equal(dec(-0), "0");
  assert.equal(dec(1e21), "1000000000000000000000");
  assert.throws(() => dec("abc"));
  assert.throws(() => dec(NaN));
});

Deno.test("OCC option symbols parse into contract details", () => {
  assert.deepEqual(parseOcc("AAPL240119C00150000"), {
    underlying: "AAPL",
    expiration: "2024-01-19",
    option_type: "call",
    strike: "150",
    multiplier: "100",
  });
  assert.equal(parseOcc("SPY   250321P00412500")?.strike, "412.5");
  assert.equal(parseOcc("AAPL"), null);
});

Deno.test("SnapTrade positions: universal symbol, cash equivalent, option, v2 instrument", () => {
  const eq = snaptradePosition("acc", {
    symbol: {
      symbol: {
        id: "u1",
        symbol: "VFV.TO",
        description: "Vanguard S&P 500",
        type: { code: "et" },
        currency: { code: "CAD" },
      },
    },
    units: 12.5,
    price: 101.23,
    average_purchase_price: 90.1,
    currency: { code: "CAD" },
  });
  assert.equal(eq.security_type, "etf");
  assert.equal(eq.quantity, "12.5");
  assert.equal(eq.price, "101.23");
  assert.equal(eq.cost_basis, "1126.25");
  assert.equal(eq.currency, "CAD");
  const mm = snaptradePosition("acc", {
    symbol: {
      symbol: { id: "u2", symbol: "PSA", type: { code: "oef" }, currency: { code: "CAD" } },
    },
    units: 100,
    price: 50,
    cash_equivalent: true,
  });
  assert.equal(mm.security_type, "cash_equivalent");
  const opt = snaptradePosition("acc", {
    symbol: {
      option_symbol: {
        id: "o1",
        ticker: "AAPL  240119C00150000",
        option_type: "CALL",
        strike_price: 150,
        expiration_date: "2024-01-19",
        underlying_symbol: { symbol: "AAPL", currency: { code: "USD" } },
      },
    },
    units: 2,
    price: 3.45,
    average_purchase_price: 2.1,
  });
  assert.equal(opt.security_type, "option");
  assert.deepEqual(opt.option_details, {
    underlying: "AAPL",
    strike: "150",
    expiration: "2024-01-19",
    option_type: "call",
    multiplier: "100",
  });
  const v2 = snaptradePosition("acc", {
    instrument: {
      kind: "option",
      id: "i1",
      symbol: "SPY 250321P00412500",
      option_type: "PUT",
      strike_price: "412.5",
      expiration_date: "2025-03-21",
      multiplier: "100",
      underlying: { symbol: "SPY" },
    },
    units: "-1",
    price: "4.10",
    cost_basis: "5",
    currency: "USD",
  });
  assert.equal(v2.option_details?.option_type, "put");
  assert.equal(v2.quantity, "-1");
  assert.equal(v2.cost_basis, "5");
});

Deno.test("SnapTrade balances and activities", () => {
  assert.deepEqual(
    snaptradeBalances("a", [{ currency: { code: "cad" }, cash: 1000.01, buying_power: 2000 }]),
    [
      { account_external_id: "a", currency: "CAD", cash: "1000.01", buying_power: "2000" },
    ],
  );
  const t = snaptradeActivity("a", {
    id: "x1",
    type: "REI",
    units: 1.5,
    price: 10.1,
    amount: -15.15,
    currency: { code: "USD" },
    trade_date: "2024-03-01T00:00:00Z",
    symbol: { symbol: "VTI" },
  });
  assert.equal(t.type, "reinvestment");
  assert.equal(t.amount, "-15.15");
  assert.equal(t.trade_date, "2024-03-01");
});

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

Deno.test("Alpaca: assets, positions and activities", () => {
  assert.equal(alpacaAsset({ symbol: "BTC/USD", assetClass: "crypto" }).type, "crypto");
  const p = alpacaPosition("acc", {
    symbol: "AAPL250117C00200000",
    assetClass: "us_option",
    assetId: "id",
    qty: "3",
    currentPrice: "1.25",
    costBasis: "300",
  });
  assert.equal(p.security_type, "option");
  assert.equal(p.option_details?.strike, "200");
  const fill = alpacaActivity("acc", {
    id: "f1",
    activity_type: "FILL",
    side: "sell",
    qty: "2",
    price: "10.05",
    symbol: "AAPL",
    transaction_time: "2024-05-01T14:00:00Z",
  });
  assert.equal(fill.type, "sell");
  assert.equal(fill.amount, "20.1");
  const div = alpacaActivity("acc", {
    id: "d1",
    activity_type: "DIV",
    net_amount: "1.23",
    date: "2024-05-02",
    symbol: "AAPL",
  });
  assert.equal(div.type, "dividend");
  assert.equal(div.amount, "1.23");
});

Deno.test("previous close: exact decimals, never for cash or cash equivalents", () => {
  assert.equal(previousClose(227.9, "equity"), "227.9");
  assert.equal(previousClose("0.10", "option"), "0.1");
  assert.equal(previousClose(1, "cash_equivalent"), null);
  assert.equal(previousClose(1, "cash"), null);
  assert.equal(previousClose(null, "equity"), null);
  assert.equal(previousClose(undefined, "equity"), null);
  assert.equal(previousClose("0", "equity"), null); // a provider's "no close"
  assert.equal(previousClose(-3, "equity"), null);
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

Deno.test("Alpaca: lastday_price is the previous close; SnapTrade has none", () => {
  const eq = alpacaPosition("acc", {
    symbol: "AAPL",
    assetClass: "us_equity",
    qty: "10",
    currentPrice: "228.52",
    lastdayPrice: "227.1",
    costBasis: "2000",
  });
  assert.equal(eq.price, "228.52");
  assert.equal(eq.previous_close, "227.1");
  const opt = alpacaPosition("acc", {
    symbol: "AAPL250117C00200000",
    assetClass: "us_option",
    qty: "-1",
    currentPrice: "1.25",
    lastdayPrice: "1.3",
  });
  assert.equal(opt.previous_close, "1.3");
  const raw = alpacaPosition("acc", {
    symbol: "MSFT",
    asset_class: "us_equity",
    qty: "1",
    currentPrice: "415.3",
    lastday_price: "410.05",
  });
  assert.equal(raw.previous_close, "410.05");
  const missing = alpacaPosition("acc", { symbol: "KO", qty: "1", currentPrice: "60" });
  assert.equal(missing.previous_close, null);
  const zero = alpacaPosition("acc", {
    symbol: "KO",
    qty: "1",
    currentPrice: "60",
    lastdayPrice: "0",
  });
  assert.equal(zero.previous_close, null);
  const st = snaptradePosition("acc", {
    symbol: { symbol: { id: "u", symbol: "VTI", type: { code: "et" }, currency: { code: "USD" } } },
    units: 2,
    price: 250.1,
    average_purchase_price: 200,
  });
  assert.equal(st.previous_close, null);
});
