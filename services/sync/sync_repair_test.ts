/**
 * Broken connections and their secrets, against the sandbox: authentication failures mark a
 * connection with a reason to act on and reconnecting repairs it; secrets are ciphertext bound
 * to their row and rotate; malformed requests, flags and removal.
 */
import assert from "node:assert/strict";
import { subjects } from "@meridian/proto";
import { Keyring, SecretError } from "@meridian/runtime";
import { eventually } from "@meridian/runtime/testing";
import { TEST_ALPACA_KEY_ID, TEST_ALPACA_SECRET } from "../sandbox/mod.ts";
import {
  completePlaidLink,
  completeSnaptradeConnection,
  connectAlpaca,
  ensureSnaptradeUser,
  reconnect,
  removeConnection,
} from "./connections/mod.ts";
import { submitHostedForm } from "../sandbox/html_form.ts";
import { rotateSecrets } from "./rotate_secrets.ts";
import { connectPlaid, connectSnaptrade, REDIRECT, requestSync } from "./testing/connect.ts";
import { connectionRows, runs, settled, startSyncEnv } from "./testing/env.ts";
import { SyncWorker } from "./worker.ts";

Deno.test("broken connections, secrets and removal against the sandbox", async (t) => {
  const env = await startSyncEnv();
  const sql = env.deps.sql;
  try {
    const alice = await env.user("alice@example.com");
    const bob = await env.user("bob@example.com");
    const st = await connectSnaptrade(env, alice, "QUESTRADE");
    const pl = await connectPlaid(env, alice);
    const al = await connectAlpaca(env.deps, alice, {
      keyId: TEST_ALPACA_KEY_ID,
      secret: TEST_ALPACA_SECRET,
      paper: true,
    });
    for (const c of [st, pl, al]) {
      assert.equal((await settled(env, c.id, 1))[0].status, "succeeded");
    }
    // Rotation re-encrypts more than one user's SnapTrade registration.
    await ensureSnaptradeUser(env.deps, bob);

    await t.step(
      "authentication failures mark the connection with a reason to act on",
      async () => {
        const before = await connectionRows(env, st.id);
        const [c] = await sql`select external_id from connections where id = ${st.id}`;
        await env.admin("/connections/break", { provider: "snaptrade", connection: c.external_id });
        const n = (await runs(env, st.id)).length;
        await requestSync(env, alice, "snaptrade", [st.id]);
        const r = await settled(env, st.id, n + 1);
        assert.equal(r.at(-1)!.status, "failed");
        const [after] =
          await sql`select status, status_reason from connections where id = ${st.id}`;
        assert.equal(after.status, "error");
        assert.equal(
          after.status_reason,
          "Reconnect your Questrade account: the brokerage login expired",
        );
        assert.deepEqual(await connectionRows(env, st.id), before);

        const [p] = await sql`select external_id from connections where id = ${pl.id}`;
        await env.admin("/connections/break", { provider: "plaid", connection: p.external_id });
        await requestSync(env, alice, "plaid", [pl.id]);
        await settled(env, pl.id, 2);
        const [pa] = await sql`select status, status_reason from connections where id = ${pl.id}`;
        assert.equal(pa.status, "error");
        assert.match(pa.status_reason, /^Reconnect your .+ account/);

        await env.admin("/connections/break", {
          provider: "alpaca",
          connection: TEST_ALPACA_KEY_ID,
        });
        await requestSync(env, alice, "alpaca", [al.id]);
        await settled(env, al.id, 2);
        const [aa] = await sql`select status, status_reason from connections where id = ${al.id}`;
        assert.equal(aa.status, "error");
        assert.match(aa.status_reason, /^Reconnect your Alpaca account/);

        // Reconnecting through the portal repairs a SnapTrade connection.
        const step = await reconnect(env.deps, alice, st.id, { callbackUrl: () => REDIRECT });
        assert.ok(step.kind === "redirect" && step.url && step.link_token === null);
        const back = new URL(await submitHostedForm(step.url));
        assert.equal(back.searchParams.get("connection_id"), c.external_id);
        const repaired = await completeSnaptradeConnection(env.deps, alice, c.external_id);
        assert.equal(repaired.id, st.id);
        assert.equal(repaired.status, "active");
        await settled(env, st.id, n + 2);
        // Plaid update mode repairs the item.
        const pstep = await reconnect(env.deps, alice, pl.id, { callbackUrl: () => REDIRECT });
        assert.ok(pstep.kind === "redirect" && pstep.url && pstep.link_token);
        await submitHostedForm(pstep.url);
        const [fixedPlaid] = await completePlaidLink(env.deps, alice, {
          link_token: pstep.link_token,
          updateConnectionId: pl.id,
        });
        assert.equal(fixedPlaid.id, pl.id);
        assert.equal(fixedPlaid.status, "active");
        await settled(env, pl.id, 3);
        const [pr] =
          await sql`select status from sync_runs where connection_id = ${pl.id} order by started_at desc limit 1`;
        assert.equal(pr.status, "succeeded");

        // Fixing and syncing again repairs the status.
        await env.admin("/connections/fix", { provider: "snaptrade", connection: c.external_id });
        await requestSync(env, alice, "snaptrade", [st.id]);
        await settled(env, st.id, n + 2);
        const [fixed] =
          await sql`select status, status_reason from connections where id = ${st.id}`;
        assert.deepEqual({ ...fixed }, { status: "active", status_reason: null });
      },
    );

    await t.step(
      "secrets are ciphertext at rest, absent from logs, and bound to their row",
      async () => {
        const user = await ensureSnaptradeUser(env.deps, alice);
        const [plConn] = await sql`select * from connections where id = ${pl.id}`;
        const plCreds = await env.deps.providers.plaid.credentials(env.deps, plConn as never);
        const secrets = [user.userSecret, plCreds.accessToken, TEST_ALPACA_SECRET];
        const raw = [
          ...(await sql`select secret_ciphertext from provider_users`),
          ...(await sql`select secret_ciphertext from connections where secret_ciphertext is not null`),
        ].map((r) => new TextDecoder("latin1").decode(r.secret_ciphertext as Uint8Array));
        const dump = JSON.stringify(await sql`select * from connections`) +
          JSON.stringify(await sql`select * from sync_runs`);
        for (const s of secrets) {
          for (const r of raw) assert.ok(!r.includes(s), "plaintext in a ciphertext column");
          assert.ok(!dump.includes(s), "secret in a table dump");
          assert.ok(!env.logs.some((l) => l.includes(s)), "secret in the logs");
        }
        // A ciphertext copied to another connection row does not decrypt there.
        const [alConn] = await sql`select * from connections where id = ${al.id}`;
        await assert.rejects(
          env.deps.providers.alpaca.credentials(
            env.deps,
            {
              ...alConn,
              secret_key_id: plConn.secret_key_id,
              secret_ciphertext: plConn.secret_ciphertext,
            } as never,
          ),
          SecretError,
        );
        await sql`update connections set secret_ciphertext = ${plConn.secret_ciphertext} where id = ${al.id}`;
        await requestSync(env, alice, "alpaca", [al.id]);
        const r = await settled(env, al.id, 3);
        assert.equal(r.at(-1)!.status, "failed");
        await sql`update connections set secret_ciphertext = ${alConn.secret_ciphertext} where id = ${al.id}`;
      },
    );

    await t.step("rotation re-encrypts every secret under the newest key", async () => {
      const newSpec = `${Keyring.generateSpec("k2")},${env.keyringSpec}`;
      const ring = await Keyring.parse(newSpec);
      const before = await ensureSnaptradeUser(env.deps, alice);
      const report = await rotateSecrets(sql, ring, 1);
      assert.ok(report.providerUsers >= 2 && report.connections >= 2);
      const keys = await sql`select secret_key_id from provider_users union all
        select secret_key_id from connections where secret_key_id is not null`;
      assert.ok(keys.every((k) => k.secret_key_id === "k2"));
      const after = await ensureSnaptradeUser({ ...env.deps, keyring: ring }, alice);
      assert.equal(after.userSecret, before.userSecret);
      await assert.rejects(ensureSnaptradeUser(env.deps, alice), SecretError);
      assert.equal(
        (await rotateSecrets(sql, ring)).connections,
        0,
        "a second run has nothing to do",
      );
    });

    await t.step("a malformed request is terminated and the worker carries on", async () => {
      await env.deps.js.publish(
        subjects.syncRequest("plaid", alice),
        new TextEncoder().encode("{not json"),
      );
      await env.deps.js.publish(
        subjects.syncRequest("plaid", alice),
        new TextEncoder().encode('{"user_id":"x"}'),
      );
      await eventually(
        () => env.logs.filter((l) => l.includes("malformed sync request")).length >= 2,
        { what: "both malformed requests to be logged" },
      );
    });

    await t.step(
      "with FF_SNAPTRADE_INVESTMENT_SYNC off SnapTrade connections are skipped",
      async () => {
        const worker = new SyncWorker({
          ...env.deps,
          config: { ...env.deps.config, FF_SNAPTRADE_INVESTMENT_SYNC: false },
        });
        const out = await worker.syncConnection(alice, st.id, {
          requestId: crypto.randomUUID(),
          reason: "manual",
          requestedAt: new Date().toISOString(),
        });
        assert.equal(out.phase, "skipped");
      },
    );

    await t.step("removing a connection removes it at the provider and its rows", async () => {
      await removeConnection(
        {
          ...env.deps,
          keyring: await Keyring.parse(`${Keyring.generateSpec("k2")},${env.keyringSpec}`),
        },
        alice,
        al.id,
      ).catch(() => {});
      const [{ n }] =
        await sql`select count(*)::int as n from accounts where connection_id = ${al.id}`;
      assert.equal(n, 0);
    });
  } finally {
    await env.close();
  }
});
