import assert from "node:assert/strict";
import { Decimal } from "decimal.js";
import { AMOUNT_SCALE, parseScaled, PRICE_SCALE, scaledText, UNITS_SCALE } from "./scaled.ts";

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

function randomDecimal(r: () => number, maxDecimals: number): string {
  const int = Math.floor(r() * 10 ** Math.floor(r() * 9)).toString();
  const fracLen = Math.floor(r() * (maxDecimals + 1));
  let frac = "";
  for (let i = 0; i < fracLen; i++) frac += Math.floor(r() * 10);
  return (r() < 0.3 ? "-" : "") + int + (frac ? "." + frac : "");
}

const canonical = (d: Decimal) => d.isZero() ? "0" : d.toFixed();

Deno.test("fixed-point values, sums and differences agree with decimal.js at unlimited precision", () => {
  const r = prng(42);
  for (let i = 0; i < 5_000; i++) {
    const q = randomDecimal(r, UNITS_SCALE), p = randomDecimal(r, PRICE_SCALE);
    const c = randomDecimal(r, AMOUNT_SCALE);
    const value = parseScaled(q, UNITS_SCALE)! * parseScaled(p, PRICE_SCALE)!;
    assert.equal(scaledText(value, AMOUNT_SCALE), canonical(new D(q).times(p)), `${q} × ${p}`);
    const cost = parseScaled(c, AMOUNT_SCALE)!;
    assert.equal(
      scaledText(value - cost, AMOUNT_SCALE),
      canonical(new D(q).times(p).minus(c)),
      `${q} × ${p} − ${c}`,
    );
    assert.equal(scaledText(parseScaled(c, AMOUNT_SCALE)!, AMOUNT_SCALE), canonical(new D(c)));
  }
});

Deno.test("a product keeps every digit (decimal.js's default 20 would round it)", () => {
  const v = parseScaled("0.123456789", UNITS_SCALE)! * parseScaled("97123.45678901", PRICE_SCALE)!;
  assert.equal(scaledText(v, AMOUNT_SCALE), "11990.55011175142508889");
});

Deno.test("a number more precise than its scale is refused, never rounded", () => {
  assert.equal(parseScaled("0.0000000000001", PRICE_SCALE), null);
  assert.equal(parseScaled("1.5000000000000000000", PRICE_SCALE), 1_500_000_000_000n);
  for (const bad of ["", "1e5", "1.", ".5", "NaN", "--1", "1,5"]) {
    assert.equal(parseScaled(bad, PRICE_SCALE), null, bad);
  }
  assert.equal(scaledText(-5n, 2), "-0.05");
  assert.equal(scaledText(0n, 30), "0");
  assert.equal(scaledText(1200n, 2), "12");
});
