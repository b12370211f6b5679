import assert from "node:assert/strict";
import type { Order, OrderEvent } from "./order_schema.ts";
import {
  actionText,
  applyOrderEvent,
  byNewest,
  eventFilled,
  fillText,
  fresher,
  isFinal,
  STATE_LABELS,
  typeText,
} from "./orders.ts";
import { ORDER_STATES } from "./order_schema.ts";

const ID = "00000000-0000-4000-8000-0000000000aa";
const order = (over: Partial<Order> = {}): Order => ({
  id: ID,
  state: "submitted",
  account_id: "00000000-0000-4000-8000-000000000001",
  provider: "alpaca",
  symbol: "AAPL",
  side: "buy",
  type: "market",
  time_in_force: "day",
  quantity: "2",
  notional: null,
  limit_price: null,
  stop_price: null,
  filled_quantity: "0",
  average_price: null,
  estimated_amount: "380",
  currency: "USD",
  reason: null,
  created_at: "2026-03-02T15:00:00.000Z",
  updated_at: "2026-03-02T15:00:00.000Z",
  ...over,
});
const event = (over: Partial<OrderEvent>): OrderEvent => ({
  event_id: "e",
  user_id: "00000000-0000-4000-8000-000000000009",
  order_id: ID,
  account_id: null,
  provider: "alpaca",
  broker_order_id: null,
  client_order_id: ID,
  state: "accepted",
  symbol: "AAPL",
  filled_quantity: "0",
  average_price: null,
  at: "2026-03-02T15:00:01.000Z",
  ...over,
});

Deno.test("orders: events move an order forward, never back", () => {
  let o = applyOrderEvent(order(), event({ state: "accepted" }));
  assert.equal(o.state, "accepted");
  assert.equal(o.updated_at, "2026-03-02T15:00:01.000Z");
  o = applyOrderEvent(
    o,
    event({ state: "partially_filled", filled_quantity: "1", average_price: "190" }),
  );
  assert.equal(o.state, "partially_filled");
  assert.equal(o.filled_quantity, "1");
  // A late acknowledgement changes nothing.
  assert.equal(applyOrderEvent(o, event({ state: "accepted" })), o);
  o = applyOrderEvent(o, event({ state: "filled", filled_quantity: "2", average_price: "190.5" }));
  assert.equal(o.state, "filled");
  assert.equal(o.average_price, "190.5");
  // Final stays final, and the same fill twice changes nothing.
  assert.equal(applyOrderEvent(o, event({ state: "canceled" })), o);
  assert.equal(applyOrderEvent(o, event({ state: "filled", filled_quantity: "2" })), o);
});

Deno.test("orders: an unknown outcome is settled by any report; other orders are left", () => {
  const unknown = order({ state: "unknown" });
  assert.equal(applyOrderEvent(unknown, event({ state: "submitted" })).state, "submitted");
  assert.equal(applyOrderEvent(order(), event({ order_id: null })).state, "submitted");
  // A fill reported before the acknowledgement.
  const filled = applyOrderEvent(order(), event({ state: "filled", filled_quantity: "2" }));
  assert.equal(filled.state, "filled");
  // The filled quantity never falls.
  const part = order({ state: "partially_filled", filled_quantity: "1.5" });
  assert.equal(
    applyOrderEvent(part, event({ state: "partially_filled", filled_quantity: "1" }))
      .filled_quantity,
    "1.5",
  );
});

Deno.test("orders: the fresher of two readings", () => {
  const a = order({ state: "accepted" });
  const b = order({ state: "filled", filled_quantity: "2" });
  assert.equal(fresher(a, b), b);
  assert.equal(fresher(b, a), b);
  const c = order({ state: "partially_filled", filled_quantity: "1" });
  const d = order({ state: "partially_filled", filled_quantity: "1.5" });
  assert.equal(fresher(c, d), d);
  const e = order({ state: "accepted", updated_at: "2026-03-02T15:00:05.000Z" });
  assert.equal(fresher(a, e), e);
});

Deno.test("orders: newest first; fills that move holdings", () => {
  const old = order({ id: "00000000-0000-4000-8000-000000000001" });
  const young = order({
    id: "00000000-0000-4000-8000-000000000002",
    created_at: "2026-03-03T00:00:00Z",
  });
  assert.deepEqual(byNewest([old, young]).map((o) => o.id), [young.id, old.id]);
  assert.equal(eventFilled(order(), event({ filled_quantity: "0" })), false);
  assert.equal(eventFilled(order(), event({ filled_quantity: "1" })), true);
  assert.equal(
    eventFilled(order({ filled_quantity: "1" }), event({ filled_quantity: "1" })),
    false,
  );
  assert.equal(eventFilled(undefined, event({ filled_quantity: "1" })), true);
});

Deno.test("orders: words", () => {
  for (const s of ORDER_STATES) assert.ok(STATE_LABELS[s]);
  assert.equal(isFinal("filled"), true);
  assert.equal(isFinal("unknown"), false);
  assert.equal(actionText(order({ quantity: "1" }), "USD"), "Buy 1 AAPL");
  assert.match(
    actionText(order({ side: "sell", quantity: null, notional: "500" }), "USD"),
    /^Sell \$500\.00 of AAPL$/,
  );
  assert.equal(typeText(order(), "USD"), "Market");
  assert.equal(typeText(order({ type: "limit", limit_price: "180" }), "USD"), "Limit at $180.00");
  assert.equal(
    typeText(order({ type: "stop_limit", stop_price: "170", limit_price: "168" }), "USD"),
    "Stop at $170.00, limit $168.00",
  );
  assert.equal(fillText(order()), null);
  assert.equal(
    fillText(order({ state: "partially_filled", filled_quantity: "1", average_price: "190" })),
    "Filled 1 of 2 at $190.00",
  );
  assert.equal(
    fillText(order({ state: "filled", filled_quantity: "2", average_price: "190" })),
    "Filled 2 at $190.00",
  );
});
