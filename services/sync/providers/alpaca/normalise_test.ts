import assert from "node:assert/strict";
import { alpacaActivity, alpacaAsset, alpacaPosition } from "./normalise.ts";

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

Deno.test("Alpaca: lastday_price is the previous close", () => {
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
});
