import assert from "node:assert/strict";
import { Keyring, parseConfig } from "@meridian/runtime";
import { doctor } from "./doctor.ts";

Deno.test("doctor reports configuration without printing secrets", async () => {
  const consumerKey = "canary-consumer-key-123456";
  const plaidSecret = "canary-plaid-secret-123456";
  const keyring = Keyring.generateSpec("k9");
  const checks = await doctor(
    parseConfig({
      PROVIDERS: "live",
      SNAPTRADE_CLIENT_ID: "ACME",
      SNAPTRADE_CONSUMER_KEY: consumerKey,
      PLAID_SECRET: plaidSecret,
      PLAID_ENV: "production",
      SECRETS_KEYRING: keyring,
    }),
    { network: false },
  );
  const text = JSON.stringify(checks);
  for (const s of [consumerKey, plaidSecret, keyring.split(":")[1]]) assert.ok(!text.includes(s));
  const rows = new Map(checks.map((x) => [`${x.provider} ${x.check}`, x]));
  assert.deepEqual([...rows.keys()], [
    "general mode",
    "general SECRETS_KEYRING",
    "snaptrade keys",
    "plaid keys",
    "alpaca keys",
    "alpaca market data",
  ]);
  const by = (p: string, c: string) => rows.get(`${p} ${c}`)!;
  assert.equal(by("snaptrade", "keys").ok, true);
  assert.equal(by("plaid", "keys").ok, false, "live mode with the sandbox Plaid client id");
  assert.match(by("plaid", "keys").detail, /production keys/);
  assert.equal(by("alpaca", "market data").ok, false);
  assert.match(by("general", "SECRETS_KEYRING").detail, /newest id k9/);
});
