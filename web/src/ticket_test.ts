import assert from "node:assert/strict";
import {
  amountLabel,
  amountOf,
  expiry,
  newIdempotencyKey,
  previewBody,
  searchQuery,
  type TicketForm,
} from "./ticket.ts";

const ACCOUNT = "00000000-0000-4000-8000-000000000001";
const form = (over: Partial<TicketForm> = {}): TicketForm => ({
  symbol: "AAPL",
  side: "buy",
  accountId: ACCOUNT,
  sizeBy: "quantity",
  quantity: "1",
  notional: "",
  type: "market",
  limitPrice: "",
  stopPrice: "",
  timeInForce: "day",
  ...over,
});

Deno.test("ticket: amounts as the api takes them", () => {
  assert.equal(amountOf(" 10 "), "10");
  assert.equal(amountOf("2.5"), "2.5");
  assert.equal(amountOf(".5"), "0.5");
  assert.equal(amountOf("1,000"), "1000");
  assert.equal(amountOf("1,000.25"), "1000.25");
  for (const bad of ["", "0", "0.00", "-1", "1e3", "abc", "1,00", "1.2.3", "1.0000000001"]) {
    assert.equal(amountOf(bad), null, bad);
  }
});

Deno.test("ticket: a market order by quantity is the account, symbol and size", () => {
  assert.deepEqual(previewBody(form()), {
    ok: true,
    body: {
      symbol: "AAPL",
      side: "buy",
      quantity: "1",
      type: "market",
      time_in_force: "day",
      account_id: ACCOUNT,
    },
  });
});

Deno.test("ticket: limit and stop prices only where the type takes them", () => {
  const r = previewBody(form({ type: "stop_limit", limitPrice: "180", stopPrice: "181.5" }));
  assert.ok(r.ok);
  assert.equal(r.body.limit_price, "180");
  assert.equal(r.body.stop_price, "181.5");
  // Left over from an earlier choice of type: not sent.
  const m = previewBody(form({ type: "market", limitPrice: "180", stopPrice: "170" }));
  assert.ok(m.ok);
  assert.equal(m.body.limit_price, undefined);
  assert.equal(m.body.stop_price, undefined);
  const missing = previewBody(form({ type: "stop_limit" }));
  assert.ok(!missing.ok);
  assert.deepEqual(Object.keys(missing.errors).sort(), ["limitPrice", "stopPrice"]);
});

Deno.test("ticket: a notional order is a market order for the day", () => {
  const r = previewBody(
    form({ sizeBy: "notional", notional: "500", type: "limit", timeInForce: "gtc" }),
  );
  assert.ok(r.ok);
  assert.deepEqual(r.body, {
    symbol: "AAPL",
    side: "buy",
    notional: "500",
    type: "market",
    time_in_force: "day",
    account_id: ACCOUNT,
  });
});

Deno.test("ticket: what to fix, as sentences", () => {
  const r = previewBody(form({ accountId: null, quantity: "", side: "sell" }));
  assert.ok(!r.ok);
  assert.equal(r.errors.account, "Choose the account to place the order in.");
  assert.equal(r.errors.quantity, "Enter how many shares to sell.");
  const bad = previewBody(form({ quantity: "lots" }));
  assert.ok(!bad.ok);
  assert.match(bad.errors.quantity!, /^Enter the number of shares with digits/);
  for (const e of [...Object.values(r.errors), ...Object.values(bad.errors)]) {
    assert.match(e!, /^[A-Z].*\.$/);
  }
});

Deno.test("ticket: a preview's time left, and when it is over", () => {
  const at = Date.parse("2026-03-02T15:00:00Z");
  assert.deepEqual(expiry("2026-03-02T15:05:00Z", at), { expired: false, left: "5:00" });
  assert.deepEqual(expiry("2026-03-02T15:00:09.200Z", at), { expired: false, left: "0:10" });
  assert.deepEqual(expiry("2026-03-02T15:00:00Z", at), { expired: true, left: "0:00" });
  assert.deepEqual(expiry("2026-03-02T14:59:00Z", at), { expired: true, left: "0:00" });
  assert.equal(expiry("not a time", at).expired, true);
});

Deno.test("ticket: words and keys", () => {
  assert.equal(amountLabel("buy"), "Estimated cost");
  assert.equal(amountLabel("sell"), "Estimated proceeds");
  const k = newIdempotencyKey();
  assert.match(k, /^[A-Za-z0-9_.:-]{8,128}$/);
  assert.notEqual(k, newIdempotencyKey());
});

Deno.test("ticket: symbol searches as the api takes them", () => {
  assert.equal(searchQuery("  apple   inc "), "apple inc");
  assert.equal(searchQuery("BRK.B"), "BRK.B");
  assert.equal(searchQuery("AT&T"), "AT&T");
  assert.equal(searchQuery(""), null);
  assert.equal(searchQuery("a<b"), null);
  assert.equal(searchQuery("x".repeat(41)), null);
});
