import assert from "node:assert/strict";
import { PROVIDERS } from "@meridian/proto";
import { parseConfig } from "@meridian/runtime";
import { ProviderRegistry, UnknownProviderError } from "./registry.ts";
import { SnaptradeProvider } from "./snaptrade/mod.ts";

const config = parseConfig({ PROVIDERS: "sandbox" });

Deno.test("every provider key resolves to its own implementation", () => {
  const registry = new ProviderRegistry(config);
  for (const key of PROVIDERS) {
    const provider = registry.providerFor(key);
    assert.equal(provider.key, key);
    assert.equal(provider, registry[key], "the typed field is the routed implementation");
  }
  assert.deepEqual(registry.all().map((p) => p.key), [...PROVIDERS]);
});

Deno.test("an unknown provider key is refused", () => {
  const registry = new ProviderRegistry(config);
  for (const key of ["robinhood", "", "SNAPTRADE", "providerFor", "constructor", "__proto__"]) {
    assert.throws(
      () => registry.providerFor(key),
      (e) => e instanceof UnknownProviderError && e.key === key,
      JSON.stringify(key),
    );
  }
});

Deno.test("each implementation declares its capabilities", () => {
  const registry = new ProviderRegistry(config);
  const declared = Object.fromEntries(registry.all().map((p) => [p.key, p.capabilities]));
  assert.deepEqual(declared, {
    snaptrade: { activityWebhooks: true },
    plaid: { activityWebhooks: true },
    // Alpaca sends no activity webhooks: every refresh fetches its activity.
    alpaca: { activityWebhooks: false },
  });
  // SnapTrade and Alpaca trade; Plaid reads only. Only Alpaca pushes order updates.
  const trades = Object.fromEntries(
    registry.all().map((p) => [p.key, [p.trading !== undefined, p.trading?.updates !== undefined]]),
  );
  assert.deepEqual(trades, {
    snaptrade: [true, false],
    plaid: [false, false],
    alpaca: [true, true],
  });
  for (const p of registry.all()) {
    assert.match(p.authFailureReason("Questrade"), /^Reconnect your /);
    assert.equal(typeof p.doctor.clockUrl(), "string");
  }
});

Deno.test("feature flags switch SnapTrade's sync and trading, and only SnapTrade's", () => {
  const registry = new ProviderRegistry(config);
  const on = {
    ...config,
    FF_SNAPTRADE_INVESTMENT_SYNC: true,
    FF_SNAPTRADE_TRADE_EXECUTION: true,
  };
  const off = {
    ...config,
    FF_SNAPTRADE_INVESTMENT_SYNC: false,
    FF_SNAPTRADE_TRADE_EXECUTION: false,
  };
  const answers = (c: typeof config) =>
    Object.fromEntries(
      registry.all().map((p) => [p.key, [p.syncDisabled(c) === null, p.tradeAccess(c)]]),
    );
  assert.deepEqual(answers(on), {
    snaptrade: [true, true],
    plaid: [true, false],
    alpaca: [true, true],
  });
  assert.deepEqual(answers(off), {
    snaptrade: [false, false],
    plaid: [true, false],
    alpaca: [true, true],
  });
  assert.match(registry.snaptrade.syncDisabled(off)!, /turned off/);
});

Deno.test("an implementation can be replaced, and is then the one routed to", () => {
  const mine = new SnaptradeProvider(config);
  const registry = new ProviderRegistry(config, { snaptrade: mine });
  assert.equal(registry.providerFor("snaptrade"), mine);
  assert.equal(registry.all()[0], mine);
});
