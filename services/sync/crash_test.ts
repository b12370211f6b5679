/**
 * A sync worker killed (SIGKILL) in the middle of a sync: the connection keeps its old rows,
 * and the next request takes over at once instead of waiting for the dead run.
 */
import assert from "node:assert/strict";
import { eventually, freePort, processEnv } from "@meridian/runtime/testing";
import { completePlaidLink, plaidLinkToken } from "./connections/mod.ts";
import { submitHostedForm } from "../sandbox/html_form.ts";
import { ABANDONED } from "./store.ts";
import { requestSync } from "./testing/connect.ts";
import { connectionRows, startSyncEnv, type SyncEnv } from "./testing/env.ts";

/** Syncs the connection in this process, now. */
function syncNow(env: SyncEnv, userId: string, connectionId: string, reason: "initial" | "manual") {
  return env.worker.syncConnection(userId, connectionId, {
    requestId: crypto.randomUUID(),
    reason,
    requestedAt: new Date().toISOString(),
  });
}

async function runs(env: SyncEnv, connectionId: string) {
  return await env.deps.sql<{ id: string; status: string; error: string | null }[]>`
    select id, status, error from sync_runs where connection_id = ${connectionId}
    order by started_at`;
}

async function plaidCalls(env: SyncEnv): Promise<number> {
  const counts = await env.admin("/calls") as { by_provider: { plaid: number } };
  return counts.by_provider.plaid;
}

/** The real sync service, in its own process, against the test environment. */
function startSyncProcess(env: SyncEnv) {
  const c = env.deps.config;
  const metricsPort = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("./main.ts", import.meta.url).pathname],
    clearEnv: true,
    env: processEnv({
      PROVIDERS: "sandbox",
      SANDBOX_MODE: "test",
      SANDBOX_URL: env.sandboxUrl,
      NATS_URL: c.NATS_URL,
      DATABASE_URL: c.DATABASE_URL,
      SNAPTRADE_CLIENT_ID: c.SNAPTRADE_CLIENT_ID,
      SNAPTRADE_CONSUMER_KEY: c.SNAPTRADE_CONSUMER_KEY,
      PLAID_CLIENT_ID: c.PLAID_CLIENT_ID,
      PLAID_SECRET: c.PLAID_SECRET,
      SECRETS_KEYRING: env.keyringSpec,
      METRICS_PORT: String(metricsPort),
      LOG_LEVEL: "error",
    }),
    stdout: "null",
    stderr: "piped",
  }).spawn();
  // What the process said, for a failure message: it logs errors only.
  let said = "";
  child.stderr.pipeTo(
    new WritableStream({ write: (chunk) => void (said += new TextDecoder().decode(chunk)) }),
  ).catch(() => {});
  return { child, metricsPort, said: () => said.slice(-2_000) };
}

Deno.test({
  name: "a sync killed midway leaves the old rows, and the next request takes over at once",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const env = await startSyncEnv({}, { worker: false });
    let child: Deno.ChildProcess | undefined;
    try {
      const alice = await env.user();
      const link = await plaidLinkToken(env.deps, alice, { redirectUrl: "http://127.0.0.1:9/" });
      await submitHostedForm(link.hosted_link_url!);
      const [conn] = await completePlaidLink(env.deps, alice, { link_token: link.link_token });
      const first = await syncNow(env, alice, conn.id, "initial");
      assert.equal(first.phase, "succeeded", first.detail);
      const before = await connectionRows(env, conn.id);
      assert.ok(before.positions.length > 0);

      // The brokerage changes, then answers slowly: the sync is killed between its calls.
      const [{ external_id: item }] = await env.deps.sql`
        select external_id from connections where id = ${conn.id}`;
      await env.admin("/holdings", {
        provider: "plaid",
        connection: item,
        symbol: "CRASH",
        quantity: "7.5",
      });
      // Long enough that the kill lands between calls even on a busy machine.
      await env.admin("/latency", { ms: 3_000 });
      const sync = startSyncProcess(env);
      child = sync.child;
      // Started (on a busy machine a process takes a while to load), then asked to sync.
      await eventually(async () => {
        const res = await fetch(`http://127.0.0.1:${sync.metricsPort}/readyz`);
        await res.body?.cancel();
        return res.ok;
      }, { timeoutMs: 60_000, what: "the sync process to be ready" }).catch((e) => {
        throw new Error(`${e.message}\n${sync.said()}`);
      });
      const callsBefore = await plaidCalls(env);
      await requestSync(env, alice, "plaid", [conn.id], "stale");
      await eventually(
        async () =>
          (await runs(env, conn.id)).some((r) => r.status === "running") &&
          (await plaidCalls(env)) > callsBefore,
        { what: "the child to be mid-sync" },
      ).catch((e) => {
        throw new Error(`${e.message}\n${sync.said()}`);
      });
      child.kill("SIGKILL");
      await child.status;
      child = undefined;

      assert.deepEqual(await connectionRows(env, conn.id), before, "the killed sync wrote nothing");
      const dead = (await runs(env, conn.id)).at(-1)!;
      assert.equal(dead.status, "running", "the dead worker could not record anything");

      // PostgreSQL freed the dead worker's lease with its connection: no waiting it out.
      await env.admin("/latency", { ms: 0 });
      const next = await syncNow(env, alice, conn.id, "manual");
      assert.equal(next.phase, "succeeded", next.detail);
      const after = await runs(env, conn.id);
      const abandoned = after.find((r) => r.id === dead.id)!;
      assert.equal(abandoned.status, "failed");
      assert.equal(abandoned.error, ABANDONED);
      assert.equal(after.at(-1)!.status, "succeeded");
      const [crash] = await env.deps.sql`
        select quantity::text as q from positions
        where connection_id = ${conn.id} and symbol = 'CRASH'`;
      assert.equal(crash?.q, "7.5");
    } finally {
      if (child) {
        child.kill("SIGKILL");
        await child.status;
      }
      await env.close();
    }
  },
});
