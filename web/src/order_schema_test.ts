import assert from "node:assert/strict";
import type { z } from "zod";
import * as Api from "../../services/api/schemas.ts";
import { OrderEvent as ProtoOrderEvent } from "@meridian/proto";
import * as Web from "./order_schema.ts";

const ID = "00000000-0000-4000-8000-0000000000aa";
const ACCOUNT = "00000000-0000-4000-8000-000000000001";
const ORDER = {
  id: ID,
  state: "accepted",
  account_id: ACCOUNT,
  provider: "alpaca",
  symbol: "AAPL",
  side: "buy",
  type: "limit",
  time_in_force: "gtc",
  quantity: "1",
  notional: null,
  limit_price: "180.5",
  stop_price: null,
  filled_quantity: "0",
  average_price: null,
  estimated_amount: "180.5",
  currency: "USD",
  reason: null,
  created_at: "2026-03-02T15:00:00.000Z",
  updated_at: "2026-03-02T15:00:01.000Z",
};
const PREVIEW = {
  preview_id: ID,
  expires_at: "2026-03-02T15:05:00.000Z",
  account_id: ACCOUNT,
  account_name: "Alpaca Paper",
  provider: "alpaca",
  symbol: "AAPL",
  side: "sell",
  quantity: "2.5",
  notional: null,
  type: "market",
  limit_price: null,
  stop_price: null,
  time_in_force: "day",
  price: "190.12",
  estimated_amount: "475.30",
  commission: "0",
  remaining_cash: null,
  currency: "USD",
  risk: "You are selling 2.5 AAPL for about 475.30 USD.",
};
const EVENT = {
  event_id: `${ID}:filled:1`,
  user_id: "00000000-0000-4000-8000-000000000009",
  order_id: ID,
  account_id: ACCOUNT,
  provider: "snaptrade",
  broker_order_id: "b-1",
  client_order_id: ID,
  state: "filled",
  symbol: "AAPL",
  filled_quantity: "1",
  average_price: "190.1",
  at: "2026-03-02T15:00:02.000Z",
};

/** Both schemas accept `good` and refuse each of `bad`. */
function same(
  api: { safeParse(v: unknown): { success: boolean } },
  web: { safeParse(v: unknown): { success: boolean } },
  good: Record<string, unknown>,
  bad: Record<string, unknown>[],
) {
  assert.equal(api.safeParse(good).success, true, "the api's schema takes the sample");
  assert.equal(web.safeParse(good).success, true, "the dashboard's schema takes the sample");
  for (const b of bad) {
    assert.equal(web.safeParse(b).success, api.safeParse(b).success, JSON.stringify(b));
  }
}

Deno.test("order schemas: the dashboard reads what the api answers", () => {
  same(Api.OrderView, Web.Order, ORDER, [
    { ...ORDER, state: "done" },
    { ...ORDER, filled_quantity: "one" },
    { ...ORDER, quantity: undefined },
    { ...ORDER, provider: "robinhood" },
  ]);
  same(Api.OrderList, Web.OrderList, { orders: [ORDER] }, [{ orders: [{ ...ORDER, id: "x" }] }]);
  same(Api.OrderPreviewView, Web.Preview, PREVIEW, [
    { ...PREVIEW, quantity: null },
    { ...PREVIEW, expires_at: "soon" },
    { ...PREVIEW, risk: undefined },
  ]);
  same(Api.OrderAccountsView, Web.OrderAccounts, {
    eligible: [{
      account_id: ACCOUNT,
      name: "Robinhood Individual",
      provider: "snaptrade",
      currency: "USD",
      held: "12",
    }],
    ineligible: [{ account_id: ID, reason: "Sandbox: the connection is read-only." }],
  }, [{ eligible: [{ account_id: ACCOUNT }], ineligible: [] }]);
  same(Api.SymbolList, Web.SymbolList, { symbols: [{ symbol: "AAPL", name: "Apple Inc." }] }, [
    { symbols: [{ symbol: "AAPL" }] },
  ]);
  same(Api.HaltList, Web.HaltList, {
    halts: [{
      id: ID,
      scope: "user",
      account_id: null,
      reason: "Stopped.",
      engaged_at: "2026-03-02T15:00:00.000Z",
    }],
  }, [{ halts: [{ id: ID, scope: "everyone" }] }]);
  same(ProtoOrderEvent, Web.OrderEvent, EVENT, [
    { ...EVENT, state: "gone" },
    { ...EVENT, event_id: "" },
    { ...EVENT, filled_quantity: 1 },
  ]);
  assert.deepEqual(Web.parseOrderEvent(JSON.stringify(EVENT)), EVENT);
  assert.equal(Web.parseOrderEvent("{"), null);
  assert.throws(() => Web.checked(Web.OrderOne, { order: { id: 1 } }, "order"), /unexpected/);
});

// The dashboard's types are the api's, field for field: this fails to compile if they drift.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const _order: Same<Web.Order, z.infer<typeof Api.OrderView>> = true;
const _preview: Same<Web.Preview, z.infer<typeof Api.OrderPreviewView>> = true;
const _accounts: Same<Web.OrderAccounts, z.infer<typeof Api.OrderAccountsView>> = true;
const _event: Same<Web.OrderEvent, z.infer<typeof ProtoOrderEvent>> = true;
void [_order, _preview, _accounts, _event];
