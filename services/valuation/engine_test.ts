import assert from "node:assert/strict";
import { PortfolioValue } from "@meridian/proto";
import { ValuationEngine } from "./engine.ts";
import type { PositionInput, UserHoldings } from "./holdings.ts";

const U1 = "00000000-0000-4000-8000-000000000001";
const U2 = "00000000-0000-4000-8000-000000000002";
const A1 = "00000000-0000-4000-8000-0000000000a1";
const A2 = "00000000-0000-4000-8000-0000000000a2";

function position(p: Partial<PositionInput> & Pick<PositionInput, "symbol" | "quantity">) {
  const symbol = p.instrument_symbol ?? p.symbol;
  return {
    id: crypto.randomUUID(),
    account_id: A1,
    security_type: "equity",
    price: "100",
    previous_close: null,
    cost_basis: null,
    currency: "USD",
    option_details: null,
    synced_at: new Date("2026-11-30T12:00:00Z"),
    instrument_id: `10000000-0000-4000-8000-${
      symbol.padStart(12, "0").slice(-12).replace(/[^0-9a-f]/gi, "0")
    }`,
    instrument_symbol: symbol,
    instrument_currency: "USD",
    ...p,
  } as PositionInput;
}

function holdings(user: string, positions: PositionInput[], extra: Partial<UserHoldings> = {}) {
  return {
    user_id: user,
    base_currency: "USD",
    account_ids: [A1, A2],
    positions,
    balances: [],
    ...extra,
  } satisfies UserHoldings;
}

function harness(publishMs = 1000) {
  const sent: PortfolioValue[] = [];
  const engine: ValuationEngine = new ValuationEngine({
    publishMs,
    refreshMs: 30_000,
    publish: (v) => {
      sent.push(PortfolioValue.parse(JSON.parse(v.json)));
      queueMicrotask(() => engine.settled(v.userId, true));
    },
  });
  return { engine, sent };
}

const tick = (symbol: string, price: string, time = "2026-11-30T15:00:00.000Z") => ({
  symbol,
  price,
  time,
  delayed: false,
});

Deno.test("a tick moves the value by exactly Δprice × quantity, in the accounts that hold it", async () => {
  const { engine, sent } = harness();
  engine.setUser(
    holdings(U1, [
      position({ symbol: "AAPL", quantity: "10.5" }),
      position({ symbol: "AAPL", quantity: "0.000001", account_id: A2, price: "99" }),
      position({ symbol: "MSFT", quantity: "3" }),
    ], { balances: [{ account_id: A1, currency: "USD", cash: "12.34" }] }),
    0,
  );
  engine.drain(0);
  assert.equal(sent.length, 1);
  // Both AAPL accounts take the freshest provider price pair (the same synced_at: the smaller id).
  await Promise.resolve();
  engine.onTick(tick("AAPL", "187.4321"), 10);
  engine.onTick(tick("AAPL", "187.4322"), 20);
  engine.drain(500);
  assert.equal(sent.length, 1, "at most one value per interval");
  engine.drain(1000);
  assert.equal(sent.length, 2);
  const v = sent[1];
  // 10.500001 × 187.4322 + 3 × 100 + 12.34
  assert.equal(v.total, "2280.3782874322");
  assert.equal(v.seq, 1000, "the clock, being ahead of the last seq + 1");
  assert.equal(v.accounts.find((a) => a.account_id === A2)!.value, "0.0001874322");
  assert.deepEqual(v.quotes.AAPL, ["187.4322", null, "2026-11-30T15:00:00.000Z", false]);
  await Promise.resolve();
  const before = v.total;
  engine.onTick(tick("AAPL", "188.4322", "2026-11-30T15:00:01.000Z"), 1100);
  engine.drain(2000);
  const after = sent[2].total;
  assert.equal(before, "2280.3782874322");
  assert.equal(after, "2290.8782884322"); // + 1 × 10.500001
});

Deno.test("an idle portfolio is published as soon as a tick reaches it; others are not", async () => {
  const { engine, sent } = harness();
  engine.setUser(holdings(U1, [position({ symbol: "AAPL", quantity: "1" })]), 0);
  engine.setUser(holdings(U2, [position({ symbol: "MSFT", quantity: "1" })]), 0);
  engine.drain(0);
  assert.equal(sent.length, 2);
  await Promise.resolve();
  engine.drain(1000); // nothing changed: both go idle
  assert.equal(sent.length, 2);
  engine.onTick(tick("AAPL", "101"), 5000);
  assert.equal(engine.takeDrainAgain(), true);
  engine.drain(5000);
  assert.equal(sent.length, 3);
  assert.equal(sent[2].user_id, U1);
  assert.equal(sent[2].total, "101");
});

Deno.test("an older tick than the price held is ignored", async () => {
  const { engine, sent } = harness();
  engine.setUser(holdings(U1, [position({ symbol: "AAPL", quantity: "2" })]), 0);
  engine.drain(0);
  await Promise.resolve();
  engine.onTick(tick("AAPL", "110", "2026-11-30T15:00:05.000Z"), 1000);
  engine.onTick(tick("AAPL", "90", "2026-11-30T15:00:04.000Z"), 1000);
  engine.drain(1000);
  assert.equal(sent.at(-1)!.total, "220");
});

