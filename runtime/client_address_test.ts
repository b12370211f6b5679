import assert from "node:assert/strict";
import { clientAddress, compileTrustedProxies, validTrustedProxies } from "./client_address.ts";
import { parseConfig } from "./config.ts";

const forwarded = (v: string) => new Headers({ "x-forwarded-for": v });

Deno.test("X-Forwarded-For is believed only from a trusted proxy", () => {
  const none = compileTrustedProxies(undefined);
  // The default trusts nobody, loopback included: a local forger gets its own address.
  assert.equal(clientAddress("127.0.0.1", forwarded("203.0.113.9"), none), "127.0.0.1");
  assert.equal(clientAddress("198.51.100.1", forwarded("203.0.113.9"), none), "198.51.100.1");

  const proxies = compileTrustedProxies("loopback, 10.0.0.0/8");
  assert.equal(clientAddress("127.0.0.1", forwarded("203.0.113.9"), proxies), "203.0.113.9");
  assert.equal(clientAddress("::1", forwarded("203.0.113.9"), proxies), "203.0.113.9");
  // The nearest untrusted hop, so a client cannot prepend a forged address.
  assert.equal(
    clientAddress("127.0.0.1", forwarded("1.1.1.1, 203.0.113.9, 10.0.0.7"), proxies),
    "203.0.113.9",
  );
  // A peer outside the list is the client, whatever it claims.
  assert.equal(clientAddress("198.51.100.1", forwarded("203.0.113.9"), proxies), "198.51.100.1");
  assert.equal(clientAddress(null, forwarded("203.0.113.9"), proxies), null);
  assert.equal(clientAddress("127.0.0.1", new Headers(), proxies), "127.0.0.1");
});

Deno.test("TRUSTED_PROXIES is validated at start-up", () => {
  assert.ok(validTrustedProxies("loopback,uniquelocal,192.168.0.0/16,::1"));
  assert.ok(!validTrustedProxies("not-an-address"));
  assert.throws(() => parseConfig({ TRUSTED_PROXIES: "10.0.0.0/99" }), /TRUSTED_PROXIES/);
  assert.equal(parseConfig({ TRUSTED_PROXIES: "loopback" }).TRUSTED_PROXIES, "loopback");
});
