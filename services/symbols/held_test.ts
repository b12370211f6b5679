import assert from "node:assert/strict";
import { HeldSet } from "./held.ts";

const aapl = { symbol: "AAPL", kind: "equity" as const, currency: "USD" };
const btc = { symbol: "BTC/USD", kind: "crypto" as const, currency: "USD" };

Deno.test("a symbol is held while any user holds it", () => {
  const held = new HeldSet();
  assert.deepEqual(held.setUser("a", [aapl, btc]), { added: ["AAPL", "BTC/USD"], removed: [] });
  assert.deepEqual(held.setUser("b", [aapl]), { added: [], removed: [] });
  assert.equal(held.holders("AAPL"), 2);
  assert.deepEqual(held.setUser("a", [btc]), { added: [], removed: [] });
  assert.deepEqual(held.setUser("b", []), { added: [], removed: ["AAPL"] });
  assert.deepEqual(held.instruments(), [btc]);
});

Deno.test("the same update twice changes nothing the second time", () => {
  const held = new HeldSet();
  held.setUser("a", [aapl]);
  assert.deepEqual(held.setUser("a", [aapl]), { added: [], removed: [] });
  assert.equal(held.holders("AAPL"), 1);
});

Deno.test("reset replaces every user's holdings", () => {
  const held = new HeldSet();
  held.setUser("a", [aapl]);
  held.reset(new Map([["b", [btc]]]));
  assert.equal(held.holders("AAPL"), 0);
  assert.equal(held.size, 1);
});
