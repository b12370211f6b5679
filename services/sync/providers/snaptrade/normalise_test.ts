import assert from "node:assert/strict";
import { snaptradeActivity, snaptradeBalances, snaptradePosition } from "./normalise.ts";

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

Deno.test("SnapTrade positions carry no previous close", () => {
  const st = snaptradePosition("acc", {
    symbol: { symbol: { id: "u", symbol: "VTI", type: { code: "et" }, currency: { code: "USD" } } },
    units: 2,
    price: 250.1,
    average_purchase_price: 200,
  });
  assert.equal(st.previous_close, null);
});
