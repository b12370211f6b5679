/**
 * A refresh in flight on one of two sync workers while the NATS node leading the SYNC work
 * queue is SIGKILLed (and restarted): the refresh completes once, its request leaves the work
 * queue (acknowledged; or redelivered after its ack wait and answered by the completed run),
 * and the brokerage is called exactly as often as one sync calls it. Prints the figures.
 * @module
 */
import assert from "node:assert/strict";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { consumers, encode, streams, subjects, SyncRequest } from "@meridian/proto";
import { publishSyncRequest } from "@meridian/portfolio";
import { createLogger, Keyring, parseConfig } from "@meridian/runtime";
import { eventually } from "@meridian/runtime/testing";
import { startSandbox } from "../services/sandbox/mod.ts";
import { sandboxAdmin } from "../services/sandbox/test_support.ts";
import { submitHostedForm } from "../services/sandbox/html_form.ts";
import { completePlaidLink, plaidLinkToken } from "../services/sync/connections/mod.ts";
import { createSyncDeps } from "../services/sync/deps.ts";
import { printFigures, startChaosStack } from "./stack.ts";

const PLAID = { clientId: "meridian-chaos", secret: "chaos-plaid-secret-0123456789" };
/** Each brokerage answer takes this long, so the kill lands in the middle of the refresh. */
const LATENCY_MS = 3_000;

