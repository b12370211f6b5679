/**
 * Connection input that no provider request can carry, over the real flows, SDKs and sandbox:
 * Alpaca keys outside visible ASCII (they travel in HTTP headers) and a SnapTrade broker slug
 * that is not one are a 400 that says what is wrong, never a 502, and reach no provider.
 */
import assert from "node:assert/strict";
import { createLogger } from "@meridian/runtime";
import { TEST_ALPACA_KEY_ID, TEST_ALPACA_SECRET } from "../sandbox/mod.ts";
import { connectionsPort } from "./connections.ts";
import { ApiError } from "./http.ts";
import { call, connectAlpaca, login, startHarness } from "./testing/harness.ts";
import { seedUser } from "./testing/seed.ts";

const sanitize = { sanitizeOps: false, sanitizeResources: false };

Deno.test(
  "keys and slugs no provider request can carry answer 400, reach no provider, store nothing",
  sanitize,
  async () => {
    const h = await startHarness();
    try {
      const a = await seedUser(h.sql, "a@example.com");
      const cookie = await login(h, a.email, a.password);
      const rows = async () =>
        await h.sql`select id, secret_ciphertext from connections where user_id = ${a.userId}
          order by id`;
      const alpacaCalls = () => h.sandbox.calls.counts().by_provider.alpaca;
      const storedBefore = await rows();
      const callsBefore = alpacaCalls();
      const secret = TEST_ALPACA_SECRET;
      const badSecrets = [
        `${secret.slice(0, 8)}\u0007${secret.slice(8)}`, // a control character
        `${secret.slice(0, 8)}\n${secret.slice(8)}`, // a line break inside
        `\u0000${secret}`, // NUL
        `ключ-${secret}`, // not Latin-1
        `clé-${secret}`, // Latin-1, not ASCII
        `${secret.slice(0, 8)} ${secret.slice(8)}`, // a space inside
      ];
      const badKeyIds = [`PK\u0001${TEST_ALPACA_KEY_ID.slice(3)}`, "PKКЛЮЧ00000000000000"];
      const bodies = [
        ...badSecrets.map((s) => ({ key_id: TEST_ALPACA_KEY_ID, secret_key: s })),
        ...badKeyIds.map((k) => ({ key_id: k, secret_key: secret })),
      ];
      for (const body of bodies) {
        const res = await call(h, "/api/connections/alpaca", { method: "POST", cookie, body });
        const text = await res.text();
        assert.equal(res.status, 400, `${JSON.stringify(body)}: ${res.status} ${text}`);
        const out = JSON.parse(text);
        assert.equal(typeof out.error, "string");
        const said = out.issues.map((i: { message: string }) => i.message).join(" ");
        assert.match(said, /may contain only letters(, digits and printable symbols| and digits)/);
        assert.ok(!text.includes(secret), "the secret is never echoed");
      }
      assert.deepEqual(await rows(), storedBefore, "nothing stored");
      assert.equal(alpacaCalls(), callsBefore, "nothing reached Alpaca");

      // Reconnecting and callers of the port skip the route's schema: the flow refuses too.
      const id = await connectAlpaca(h, cookie, { keyId: TEST_ALPACA_KEY_ID, secret });
      const [{ secret_ciphertext: sealed }] = await h
        .sql`select secret_ciphertext from connections where id = ${id}`;
      const callsAfterConnect = alpacaCalls();
      for (const s of badSecrets.slice(0, 4)) {
        const res = await call(h, `/api/connections/${id}/reconnect`, {
          method: "POST",
          cookie,
          body: { key_id: TEST_ALPACA_KEY_ID, secret_key: s },
        });
        const text = await res.text();
        assert.equal(res.status, 400, `${JSON.stringify(s)}: ${res.status} ${text}`);
        assert.ok(!text.includes(secret), "the secret is never echoed");
      }
      const port = await connectionsPort({
        sql: h.sql,
        nc: h.nats.nc,
        config: h.config,
        log: createLogger("api-2", "error"),
      });
      for (const keyId of badKeyIds) {
        await assert.rejects(
          port.alpacaConnect(a.userId, { keyId, secretKey: secret, paper: true }),
          (e) => e instanceof ApiError && e.status === 400 && /API key id/.test(e.message),
        );
      }
      assert.equal(alpacaCalls(), callsAfterConnect, "nothing reached Alpaca");
      const [{ secret_ciphertext: after }] = await h
        .sql`select secret_ciphertext from connections where id = ${id}`;
      assert.deepEqual(after, sealed, "the stored keys are untouched");

      // The SnapTrade broker slug goes to SnapTrade as given: the flow checks it too.
      const snaptradeCalls = h.sandbox.calls.counts().by_provider.snaptrade;
      await assert.rejects(
        port.snaptradePortal(a.userId, {
          access: "read",
          broker: "QUESTRADE\r\nX-Injected: 1",
          redirectUrl: "http://127.0.0.1:8080/api/connections/snaptrade/callback",
        }),
        (e) => e instanceof ApiError && e.status === 400 && /broker/.test(e.message),
      );
      assert.equal(h.sandbox.calls.counts().by_provider.snaptrade, snaptradeCalls);
    } finally {
      await h.close();
    }
  },
);
