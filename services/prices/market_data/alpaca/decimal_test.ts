import assert from "node:assert/strict";
import { decimalString } from "./decimal.ts";

Deno.test("decimal strings: exact, never exponent notation", () => {
  assert.equal(decimalString(187.12), "187.12");
  assert.equal(decimalString(0.1 + 0.2), "0.30000000000000004"); // the number as sent
  assert.equal(decimalString(1e-7), "0.0000001");
  assert.equal(decimalString(1e21), "1000000000000000000000");
  assert.equal(decimalString(100), "100");
  assert.equal(decimalString("0.00012"), "0.00012");
  assert.equal(decimalString(12345678901234567890n), "12345678901234567890");
  assert.throws(() => decimalString(NaN), TypeError);
  assert.throws(() => decimalString(null), TypeError);
});

Deno.test("the fast path for numbers agrees with decimal.js", async () => {
  const { Decimal } = await import("decimal.js");
  for (let i = 0; i < 10_000; i++) {
    const n = Math.round(Math.random() * 10 ** (1 + (i % 9))) / 10 ** (i % 7);
    assert.equal(decimalString(n), new Decimal(n).toFixed(), String(n));
  }
});
