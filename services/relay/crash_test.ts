/**
 * Durability: 2,000 webhooks sent while NATS is stopped, the relay killed with SIGKILL and
 * restarted midway, then NATS restarted. Every webhook answered 200 must produce exactly one
 * recorded effect (a webhook_events row) through ingress.
 */
import assert from "node:assert/strict";
import { jetstream } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { createLogger, provisionAll } from "@meridian/runtime";
import {
  freePort,
  processEnv,
  startNats,
  testDatabase,
  waitForPort,
} from "@meridian/runtime/testing";
import { runConsumer } from "../ingress/consumer.ts";
import { snaptradeBody, snaptradeSignature } from "./test_signing.ts";

const KEY = "crash-test-consumer-key";
const TOTAL = 2_000;
const deno = Deno.execPath();

function startRelay(env: Record<string, string>) {
  return new Deno.Command(deno, {
    args: ["run", "-A", new URL("./main.ts", import.meta.url).pathname],
    env: processEnv({ METRICS_PORT: "0", ...env }),
    clearEnv: true,
    stdout: "null",
    stderr: "piped",
  }).spawn();
}

Deno.test({
  name: "relay + ingress: SIGKILL and a NATS outage lose no acknowledged webhook, duplicate none",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const db = await testDatabase();
    const nats = await startNats();
    const dir = await Deno.makeTempDir({ prefix: "relay-crash-" });
    const admin = await connect({ servers: nats.url });
    await provisionAll({ nc: admin });
    await admin.close();

    const [u] = await db.sql`insert into users (email, password_hash)
      values ('crash@example.com', ${"x".repeat(40)}) returning id`;
    for (let i = 0; i < 5; i++) {
      await db.sql`insert into connections (user_id, provider, external_id, institution)
        values (${u.id}, 'snaptrade', ${`auth-${i}`}, 'Inst')`;
    }

    // Ingress in this process, reconnecting for ever.
    const inc = await connect({
      servers: nats.url,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
    });
    const ac = new AbortController();
    const log = createLogger("crash-test", "error");
    const ingress = runConsumer(
      { sql: db.sql, js: jetstream(inc), nc: inc, log, cooldownS: 60, ttlH: 24 },
      ac.signal,
    );

    const port = freePort();
    const env = {
      NATS_URL: nats.url,
      RELAY_PORT: String(port),
      RELAY_OUTBOX_PATH: `${dir}/outbox.sqlite`,
      SNAPTRADE_CONSUMER_KEY: KEY,
      LOG_LEVEL: "error",
      NO_COLOR: "1",
    };
    let relay = startRelay(env);
    await waitForPort(port, 30_000);
    await nats.stop();

    const acknowledged = new Set<string>();
    const bodies = await Promise.all(
      Array.from({ length: TOTAL }, async (_, i) => {
        const body = snaptradeBody({ brokerageAuthorizationId: `auth-${i % 5}` });
        return {
          id: JSON.parse(body).webhookId as string,
          body,
          sig: await snaptradeSignature(body, KEY),
        };
      }),
    );
    let statuses5xx = 0;
    const send = async (b: { id: string; body: string; sig: string }) => {
      for (let attempt = 0; attempt < 50; attempt++) {
        try {
          const res = await fetch(`http://127.0.0.1:${port}/webhooks/snaptrade`, {
            method: "POST",
            body: b.body,
            headers: { "content-type": "application/json", Signature: b.sig },
          });
          await res.body?.cancel();
          if (res.status === 200) {
            acknowledged.add(b.id);
            return;
          }
          if (res.status >= 500) statuses5xx++;
        } catch {
          // The relay is down (killed): a sender retries, as providers do.
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    const pool = async (items: typeof bodies, width: number) => {
      let next = 0;
      await Promise.all(Array.from({ length: width }, async () => {
        while (next < items.length) await send(items[next++]);
      }));
    };

    // First half, then kill -9 while the second half is in flight.
    await pool(bodies.slice(0, TOTAL / 2), 16);
    const second = pool(bodies.slice(TOTAL / 2), 16);
    await new Promise((r) => setTimeout(r, 150));
    relay.kill("SIGKILL");
    await relay.status;
    await relay.stderr.cancel();
    relay = startRelay(env);
    await second;
    // Some redeliveries of already acknowledged webhooks.
    await pool(bodies.slice(0, 100), 8);
    assert.equal(statuses5xx, 0);
    assert.equal(acknowledged.size, TOTAL);

    await nats.restart();
    const deadline = Date.now() + 180_000;
    let recorded = 0;
    while (Date.now() < deadline) {
      [{ n: recorded }] = await db.sql`select count(*)::int as n from webhook_events`;
      if (recorded >= acknowledged.size) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const rows = await db.sql`select event_id from webhook_events where provider = 'snaptrade'`;
    const ids = new Set(rows.map((r) => r.event_id as string));
    const missing = [...acknowledged].filter((id) => !ids.has(id));
    assert.deepEqual(missing.length, 0, `missing ${missing.length} acknowledged webhooks`);
    assert.equal(rows.length, acknowledged.size, "exactly one effect per acknowledged webhook");
    const [pending] = await db.sql`select sum(events)::int as n from pending_updates`;
    assert.equal(pending.n, TOTAL, "each webhook flagged its connection exactly once");

    relay.kill("SIGTERM");
    await relay.status;
    await relay.stderr.cancel();
    ac.abort();
    await inc.close();
    await ingress;
    await nats.close();
    await db.close();
    await Deno.remove(dir, { recursive: true });
  },
});
