/**
 * Webhooks flood two relays (150 a second) while the NATS node leading WEBHOOKS is SIGKILLed
 * and restarted, twice. Every webhook answered 200 must end as exactly one `webhook_events`
 * row, recorded by two ingress instances. Meanwhile a browser-like client holds one api
 * instance's event stream (the api first connected to that very node), whose `pending` events
 * the webhooks cause: it must see no id gap it cannot resume from, and a snapshot after each
 * time the api lost its NATS server. Prints the figures: sent, acknowledged, recorded,
 * duplicates caught, recovery after each kill, and what the stream client saw.
 * @module
 */
import assert from "node:assert/strict";
import { streams } from "@meridian/proto";
import { Keyring } from "@meridian/runtime";
import { eventually, freePort } from "@meridian/runtime/testing";
import { snaptradeBody, snaptradeSignature } from "../services/relay/test_signing.ts";
import { printFigures, startChaosStack } from "./stack.ts";
import { createUser, signIn, watchStream } from "./sse_client.ts";

const KEY = "chaos-consumer-key";
const CONNECTIONS = 8;
const SENDERS = 16;
/**
 * Webhooks a second: what two ingress instances record on this 2-core machine with the rest
 * of the stack beside them, so that recovery times measure the fault, not a growing backlog.
 */
const RATE = 150;

