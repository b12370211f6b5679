import assert from "node:assert/strict";
import { checkRisk } from "./risk.ts";

const limits = { maxOrderNotional: "1000", maxDailyNotional: "2500", collarPercent: "10" };
const order = { placedToday: "0", lastPrice: "100", limitPrice: null, stopPrice: null };

Deno.test("risk: caps per order and per day, and a collar around the last price", () => {
  assert.equal(checkRisk({ ...order, estimatedAmount: "1000" }, limits), null);
  assert.equal(checkRisk({ ...order, estimatedAmount: "1000.01" }, limits)?.code, "order_cap");
  const day = checkRisk({ ...order, estimatedAmount: "600", placedToday: "2000" }, limits);
  assert.equal(day?.code, "daily_cap");
  assert.match(day!.message, /500\.00 is left today/);
  assert.equal(checkRisk({ ...order, estimatedAmount: "10", limitPrice: "110" }, limits), null);
  assert.equal(
    checkRisk({ ...order, estimatedAmount: "10", limitPrice: "110.01" }, limits)?.code,
    "price_collar",
  );
  assert.equal(
    checkRisk({ ...order, estimatedAmount: "10", stopPrice: "89.99" }, limits)?.code,
    "price_collar",
  );
  // Without a last price there is nothing to hold a price against.
  assert.equal(
    checkRisk({ ...order, lastPrice: null, estimatedAmount: "10", limitPrice: "500" }, limits),
    null,
  );
});
