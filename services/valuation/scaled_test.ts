import assert from "node:assert/strict";
import { Decimal } from "decimal.js";
import { abs, add, mul, parseExact, percentText, sub, toText } from "./scaled.ts";

const D = Decimal.clone({ precision: 1_000 });

/** A seeded PRNG (mulberry32), so a failure reproduces. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomDecimal(r: () => number): string {
  const int = Math.floor(r() * 10 ** Math.floor(r() * 9)).toString();
  const fracLen = Math.floor(r() * 12);
  let frac = "";
  for (let i = 0; i < fracLen; i++) frac += Math.floor(r() * 10);
  const sign = r() < 0.3 ? "-" : "";
  return sign + int + (frac ? "." + frac : "");
}

function canonical(d: Decimal): string {
  return d.isZero() ? "0" : d.toFixed();
}

Deno.test("exact arithmetic agrees with decimal.js at unlimited precision", () => {
  const r = prng(42);
  for (let i = 0; i < 5_000; i++) {
    const a = randomDecimal(r), b = randomDecimal(r);
    const ea = parseExact(a), eb = parseExact(b);
    assert.equal(toText(mul(ea, eb)), canonical(new D(a).times(b)), `${a} × ${b}`);
    assert.equal(toText(add(ea, eb)), canonical(new D(a).plus(b)), `${a} + ${b}`);
    assert.equal(toText(sub(ea, eb)), canonical(new D(a).minus(b)), `${a} - ${b}`);
    assert.equal(toText(abs(ea)), canonical(new D(a).abs()));
  }
});

Deno.test("a product keeps every digit (decimal.js's default 20 would round it)", () => {
  assert.equal(
    toText(mul(parseExact("0.123456789"), parseExact("97123.45678901"))),
    "11990.55011175142508889",
  );
});

Deno.test("percentText rounds half away from zero to two places, like percentOf", () => {
  const cases: [string, string, string | null][] = [
    ["1", "8", "12.50"],
    ["-1", "8", "-12.50"],
    ["1", "3", "33.33"],
    ["2", "3", "66.67"],
    ["-2", "3", "-66.67"],
    ["0.00005", "1", "0.01"],
    ["-0.00004", "1", "0.00"],
    ["0", "5", "0.00"],
    ["5", "0", null],
    ["123.456", "1000.5", "12.34"],
  ];
  for (const [c, b, want] of cases) {
    assert.equal(percentText(parseExact(c), parseExact(b)), want, `${c} / ${b}`);
    if (want !== null) {
      const d = new D(c).div(b).times(100).toDecimalPlaces(2, Decimal.ROUND_HALF_UP);
      assert.equal(d.isZero() ? "0.00" : d.toFixed(2), want);
    }
  }
});

Deno.test("parseExact refuses what is not a decimal", () => {
  for (const bad of ["", "1e5", "1.", ".5", "NaN", "--1", "1,5"]) {
    assert.throws(() => parseExact(bad));
  }
});