Deno.test({
  name: "webhook flood, WEBHOOKS' leader SIGKILLed twice: each acknowledged webhook recorded once",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const stack = await startChaosStack({ SNAPTRADE_CONSUMER_KEY: KEY });
    const dir = await Deno.makeTempDir({ prefix: "meridian-chaos-flood-" });
    try {
      const [u] = await stack.db.sql`insert into users (email, password_hash)
        values ('flood@example.com', ${"x".repeat(40)}) returning id`;
      for (let i = 0; i < CONNECTIONS; i++) {
        await stack.db.sql`insert into connections (user_id, provider, external_id, institution)
          values (${u.id}, 'snaptrade', ${`auth-${i}`}, 'Inst')`;
      }
      // The stream's user: one connection, which every tenth webhook is about.
      const password = "chaos-stream-pass";
      const streamUser = await createUser(stack.db.sql, "stream@example.com", password);
      await stack.db.sql`insert into connections (user_id, provider, external_id, institution)
        values (${streamUser}, 'snaptrade', 'auth-stream', 'Inst')`;
      const victim = await stack.streamLeader(streams.webhooks.name);
      const apiPort = freePort();
      const apiOrigin = `http://127.0.0.1:${apiPort}`;
      // Given the victim alone, the api connects there and finds the others from the cluster.
      const api = stack.start("api", {
        NATS_URL: stack.cluster.node(victim).url,
        API_PORT: String(apiPort),
        PUBLIC_URL: apiOrigin,
        SECRETS_KEYRING: Keyring.generateSpec("chaos"),
      });
      const relayPorts = [freePort(), freePort()];
      const relays = relayPorts.map((port, i) =>
        stack.start("relay", {
          RELAY_PORT: String(port),
          RELAY_OUTBOX_PATH: `${dir}/outbox-${i}.sqlite`,
        })
      );
      const ingresses = [stack.start("ingress"), stack.start("ingress")];
      await eventually(
        async () =>
          (await Promise.all([api, ...relays, ...ingresses].map((p) => p.readyz()))).every((s) =>
            s === 200
          ),
        { timeoutMs: 90_000, intervalMs: 250, what: "relays and ingresses ready" },
      ).catch((e) => {
        throw new Error(`${e.message}\n${stack.logs()}`);
      });

      const stream = watchStream(
        apiOrigin,
        await signIn(apiOrigin, "stream@example.com", password),
        {
          hangUpMs: 7_000,
        },
      );

      // The flood: each sender posts signed webhooks, alternating relays, retrying a webhook
      // until it is answered 200 (as providers do), until told to stop.
      const ackedAt = new Map<string, number>();
      let sent = 0;
      let non200 = 0;
      let flooding = true;
      const latencies: number[] = [];
      const floodStart = performance.now();
      const sender = async (k: number) => {
        while (flooding) {
          const due = floodStart + (sent / RATE) * 1_000 - performance.now();
          if (due > 0) await new Promise((r) => setTimeout(r, due));
          const auth = sent % 10 === 9 ? "auth-stream" : `auth-${sent % CONNECTIONS}`;
          const body = snaptradeBody({ brokerageAuthorizationId: auth });
          const id = JSON.parse(body).webhookId as string;
          const signature = await snaptradeSignature(body, KEY);
          sent++;
          for (let attempt = 0; attempt < 20 && !ackedAt.has(id); attempt++) {
            const port = relayPorts[(k + attempt) % relayPorts.length];
            const t0 = performance.now();
            try {
              const res = await fetch(`http://127.0.0.1:${port}/webhooks/snaptrade`, {
                method: "POST",
                body,
                headers: { "content-type": "application/json", Signature: signature },
                signal: AbortSignal.timeout(10_000),
              });
              await res.body?.cancel();
              if (res.status === 200) {
                ackedAt.set(id, Date.now());
                latencies.push(performance.now() - t0);
              } else non200++;
            } catch {
              non200++;
            }
          }
        }
      };
      const senders = Array.from({ length: SENDERS }, (_, k) => sender(k));

      /** Ms from `killedAt` until a webhook acknowledged after it has its row. */
      const recoveredAfter = async (killedAt: number) => {
        const probe = await eventually(
          () => [...ackedAt].find(([, at]) => at > killedAt + 100)?.[0],
          { timeoutMs: 10_000, what: "a webhook acknowledged after the kill" },
        );
        await eventually(async () => {
          const [r] = await stack.db.sql`select count(*)::int as n from webhook_events
            where event_id = ${probe}`;
          return r.n === 1;
        }, { timeoutMs: 60_000, intervalMs: 100, what: "the probe webhook recorded" });
        return Date.now() - killedAt;
      };

      await eventually(() => ackedAt.size > 300 && stream.events() > 10, {
        timeoutMs: 30_000,
        what: "the flood going, its events streamed",
      });
      const recoveries: number[] = [];
      for (let round = 0; round < 2; round++) {
        const killedAt = await stack.kill(victim);
        const recovered = recoveredAfter(killedAt);
        // Down for four seconds, flooded all along.
        await new Promise((r) => setTimeout(r, 4_000));
        await stack.restart(victim);
        recoveries.push(await recovered);
        await eventually(
          () => [...ackedAt.values()].filter((at) => at > Date.now() - 2_000).length > 50,
          {
            timeoutMs: 30_000,
            what: "the flood going after the restart",
          },
        );
      }
      flooding = false;
      await Promise.all(senders);
      // The api's own record of losing its NATS server: each time, the stream owes a snapshot.
      const apiDisconnects = api.output().split("\n").filter((l) =>
        l.includes('"nats disconnected"')
      )
        .map((l) => Date.parse(JSON.parse(l).time));
      await eventually(
        () => apiDisconnects.every((t) => stream.snapshots().some((at) => at > t)),
        { timeoutMs: 15_000, what: "a snapshot on the stream after each api disconnect" },
      ).catch((e) => {
        throw new Error(`${e.message}: ${apiDisconnects} / ${stream.snapshots()}\n${stack.logs()}`);
      });
      await stream.stop();

      const acknowledged = new Set(ackedAt.keys());
      await eventually(async () => {
        const [r] = await stack.db.sql`select count(*)::int as n from webhook_events`;
        return r.n >= acknowledged.size;
      }, { timeoutMs: 120_000, intervalMs: 500, what: "every acknowledged webhook recorded" })
        .catch((e) => {
          throw new Error(`${e.message}\n${stack.logs()}`);
        });
      const rows = await stack.db.sql<{ event_id: string; n: number }[]>`
        select event_id, count(*)::int as n from webhook_events group by event_id`;
      const recorded = new Map(rows.map((r) => [r.event_id, r.n]));
      const missing = [...acknowledged].filter((id) => !recorded.has(id));
      const doubled = rows.filter((r) => r.n > 1).length;
      let caught = 0;
      for (const p of ingresses) {
        caught += (await p.metric(
          'meridian_ingress_webhooks_total{provider="snaptrade",outcome="duplicate"}',
        )) ?? 0;
      }
      latencies.sort((a, b) => a - b);
      printFigures("webhook-flood", {
        killed: `${victim}x2`,
        sent,
        acknowledged: acknowledged.size,
        not_acknowledged_attempts: non200,
        recorded: rows.length,
        missing: missing.length,
        duplicate_rows: doubled,
        duplicates_caught_by_ingress: caught,
        ack_p99_ms: latencies[Math.floor(latencies.length * 0.99)].toFixed(1),
        ack_max_ms: latencies[latencies.length - 1].toFixed(1),
        recovery_ms: recoveries.join("/"),
        stream_events: stream.events(),
        stream_reconnects: stream.reconnects(),
        stream_snapshots: stream.snapshots().length,
        api_nats_disconnects: apiDisconnects.length,
        stream_gaps: stream.gaps().length,
      });
      assert.deepEqual(stream.gaps(), [], "event ids the stream could not resume from");
      assert.equal(missing.length, 0, `${missing.length} acknowledged webhooks not recorded`);
      assert.equal(doubled, 0, "a webhook recorded twice");
      const [pending] = await stack.db.sql`select coalesce(sum(events), 0)::int as n
        from pending_updates`;
      assert.equal(pending.n, rows.length, "each recorded webhook flagged its connection once");
    } finally {
      await stack.close();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
