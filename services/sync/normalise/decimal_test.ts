import assert from "node:assert/strict";
import { toDecimalString } from "./decimal.ts";

Deno.test("toDecimalString converts JSON numbers without float artefacts", () => {
  assert.equal(toDecimalString(0.1), "0.1");
  assert.equal(toDecimalString(0.1 + 0.2), "0.30000000000000004"); // the number itself, not a rounding
  assert.equal(toDecimalString(1e-7), "0.0000001");
  assert.equal(toDecimalString(123456789.123456), "123456789.123456");
  assert.equal(toDecimalString("12.3400"), "12.34");
  assert.equal(toDecimalString(-0), "0");
  assert.equal(toDecimalString(1e21), "1000000000000000000000");
  assert.throws(() => toDecimalString("abc"));
  assert.throws(() => toDecimalString(NaN));
});
