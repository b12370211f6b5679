import assert from "node:assert/strict";
import { abs, add, mul, neg, toDecimalString } from "./decimal.ts";

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

Deno.test("sums and products keep every digit (decimal.js's default would round to 20)", () => {
  assert.equal(mul("0.123456789", "97123.45678901"), "11990.55011175142508889");
  assert.equal(mul("-0.123456789", "97123.45678901"), "-11990.55011175142508889");
  assert.equal(
    add("12345678901234567890.5", "0.000000000000000001"),
    "12345678901234567890.500000000000000001",
  );
  assert.equal(neg("12345678901234567890.123456789"), "-12345678901234567890.123456789");
  assert.equal(abs("-12345678901234567890.123456789"), "12345678901234567890.123456789");
});
