import assert from "node:assert/strict";
import { parseOcc, previousClose } from "./fields.ts";

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
