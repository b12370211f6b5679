import assert from "node:assert/strict";
import {
  canonicalCryptoPair,
  canonicalTicker,
  occSymbol,
  type PositionIdentity,
  resolveInstrument,
} from "./instruments.ts";

function position(over: Partial<PositionIdentity>): PositionIdentity {
  return {
    provider: "snaptrade",
    symbol: "AAPL",
    name: null,
    security_type: "equity",
    currency: "USD",
    option_details: null,
    provider_security_id: null,
    ...over,
  };
}

function symbolOf(over: Partial<PositionIdentity>) {
  const r = resolveInstrument(position(over));
  assert.equal(r.kind, "resolved", JSON.stringify(r));
  return r.kind === "resolved" ? `${r.instrument.symbol} ${r.instrument.currency}` : null;
}

Deno.test("crypto pairs in every spelling resolve to Alpaca's BTC/USD", () => {
  for (const s of ["BTC", "BTCUSD", "BTC-USD", "BTC/USD", "btc/usd", "BTC USD"]) {
    assert.equal(symbolOf({ symbol: s, security_type: "crypto" }), "BTC/USD USD", s);
  }
  assert.equal(canonicalCryptoPair("ETHBTC", "USD"), "ETH/BTC");
  assert.equal(canonicalCryptoPair("USDC", "USD"), "USDC/USD"); // a stablecoin, not a quote
  assert.equal(canonicalCryptoPair("SOLUSDT", "USD"), "SOL/USDT");
  assert.equal(canonicalCryptoPair("BTC", "CAD"), "BTC/CAD");
  assert.equal(canonicalCryptoPair("BTC.X?", "USD"), null);
});

Deno.test("share classes in every spelling resolve to Alpaca's BRK.B", () => {
  for (const s of ["BRK.B", "BRK/B", "BRK-B", "BRK B", "brk.b", " BRK  B "]) {
    assert.equal(symbolOf({ symbol: s }), "BRK.B USD", s);
  }
  assert.equal(canonicalTicker("BF-A"), "BF.A");
  assert.equal(canonicalTicker("AAPL"), "AAPL");
  // A class is one or two letters: anything else is not a ticker.
  assert.equal(canonicalTicker("BRK.BBB"), null);
  assert.equal(canonicalTicker("AAPL 260116C00200000"), null);
});

Deno.test("an equity is one instrument per currency; crypto and equity of one name are not", () => {
  assert.equal(symbolOf({ symbol: "SHOP", currency: "CAD" }), "SHOP CAD");
  assert.equal(symbolOf({ symbol: "BTC", security_type: "etf" }), "BTC USD");
  assert.equal(symbolOf({ symbol: "BTC", security_type: "crypto" }), "BTC/USD USD");
});

Deno.test("options resolve by OCC symbol, from the symbol or from the contract", () => {
  const compact = "AAPL270115C00250000";
  const padded = "AAPL  270115C00250000";
  const details = {
    underlying: "AAPL",
    strike: "250",
    expiration: "2027-01-15",
    option_type: "call",
    multiplier: "100",
  };
  for (const symbol of [compact, padded, "aapl 270115c00250000", "some provider name"]) {
    const r = resolveInstrument(
      position({ symbol, security_type: "option", option_details: details }),
    );
    assert.equal(r.kind, "resolved", symbol);
    if (r.kind !== "resolved") continue;
    assert.equal(r.instrument.kind, "option");
    assert.equal(r.instrument.symbol, compact);
    assert.equal(r.instrument.occ_symbol, padded);
  }
  assert.deepEqual(
    occSymbol("x", { ...details, underlying: "BRK.B", strike: "412.5", option_type: "put" }),
    { padded: "BRKB  270115P00412500", compact: "BRKB270115P00412500" },
  );
  const bad = resolveInstrument(position({
    symbol: "weird",
    security_type: "option",
    option_details: { ...details, expiration: "soon" },
  }));
  assert.equal(bad.kind, "unresolved");
});

Deno.test("each provider's id goes under that provider's column", () => {
  const ids = [
    ["snaptrade", "snaptrade_symbol_id"],
    ["plaid", "plaid_security_id"],
    ["alpaca", "alpaca_asset_id"],
  ] as const;
  for (const [provider, column] of ids) {
    const r = resolveInstrument(position({ provider, provider_security_id: "id-1" }));
    assert.equal(r.kind, "resolved");
    if (r.kind === "resolved") {
      assert.deepEqual(r.instrument.provider_id, { column, value: "id-1" });
    }
  }
  const none = resolveInstrument(position({}));
  assert.equal(none.kind === "resolved" && none.instrument.provider_id, null);
});

Deno.test("positions without a ticker stay unresolved, say why and keep their provider id", () => {
  const cusip = resolveInstrument(
    position({ provider: "plaid", symbol: "037833100", provider_security_id: "sec-9" }),
  );
  assert.deepEqual(cusip, {
    kind: "unresolved",
    reason: 'the provider gives no ticker ("037833100")',
    provider_id: { column: "plaid_security_id", value: "sec-9" },
  });
  const cash = resolveInstrument(position({ symbol: "CUR:USD", security_type: "cash" }));
  assert.equal(cash.kind, "unresolved");
  assert.match(cash.kind === "unresolved" ? cash.reason : "", /balance/);
  // Kinds follow the position's security type.
  const fund = resolveInstrument(position({ symbol: "VFIAX", security_type: "mutual_fund" }));
  assert.equal(fund.kind === "resolved" && fund.instrument.kind, "fund");
});
