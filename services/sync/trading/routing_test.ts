import assert from "node:assert/strict";
import { type RoutableAccount, routeOrder } from "./routing.ts";

const account = (id: string, over: Partial<RoutableAccount> = {}): RoutableAccount => ({
  id,
  name: id,
  provider: "alpaca",
  providerTrades: true,
  tradingEnabled: true,
  tradeAccess: true,
  connectionActive: true,
  canTrade: true,
  open: true,
  held: "0",
  ...over,
});

Deno.test("routing: the holder first; every other account says why it cannot", () => {
  const accounts = [
    account("a-none"),
    account("b-holds", { held: "5" }),
    account("c-read", { tradeAccess: false, held: "9" }),
    account("d-plaid", { provider: "plaid", providerTrades: false }),
    account("e-flag", { provider: "snaptrade", tradingEnabled: false }),
    account("f-broken", { connectionActive: false }),
  ];
  const buy = routeOrder(accounts, "buy", "1");
  assert.deepEqual(buy.eligible.map((a) => a.id), ["b-holds", "a-none"]);
  assert.deepEqual(
    Object.fromEntries(buy.ineligible.map((i) => [i.account_id, i.reason])),
    {
      "c-read": "c-read: the connection is read-only.",
      "d-plaid": "d-plaid: this provider cannot place trades.",
      "e-flag": "e-flag: trading through this provider is turned off on this server.",
      "f-broken": "f-broken: the connection needs to be repaired first.",
    },
  );
  // A sell needs the units where it is placed.
  const sell = routeOrder(accounts, "sell", "6");
  assert.deepEqual(sell.eligible, []);
  assert.match(sell.ineligible.find((i) => i.account_id === "b-holds")!.reason, /holds 5, fewer/);
  assert.match(sell.ineligible.find((i) => i.account_id === "a-none")!.reason, /not held/);
  assert.deepEqual(routeOrder(accounts, "sell", "5").eligible.map((a) => a.id), ["b-holds"]);
  // The person's choice narrows the routing to that account.
  assert.deepEqual(routeOrder(accounts, "buy", "1", "a-none").eligible.map((a) => a.id), [
    "a-none",
  ]);
  assert.deepEqual(routeOrder(accounts, "buy", "1", "c-read").eligible, []);
});