Deno.test({
  name: "SYNC's leader SIGKILLed during a refresh: it completes once, no provider call repeated",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const sandbox = await startSandbox({
      port: 0,
      mode: "test",
      snaptrade: { clientId: "MERIDIAN-CHAOS", consumerKey: "chaos-consumer-key-0123456789" },
      plaid: PLAID,
      log: () => {},
    });
    const keyring = Keyring.generateSpec("chaos");
    const env = {
      SANDBOX_URL: sandbox.url,
      SANDBOX_MODE: "test",
      PLAID_CLIENT_ID: PLAID.clientId,
      PLAID_SECRET: PLAID.secret,
      SECRETS_KEYRING: keyring,
    };
    const stack = await startChaosStack(env);
    const admin = (path: string, body?: unknown) => sandboxAdmin(sandbox.url, path, body);
    const plaidCalls = async () =>
      ((await admin("/calls")) as { by_provider: { plaid: number } }).by_provider.plaid;
    try {
      // A user with a Plaid connection, made as the api makes one (Hosted Link, exchange).
      const deps = createSyncDeps({
        sql: stack.db.sql,
        nc: stack.nc,
        keyring: await Keyring.parse(keyring),
        config: parseConfig({ ...env, NATS_URL: stack.cluster.url, DATABASE_URL: stack.db.url }),
        log: createLogger("chaos", "error"),
      });
      const [u] = await stack.db.sql<{ id: string }[]>`insert into users (email, password_hash)
        values ('sync-chaos@example.com', ${"x".repeat(40)}) returning id`;
      const link = await plaidLinkToken(deps, u.id, { redirectUrl: "http://127.0.0.1:9/" });
      await submitHostedForm(link.hosted_link_url!);
      const [conn] = await completePlaidLink(deps, u.id, { link_token: link.link_token });

      const workers = [stack.start("sync"), stack.start("sync")];
      await eventually(
        async () => (await Promise.all(workers.map((w) => w.readyz()))).every((s) => s === 200),
        {
          timeoutMs: 90_000,
          intervalMs: 250,
          what: "two sync workers ready",
        },
      ).catch((e) => {
        throw new Error(`${e.message}\n${stack.logs()}`);
      });
      // Connecting asked for a first sync: let it finish, so that only ours run from here.
      const finished = async () =>
        (await stack.db.sql<{ n: number }[]>`select count(*)::int as n from sync_runs
          where connection_id = ${conn.id} and status <> 'running'`)[0].n;
      await eventually(async () => (await finished()) >= 1, {
        timeoutMs: 60_000,
        what: "the connection's first sync",
      });
      const initialSyncs = await finished();
      const js = jetstream(stack.nc);
      const runsOf = (requestId: string) =>
        stack.db.sql<{ status: string; provider_calls: number }[]>`
          select status, provider_calls from sync_runs where request_id = ${requestId}`;
      const published = new Map<string, SyncRequest>();
      const refresh = async () => {
        const msg = await publishSyncRequest(js, {
          userId: u.id,
          provider: "plaid",
          connectionIds: [conn.id],
          reason: "manual",
        });
        published.set(msg.request_id, msg);
        return msg.request_id;
      };

      // One refresh without faults: how many brokerage calls a sync of this connection makes.
      await admin("/latency", { ms: LATENCY_MS });
      let before = await plaidCalls();
      const baseline = await refresh();
      await eventually(async () => (await runsOf(baseline))[0]?.status === "succeeded", {
        timeoutMs: 60_000,
        what: "the baseline refresh",
      });
      const callsPerSync = (await plaidCalls()) - before;
      assert.ok(callsPerSync >= 1, `a sync calls the brokerage ${callsPerSync} times`);

      // The refresh under test: the node leading SYNC, the stream and its consumer (whose
      // leader takes the acknowledgement), dies while the refresh waits on the brokerage.
      const jsm = await jetstreamManager(stack.nc);
      const victim = await stack.streamLeader(streams.sync.name);
      const consumerLeader = async () =>
        (await jsm.consumers.info(streams.sync.name, consumers.sync.durable)).cluster?.leader;
      for (let i = 0; i < 20 && await consumerLeader() !== victim; i++) {
        await stack.nc.request(
          `$JS.API.CONSUMER.LEADER.STEPDOWN.${streams.sync.name}.${consumers.sync.durable}`,
        ).catch(() => {});
        await eventually(consumerLeader, { timeoutMs: 10_000, what: "a consumer leader" });
      }
      const sameLeader = await consumerLeader() === victim;
      before = await plaidCalls();
      const requestId = await refresh();
      await eventually(async () => (await runsOf(requestId))[0]?.status === "running", {
        timeoutMs: 30_000,
        intervalMs: 20,
        what: "the refresh running",
      });
      const killedAt = await stack.kill(victim);
      const runsAtKill = await runsOf(requestId);
      await stack.restart(victim);
      await eventually(async () => (await runsOf(requestId))[0]?.status === "succeeded", {
        timeoutMs: 60_000,
        what: "the refresh completed",
      }).catch(async (e) => {
        throw new Error(
          `${e.message}: ${JSON.stringify(await runsOf(requestId))}\n${stack.logs()}`,
        );
      });
      const completedMs = Date.now() - killedAt;
      // Gone from the work queue: acknowledged (the worker waits for JetStream to confirm its
      // ack), or, when an ack was lost all the same (a leader elected twice over on a busy
      // machine), redelivered once its 120 s ack wait ends and answered by the run that
      // completed, without a brokerage call (the single-flight rules). Either way it must go.
      const drained = async () => {
        const s = await jsm.streams.info(streams.sync.name);
        const c = await jsm.consumers.info(streams.sync.name, consumers.sync.durable);
        return s.state.messages === 0 && c.num_ack_pending === 0 && c.num_pending === 0;
      };
      let redelivered = "no";
      await eventually(drained, { timeoutMs: 20_000, what: "the request acknowledged" })
        .catch(async () => {
          redelivered = "yes";
          await eventually(drained, {
            timeoutMs: (consumers.sync.ackWaitS + 30) * 1_000,
            intervalMs: 500,
            what: "the unacknowledged request redelivered and answered",
          });
        }).catch(async (e) => {
          const c = await jsm.consumers.info(streams.sync.name, consumers.sync.durable);
          throw new Error(
            `${e.message}: ${JSON.stringify({ delivered: c.delivered, ack_floor: c.ack_floor })} ` +
              `runs ${JSON.stringify(await runsOf(requestId))}\n${stack.logs()}`,
          );
        });
      // What a redelivery of the request would bring (the same request, again): answered by
      // the run that completed, with no new run and no brokerage call.
      await js.publish(
        subjects.syncRequest("plaid", u.id),
        encode(SyncRequest, published.get(requestId)!),
        { msgID: `${requestId}-again` },
      );
      await eventually(drained, { timeoutMs: 20_000, what: "the repeated request answered" });
      const runs = await runsOf(requestId);
      const calls = (await plaidCalls()) - before;
      const [{ n: syncsOfConnection }] = await stack.db.sql<{ n: number }[]>`
        select count(*)::int as n from sync_runs where connection_id = ${conn.id}`;
      printFigures("sync-leader", {
        killed: victim,
        consumer_led_by_it_too: sameLeader ? "yes" : "no",
        run_at_kill: runsAtKill[0]?.status ?? "none",
        runs_of_request: runs.length,
        succeeded: runs.filter((r) => r.status === "succeeded").length,
        provider_calls: calls,
        calls_per_sync: callsPerSync,
        completed_after_kill_ms: completedMs,
        ack_lost_and_redelivered: redelivered,
        syncs_of_connection: syncsOfConnection,
      });
      assert.equal(runs.length, 1, "the request ran once");
      assert.equal(runs[0].status, "succeeded");
      assert.equal(calls, callsPerSync, "no brokerage call repeated");
      assert.equal(
        syncsOfConnection,
        initialSyncs + 2,
        "the first sync, the baseline and the refresh: nothing for the repeated request",
      );
    } finally {
      await admin("/latency", { ms: 0 }).catch(() => {});
      await stack.close();
      await sandbox.close();
    }
  },
});
