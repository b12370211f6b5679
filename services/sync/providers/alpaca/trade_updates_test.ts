/**
 * Alpaca's trade_updates stream against the sandbox's trading stream: an order placed through
 * the REST API arrives as updates carrying its client order id; a refused key ends the stream.
 */
import assert from "node:assert/strict";
import { parseConfig } from "@meridian/runtime";
import { eventually } from "@meridian/runtime/testing";
import { startSandbox, TEST_ALPACA_KEY_ID, TEST_ALPACA_SECRET } from "../../../sandbox/mod.ts";
import { AlpacaProvider } from "./mod.ts";

Deno.test("alpaca trade_updates: orders arrive with their client order id; a bad key ends it", async () => {
  const sandbox = await startSandbox({
    port: 0,
    mode: "test",
    snaptrade: { clientId: "TRADE-UPDATES-TEST", consumerKey: "trade-updates-test-key-0123456789" },
    plaid: { clientId: "trade-updates-test", secret: "trade-updates-test-secret-0123456789" },
    log: () => {},
  });
  const al = new AlpacaProvider(parseConfig({ PROVIDERS: "sandbox", SANDBOX_URL: sandbox.url }));
  const creds = { keyId: TEST_ALPACA_KEY_ID, secret: TEST_ALPACA_SECRET, paper: true };
  try {
    const seen: { client_order_id: string | null; state: string }[] = [];
    let closedWith = "";
    const updates = al.trading.updates!(creds, {
      onUpdate: (o) => void seen.push({ client_order_id: o.client_order_id, state: o.state }),
      onClose: (reason) => void (closedWith = reason),
    });
    await updates.ready;
    assert.equal(closedWith, "");
    const clientOrderId = crypto.randomUUID();
    const res = await fetch(`${sandbox.url}/alpaca/v2/orders`, {
      method: "POST",
      headers: {
        "APCA-API-KEY-ID": TEST_ALPACA_KEY_ID,
        "APCA-API-SECRET-KEY": TEST_ALPACA_SECRET,
        "content-type": "application/json",
      },
      body: JSON.stringify({
        symbol: "AAPL",
        qty: "1",
        side: "buy",
        type: "market",
        time_in_force: "day",
        client_order_id: clientOrderId,
      }),
    });
    assert.equal(res.status, 200, await res.clone().text());
    await res.body?.cancel();
    await eventually(() => seen.some((u) => u.client_order_id === clientOrderId), {
      what: "the order's update",
    });
    updates.close();
    assert.equal(closedWith, "closed");

    let refused = "";
    const bad = al.trading.updates!({
      ...creds,
      secret: "wrong-secret-000000000000000000000000000",
    }, {
      onUpdate: () => {},
      onClose: (reason) => void (refused = reason),
    });
    await bad.ready;
    assert.match(refused, /refused the key/);
    assert.doesNotMatch(refused, /wrong-secret/);
  } finally {
    await sandbox.close();
  }
});
