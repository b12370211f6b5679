/**
 * Entering an Alpaca key this user has already connected (#11): 409 with a sentence naming
 * the connection, before Alpaca is called; nothing changes and the key is never echoed.
 */
import assert from "node:assert/strict";
import {
  DEMO_ALPACA_KEY_ID,
  DEMO_ALPACA_SECRET,
  TEST_ALPACA_KEY_ID,
  TEST_ALPACA_SECRET,
} from "../sandbox/mod.ts";
import { call, connectAlpaca, json, login, sanitize, withHarness } from "./testing/harness.ts";
import { seedUser } from "./testing/seed.ts";

Deno.test("an Alpaca key already connected answers 409 and changes nothing", sanitize, async () => {
  await withHarness(async (h) => {
    const a = await seedUser(h.sql, "a@example.com");
    const cookie = await login(h, a.email, a.password);
    const id = await connectAlpaca(h, cookie, {
      keyId: TEST_ALPACA_KEY_ID,
      secret: TEST_ALPACA_SECRET,
    });
    const connectionsOf = async (userId: string) =>
      await h.sql`
        select id, status, institution, secret_key_id, secret_ciphertext, updated_at
          from connections where user_id = ${userId} order by id`;
    const alpacaCalls = () => h.sandbox.calls.counts().by_provider.alpaca ?? 0;
    const again = (cookie: string, body: Record<string, unknown>) =>
      call(h, "/api/connections/alpaca", { method: "POST", cookie, body });

    // Before its first sync the connection has no account yet: its institution names it.
    const before = await connectionsOf(a.userId);
    const calls = alpacaCalls();
    const first = await again(cookie, {
      key_id: ` ${TEST_ALPACA_KEY_ID} `,
      secret_key: "a-different-secret-0001",
    });
    const text = await first.text();
    assert.equal(first.status, 409, text);
    assert.deepEqual(JSON.parse(text), {
      error: "This Alpaca key is already connected as Alpaca (paper).",
    });
    assert.doesNotMatch(text, new RegExp(`${TEST_ALPACA_KEY_ID}|${TEST_ALPACA_SECRET}|different`));
    assert.deepEqual(await connectionsOf(a.userId), before, "nothing changed");
    assert.equal(alpacaCalls(), calls, "Alpaca was not called");

    // Once synced, the account is named too.
    await h.sql`
      insert into accounts (user_id, connection_id, provider, external_id, name, number_mask, type,
                            currency, can_trade, synced_at)
      values (${a.userId}, ${id}, 'alpaca', 'alpaca-acct-1', 'Paper account', '1234', 'brokerage',
              'USD', true, now())`;
    const second = await again(cookie, {
      key_id: TEST_ALPACA_KEY_ID,
      secret_key: TEST_ALPACA_SECRET,
    });
    assert.equal(second.status, 409);
    assert.equal(
      (await json(second)).error,
      "This Alpaca key is already connected as Alpaca (paper) · Paper account ···1234.",
    );
    assert.deepEqual(await connectionsOf(a.userId), before, "nothing changed");

    // Repairing that very connection with its own key is still allowed.
    const repaired = await call(h, `/api/connections/${id}/reconnect`, {
      method: "POST",
      cookie,
      body: { key_id: TEST_ALPACA_KEY_ID, secret_key: TEST_ALPACA_SECRET },
    });
    assert.equal(repaired.status, 200, await repaired.clone().text());
    assert.equal((await json(repaired)).connection_id, id);

    // Another key connects as before.
    const other = await again(cookie, {
      key_id: DEMO_ALPACA_KEY_ID,
      secret_key: DEMO_ALPACA_SECRET,
    });
    assert.equal(other.status, 201, await other.clone().text());

    // Another user's connection of that key is not named to this one.
    const b = await seedUser(h.sql, "b@example.com");
    const cookieB = await login(h, b.email, b.password);
    const foreign = await again(cookieB, {
      key_id: TEST_ALPACA_KEY_ID,
      secret_key: TEST_ALPACA_SECRET,
    });
    assert.equal(foreign.status, 409);
    assert.doesNotMatch((await json(foreign)).error, /Paper account|1234/);
    assert.equal((await connectionsOf(b.userId)).length, 2, "b keeps only the seeded ones");
  });
});
