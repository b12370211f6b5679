import assert from "node:assert/strict";
import {
  decode,
  decodeKvToken,
  decodeToken,
  encode,
  encodeKvToken,
  encodeToken,
  kvKeys,
  lastToken,
  PriceTick,
  priceTickJson,
  safeDecode,
  subjects,
} from "./mod.ts";
import { renderSchemas } from "./export_schema.ts";

Deno.test("symbol tokens survive dots and wildcards", () => {
  for (const s of ["BRK.B", "BTC/USD", "A*B", "X>Y", "50%"]) {
    const token = encodeToken(s);
    assert.doesNotMatch(token, /[.*> ]/);
    assert.equal(decodeToken(token), s);
    assert.equal(lastToken(subjects.price(s)), s);
  }
  assert.equal(subjects.price("BRK.B"), "prices.BRK%2EB");
});

Deno.test("messages round-trip and reject bad shapes", () => {
  const tick = {
    symbol: "AAPL",
    price: "187.25",
    size: "100",
    time: "2026-11-21T15:00:00.000Z",
    feed: "iex" as const,
    delayed: false,
  };
  assert.deepEqual(decode(PriceTick, encode(PriceTick, tick)), tick);
  const bad = new TextEncoder().encode(JSON.stringify({ ...tick, price: 187.25 }));
  assert.equal(safeDecode(PriceTick, bad).success, false);
  assert.equal(safeDecode(PriceTick, new Uint8Array([0xff])).success, false);
});

Deno.test("the fast tick encoder writes what JSON.stringify writes", () => {
  for (const symbol of ["AAPL", "BRK.B", "BTC/USD"]) {
    const tick: PriceTick = {
      symbol,
      price: "0.0001",
      size: "12.5",
      time: "2026-11-21T15:00:00.123Z",
      feed: "crypto",
      delayed: true,
    };
    assert.equal(priceTickJson(tick, JSON.stringify(symbol)), JSON.stringify(tick));
  }
});

Deno.test("KV key tokens are valid keys and round-trip", () => {
  for (const s of ["BRK.B", "BTC/USD", "AAPL", "A=B", "Ä"]) {
    const token = encodeKvToken(s);
    assert.match(token, /^[-_/=A-Za-z0-9]+$/);
    assert.equal(decodeKvToken(token), s);
  }
  assert.equal(kvKeys.lastPrice("BRK.B"), "BRK=2EB");
  assert.equal(kvKeys.lastPrice("BTC/USD"), "BTC/USD");
});

Deno.test("committed JSON Schemas are current (run `deno task proto:schema`)", async () => {
  for (const [file, text] of renderSchemas()) {
    const committed = await Deno.readTextFile(new URL(`./schema/${file}`, import.meta.url));
    assert.equal(committed, text, `proto/schema/${file} is stale`);
  }
});