Deno.test("a lost swap raises seq above the newer value's, and the user is published again", async () => {
  const sent: PortfolioValue[] = [];
  const engine = new ValuationEngine({
    publishMs: 100,
    refreshMs: 30_000,
    publish: (v) => sent.push(PortfolioValue.parse(JSON.parse(v.json))),
  });
  engine.setUser(holdings(U1, [position({ symbol: "AAPL", quantity: "1" })]), 0, 41);
  engine.drain(0);
  assert.equal(sent[0].seq, 42);
  engine.drain(200); // still in flight: not published again
  assert.equal(sent.length, 1);
  engine.settled(U1, false, 500);
  engine.drain(400);
  assert.equal(sent[1].seq, 501, "one above the newer value's, being ahead of the clock");
  await Promise.resolve();
});

Deno.test("holdings replaced by a sync are published at the next turn with the seq continuing", async () => {
  const { engine, sent } = harness();
  engine.setUser(holdings(U1, [position({ symbol: "AAPL", quantity: "1" })]), 0);
  engine.drain(0);
  await Promise.resolve();
  engine.setUser(holdings(U1, [position({ symbol: "AAPL", quantity: "3" })]), 300);
  engine.drain(999);
  assert.equal(sent.length, 1);
  engine.drain(1000);
  assert.equal(sent[1].total, "300");
  assert.equal(sent[1].seq, 1000);
  assert.ok(sent[1].seq > sent[0].seq);
});

Deno.test("a removed user is neither valued nor woken", async () => {
  const { engine, sent } = harness();
  engine.setUser(holdings(U1, [position({ symbol: "AAPL", quantity: "1" })]), 0);
  engine.drain(0);
  await Promise.resolve();
  engine.removeUser(U1);
  engine.onTick(tick("AAPL", "120"), 2000);
  engine.drain(5000);
  assert.equal(sent.length, 1);
  assert.equal(engine.users, 0);
});

Deno.test("a woken portfolio goes before the wheel's backlog", async () => {
  const U3 = "00000000-0000-4000-8000-000000000003";
  const { engine, sent } = harness();
  engine.setUser(holdings(U1, [position({ symbol: "AAPL", quantity: "1" })]), 0);
  engine.drain(0);
  await Promise.resolve();
  engine.drain(1000); // U1 goes idle
  engine.setUser(holdings(U2, [position({ symbol: "MSFT", quantity: "1" })]), 1500);
  engine.setUser(holdings(U3, [position({ symbol: "MSFT", quantity: "2" })]), 1500);
  engine.onTick(tick("AAPL", "150"), 1500);
  assert.equal(engine.drain(1500, 1), 1);
  assert.equal(sent.at(-1)!.user_id, U1);
  assert.equal(engine.drain(1500), 2);
});

/** An engine whose values stay unsettled until the test settles them; `sent` has their users. */
function unsettled(maxInFlight?: number) {
  const sent: string[] = [];
  const engine = new ValuationEngine({
    publishMs: 1000,
    refreshMs: 30_000,
    maxInFlight,
    publish: (v) => void sent.push(v.userId),
  });
  return { engine, sent };
}

Deno.test("at most maxInFlight values wait for NATS; a settle calls for the next drain", () => {
  const { engine, sent } = unsettled(1);
  engine.setUser(holdings(U1, [position({ symbol: "AAPL", quantity: "1" })]), 0);
  engine.setUser(holdings(U2, [position({ symbol: "AAPL", quantity: "2" })]), 0);
  engine.takeDrainAgain();
  engine.drain(0);
  assert.equal(sent.length, 1, "the window holds one");
  assert.equal(engine.takeDrainAgain(), false);
  engine.settled(sent[0], true);
  assert.equal(engine.takeDrainAgain(), true, "the settle freed half the window");
  engine.drain(1);
  assert.deepEqual(sent.sort(), [U1, U2].sort());
});

Deno.test("a drain stops at its budget and calls for another", () => {
  const { engine, sent } = unsettled();
  engine.setUser(holdings(U1, [position({ symbol: "AAPL", quantity: "1" })]), 0);
  engine.setUser(holdings(U2, [position({ symbol: "AAPL", quantity: "2" })]), 0);
  engine.takeDrainAgain();
  engine.drain(0, 1);
  assert.equal(sent.length, 1);
  assert.equal(engine.takeDrainAgain(), true);
  engine.drain(0, 1);
  assert.equal(sent.length, 2);
});

Deno.test("a woken portfolio may use the window's reserve; due ones wait for the window", () => {
  const { engine, sent } = unsettled(4);
  const aapl = Array.from({ length: 5 }, (_, i) => `00000000-0000-4000-8000-00000000001${i}`);
  engine.setUser(holdings(U2, [position({ symbol: "MSFT", quantity: "1" })]), 0);
  for (const u of aapl) {
    engine.setUser(holdings(u, [position({ symbol: "AAPL", quantity: "1" })]), 0);
  }
  engine.drain(0);
  engine.drain(0);
  assert.equal(sent.length, 4, "the window holds four");
  for (const u of sent.splice(0)) engine.settled(u, true);
  engine.drain(0);
  for (const u of sent.splice(0)) engine.settled(u, true);
  // AAPL moves: at their next turn its five holders fill the window; U2 goes idle.
  engine.onTick(tick("AAPL", "101"), 500);
  engine.drain(1000);
  assert.deepEqual(sent, aapl.slice(0, 4));
  // MSFT wakes U2: it takes the reserve; the fifth AAPL holder waits for the window.
  engine.onTick(tick("MSFT", "101"), 1010);
  engine.drain(1010);
  assert.deepEqual(sent.slice(4), [U2]);
});
