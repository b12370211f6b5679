import assert from "node:assert/strict";
import { ConfigError, parseConfig, secretValues } from "./config.ts";

Deno.test("defaults fill an empty environment", () => {
  const c = parseConfig({});
  assert.equal(c.NATS_URL, "nats://127.0.0.1:4222");
  assert.equal(c.REFRESH_COOLDOWN_S, 60);
  assert.equal(c.HOLDINGS_TTL_H, 24);
  assert.equal(c.PROVIDERS, "sandbox");
  assert.equal(c.FF_SNAPTRADE_TRADE_EXECUTION, true);
});

Deno.test("a bad variable gives one line naming it", () => {
  assert.throws(() => parseConfig({ NATS_URL: "http://x" }), (e: Error) => {
    assert.ok(e instanceof ConfigError);
    assert.match(e.message, /^invalid configuration: NATS_URL: .*nats:/);
    assert.doesNotMatch(e.message, /\n/);
    return true;
  });
  assert.throws(() => parseConfig({ REFRESH_COOLDOWN_S: "-1" }), /REFRESH_COOLDOWN_S/);
  assert.throws(
    () => parseConfig({ FF_SNAPTRADE_INVESTMENT_SYNC: "maybe" }),
    /FF_SNAPTRADE_INVESTMENT_SYNC/,
  );
});

Deno.test("a bad secret variable is named but never echoed", () => {
  assert.throws(() => parseConfig({ SECRETS_KEYRING: "hunter2-not-a-keyring" }), (e: Error) => {
    assert.match(e.message, /SECRETS_KEYRING/);
    assert.doesNotMatch(e.message, /hunter2/);
    return true;
  });
});

Deno.test("NATS_URL lists a cluster's servers; NATS_REPLICAS is 1 to 5", () => {
  const c = parseConfig({
    NATS_URL: "nats://u:p@nats-1:4222, nats://nats-2:4222,tls://nats-3:4222",
    NATS_REPLICAS: "3",
  });
  assert.equal(c.NATS_URL, "nats://u:p@nats-1:4222, nats://nats-2:4222,tls://nats-3:4222");
  assert.equal(c.NATS_REPLICAS, 3);
  assert.equal(parseConfig({}).NATS_REPLICAS, 1);
  assert.throws(() => parseConfig({ NATS_URL: "nats://a:4222,http://b" }), /NATS_URL/);
  assert.throws(() => parseConfig({ NATS_URL: "nats://a:4222," }), /NATS_URL/);
  for (const bad of ["0", "6", "2.5", "three"]) {
    assert.throws(
      () => parseConfig({ NATS_REPLICAS: bad }),
      /invalid configuration: NATS_REPLICAS/,
    );
  }
});

Deno.test("a NATS_URL that does not parse is named, never echoed: it may hold a password", () => {
  assert.throws(
    () => parseConfig({ NATS_URL: "nats://meridian:s3cret@nats-1:4222,http://x" }),
    (e: Error) => e.message.includes("NATS_URL") && !e.message.includes("s3cret"),
  );
});

Deno.test("secretValues: the secret variables and the passwords inside NATS_URL", () => {
  const config = parseConfig({
    NATS_URL: "nats://svc:pa%24s-1@nats-1:4222,nats://svc:pass-2@nats-2:4222",
    PLAID_SECRET: "plaid-secret-1",
  });
  const secrets = secretValues(config);
  for (const s of ["pa%24s-1", "pa$s-1", "pass-2", "plaid-secret-1"]) {
    assert.ok(secrets.includes(s), s);
  }
  assert.ok(!secrets.includes(config.NATS_URL));
});
