import assert from "node:assert/strict";
import {
  compactMoney,
  dayChangeParts,
  formatFraction,
  formatMoney,
  formatPercent,
  formatQuantity,
  formatSignedMoney,
  timeAgo,
  tone,
} from "./format.ts";

Deno.test("tone is read off the decimal string, never a float", () => {
  assert.equal(tone("0.00"), "flat");
  assert.equal(tone("-0"), "flat");
  assert.equal(tone("0.0000001"), "up");
  assert.equal(tone("-0.0000001"), "down");
  assert.equal(tone(null), "flat");
  assert.equal(tone(undefined), "flat");
});

Deno.test("signed amounts and percentages carry their sign as text", () => {
  assert.match(formatSignedMoney("12.3", "USD"), /^\+\$12\.30$/);
  assert.match(formatSignedMoney("-4", "USD"), /^−\$4\.00$/);
  assert.match(formatSignedMoney("0", "USD"), /^\$0\.00$/);
  assert.equal(formatSignedMoney(null, "USD"), "—");
  assert.equal(formatPercent("1.25"), "+1.25%");
  assert.equal(formatPercent("-0.40"), "−0.40%");
  assert.equal(formatPercent("0.00"), "0.00%");
  assert.equal(formatPercent(null), "");
});

Deno.test("a day change is an amount and a percentage in brackets, kept apart", () => {
  const up = dayChangeParts("12.3", "0.52", "USD");
  assert.match(up.amount, /^\+\$12\.30$/);
  assert.equal(up.percent, "(+0.52%)");
  const down = dayChangeParts("-4", "-1.5", "USD");
  assert.match(down.amount, /^−\$4\.00$/);
  assert.equal(down.percent, "(−1.5%)");
  assert.deepEqual(dayChangeParts("1", null, "USD").percent, null);
  assert.deepEqual(dayChangeParts(null, null, "USD"), { amount: "—", percent: null });
});

Deno.test("money in its currency, an unknown currency code still shows two places", () => {
  assert.match(formatMoney("1234.5", "USD"), /1,234\.50/);
  assert.match(formatMoney("1234.5", "CAD"), /1,234\.50/);
  assert.equal(formatMoney("1234.5", "NOT A CODE"), "1,234.50");
  assert.equal(formatMoney(undefined, "USD"), "—");
  assert.equal(formatQuantity("0.1234567"), "0.123457");
});

Deno.test("time ago in words", () => {
  const now = Date.parse("2026-11-30T12:00:00Z");
  assert.equal(timeAgo(null, now), "never");
  assert.equal(timeAgo("2026-11-30T11:59:30Z", now), "just now");
  assert.equal(timeAgo("2026-11-30T11:55:00Z", now), "5 minutes ago");
  assert.equal(timeAgo("2026-11-30T09:00:00Z", now), "3 hours ago");
  assert.equal(timeAgo("2026-11-28T12:00:00Z", now), "2 days ago");
});

Deno.test("fractions are percentages worked out in decimal, never through a float", () => {
  assert.equal(formatFraction("0.0523"), "+5.23%");
  assert.equal(formatFraction("-0.0481"), "−4.81%");
  assert.equal(formatFraction("0"), "0.00%");
  // Half away from zero, exactly: 0.000050 is 0.0050 %, which a float would not round up.
  assert.equal(formatFraction("0.00005"), "+0.01%");
  assert.equal(formatFraction("-0.00005"), "−0.01%");
  assert.equal(formatFraction("0.00004999"), "0.00%");
  assert.equal(formatFraction("-0.00004999"), "0.00%");
  // 1.005 % is 1.00499999… as a float and would round down.
  assert.equal(formatFraction("0.01005"), "+1.01%");
  assert.equal(formatFraction("12.5"), "+1250.00%");
  assert.equal(formatFraction(null), "—");
  assert.equal(formatFraction("0.4312", { signed: false }), "43.12%");
  assert.equal(formatFraction("-0.00001", { signed: false }), "0.00%");
  assert.equal(formatFraction("-0.25", { signed: false }), "-25.00%");
  assert.equal(formatFraction("0.123456", { places: 1 }), "+12.3%");
});

Deno.test("axis ticks are compact amounts in the currency", () => {
  assert.match(compactMoney(12_345, "USD"), /^\$12\.3K$/);
  assert.match(compactMoney(2_500_000, "USD"), /^\$2\.5M$/);
  assert.match(compactMoney(12_345, "NOT A CODE"), /^12\.3K$/);
});
