import assert from "node:assert/strict";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import {
  decode,
  encode,
  PortfolioPending,
  subjects,
  SyncRequest,
  WebhookEnvelope,
} from "@meridian/proto";
import { createLogger, provisionAll, type Sql } from "@meridian/runtime";
import { startNats, testDatabase } from "@meridian/runtime/testing";
import { runConsumer } from "./consumer.ts";
import { processEnvelope } from "./effects.ts";
import { reconcileOnce } from "./reconcile.ts";
import { replayDead } from "./replay_dead.ts";

const log = createLogger("ingress-test", "error");

async function seedUser(sql: Sql, autoSync = false) {
  const [u] = await sql`insert into users (email, password_hash, auto_sync)
    values (${`u${crypto.randomUUID().slice(0, 8)}@example.com`}, ${"x".repeat(40)}, ${autoSync})
    returning id`;
  return u.id as string;
}

async function seedConn(sql: Sql, userId: string, provider: string, externalId: string) {
  const [c] = await sql`insert into connections
      (user_id, provider, external_id, institution, secret_key_id, secret_ciphertext, last_synced_at)
    values (${userId}, ${provider}, ${externalId}, 'Inst',
            ${provider === "snaptrade" ? null : "k1"},
            ${provider === "snaptrade" ? null : new Uint8Array([1])}, now())
    returning id`;
  return c.id as string;
}

const env = (provider: "snaptrade" | "plaid", body: Record<string, unknown>, id?: string) => ({
  provider,
  event_id: id ?? crypto.randomUUID(),
  received_at: new Date().toISOString(),
  body: JSON.stringify(body),
});

async function setup() {
  const db = await testDatabase();
  const nats = await startNats();
  const nc = await connect({ servers: nats.url });
  await provisionAll({ nc });
  const deps = { sql: db.sql, js: jetstream(nc), nc, log, cooldownS: 60, ttlH: 24 };
  return {
    db,
    nats,
    nc,
    deps,
    close: async () => {
      await nc.close();
      await nats.close();
      await db.close();
    },
  };
}

Deno.test("ingress effects: flags, status, warnings, removal, idempotent, pending published", async () => {
  const h = await setup();
  try {
    const { sql } = h.db;
    const user = await seedUser(sql);
    const snap = await seedConn(sql, user, "snaptrade", "auth-1");
    const plaid = await seedConn(sql, user, "plaid", "item-1");
    const sub = h.nc.subscribe(subjects.portfolioPending(user), { max: 1 });

    const e1 = env("snaptrade", {
      eventType: "ACCOUNT_HOLDINGS_UPDATED",
      brokerageAuthorizationId: "auth-1",
    });
    const r1 = await processEnvelope(h.deps, e1);
    assert.equal(r1.outcome, "flagged");
    for await (const m of sub) {
      const p = decode(PortfolioPending, m.data);
      assert.deepEqual(p.connections.map((c) => c.connection_id), [snap]);
    }
    // Redelivery or replay at any age: no second effect.
    assert.equal((await processEnvelope(h.deps, e1)).duplicate, true);
    const [pu] = await sql`select events from pending_updates where connection_id = ${snap}`;
    assert.equal(pu.events, 1);

    // A transactions event sets the row's transactions flag; a later holdings event keeps it.
    const txFlag = async () =>
      (await sql`select transactions from pending_updates where connection_id = ${snap}`)[0]
        .transactions;
    assert.equal(await txFlag(), false, "a holdings event does not ask for transactions");
    await processEnvelope(
      h.deps,
      env("snaptrade", {
        eventType: "ACCOUNT_TRANSACTIONS_UPDATED",
        brokerageAuthorizationId: "auth-1",
      }),
    );
    assert.equal(await txFlag(), true);
    await processEnvelope(
      h.deps,
      env("snaptrade", {
        eventType: "ACCOUNT_HOLDINGS_UPDATED",
        brokerageAuthorizationId: "auth-1",
      }),
    );
    assert.equal(await txFlag(), true, "a later holdings event does not clear it");

    await processEnvelope(
      h.deps,
      env("plaid", {
        webhook_type: "ITEM",
        webhook_code: "ERROR",
        item_id: "item-1",
        error: { error_code: "ITEM_LOGIN_REQUIRED" },
      }),
    );
    let [c] = await sql`select status, status_reason, warning from connections where id = ${plaid}`;
    assert.equal(c.status, "error");
    assert.equal(c.status_reason, "ITEM_LOGIN_REQUIRED");
    await processEnvelope(
      h.deps,
      env("plaid", {
        webhook_type: "ITEM",
        webhook_code: "PENDING_DISCONNECT",
        item_id: "item-1",
        reason: "INSTITUTION_MIGRATION",
      }),
    );
    [c] = await sql`select warning from connections where id = ${plaid}`;
    assert.match(c.warning, /PENDING_DISCONNECT/);
    await processEnvelope(
      h.deps,
      env("plaid", {
        webhook_type: "ITEM",
        webhook_code: "LOGIN_REPAIRED",
        item_id: "item-1",
      }),
    );
    [c] = await sql`select status, status_reason, warning from connections where id = ${plaid}`;
    assert.deepEqual({ ...c }, { status: "active", status_reason: null, warning: null });

    await processEnvelope(
      h.deps,
      env("snaptrade", {
        eventType: "CONNECTION_BROKEN",
        brokerageAuthorizationId: "auth-1",
      }),
    );
    [c] = await sql`select status from connections where id = ${snap}`;
    assert.equal(c.status, "error");
    await processEnvelope(
      h.deps,
      env("snaptrade", {
        eventType: "CONNECTION_FIXED",
        brokerageAuthorizationId: "auth-1",
      }),
    );
    [c] = await sql`select status from connections where id = ${snap}`;
    assert.equal(c.status, "active");

    const unknown = await processEnvelope(
      h.deps,
      env("plaid", {
        webhook_type: "HOLDINGS",
        webhook_code: "DEFAULT_UPDATE",
        item_id: "nobody",
      }),
    );
    assert.equal(unknown.outcome, "unknown_item");
    const odd = await processEnvelope(h.deps, env("snaptrade", { eventType: "BRAND_NEW" }));
    assert.equal(odd.outcome, "unknown_type");
    const trade = await processEnvelope(
      h.deps,
      env("snaptrade", {
        eventType: "TRADE_UPDATE",
        brokerageAuthorizationId: "auth-1",
      }),
    );
    assert.equal(trade.outcome, "forwarded");

    await processEnvelope(
      h.deps,
      env("snaptrade", {
        eventType: "CONNECTION_DELETED",
        brokerageAuthorizationId: "auth-1",
      }),
    );
    assert.equal((await sql`select 1 from connections where id = ${snap}`).length, 0);
    const outcomes = await sql`select outcome from webhook_events order by processed_at`;
    assert.equal(outcomes.length, 12);
  } finally {
    await h.close();
  }
});

Deno.test("ingress: auto-sync users get a sync request instead of only a flag", async () => {
  const h = await setup();
  try {
    const user = await seedUser(h.db.sql, true);
    const conn = await seedConn(h.db.sql, user, "plaid", "item-auto");
    const r = await processEnvelope(
      h.deps,
      env("plaid", {
        webhook_type: "HOLDINGS",
        webhook_code: "DEFAULT_UPDATE",
        item_id: "item-auto",
      }),
    );
    assert.equal(r.outcome, "synced");
    const m = await h.deps.js.streams.get("SYNC").then((s) =>
      s.getMessage({ last_by_subj: subjects.syncRequest("plaid", user) })
    );
    const req = decode(SyncRequest, m!.data);
    assert.deepEqual(req.connection_ids, [conn]);
    assert.equal(req.reason, "auto");
  } finally {
    await h.close();
  }
});

Deno.test("ingress consumer: a poison message is dead-lettered after 5 deliveries and replayable", async () => {
  const h = await setup();
  const ac = new AbortController();
  try {
    const { sql } = h.db;
    const user = await seedUser(sql);
    await seedConn(sql, user, "plaid", "item-p");
    // Fail processing of one event id until the trigger is dropped.
    await sql.unsafe(`
      create function boom() returns trigger language plpgsql as $$
      begin if new.event_id = 'poison' then raise exception 'boom'; end if; return new; end $$;
      create trigger boom before insert on webhook_events for each row execute function boom();`);
    const body = { webhook_type: "HOLDINGS", webhook_code: "DEFAULT_UPDATE", item_id: "item-p" };
    const js = h.deps.js;
    await js.publish(
      subjects.webhook("plaid"),
      encode(WebhookEnvelope, env("plaid", body, "poison")),
      {
        msgID: "poison",
      },
    );
    await js.publish(
      subjects.webhook("plaid"),
      encode(WebhookEnvelope, env("plaid", body, "fine")),
      {
        msgID: "fine",
      },
    );
    await h.nc.publish(subjects.webhook("plaid"), new TextEncoder().encode("not an envelope"));
    const done = runConsumer(h.deps, ac.signal);
    const jsm = await jetstreamManager(h.nc);
    for (let i = 0; i < 300; i++) {
      const dlq = await jsm.streams.info("WEBHOOKS_DLQ");
      if (dlq.state.messages >= 2) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal((await jsm.streams.info("WEBHOOKS_DLQ")).state.messages, 2);
    const rows = await sql`select event_id from webhook_events`;
    assert.deepEqual(rows.map((r) => r.event_id), ["fine"]);

    await sql.unsafe("drop trigger boom on webhook_events");
    const n = await replayDead(jetstream(h.nc));
    assert.equal(n, 1); // the invalid envelope cannot be replayed
    for (let i = 0; i < 100; i++) {
      if ((await sql`select 1 from webhook_events where event_id = 'poison'`).length) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal((await sql`select 1 from webhook_events where event_id = 'poison'`).length, 1);
    ac.abort();
    await done;
  } finally {
    ac.abort();
    await h.close();
  }
});

Deno.test("reconciliation requests a sync for stale connections only", async () => {
  const h = await setup();
  try {
    const { sql } = h.db;
    const user = await seedUser(sql);
    const stale = await seedConn(sql, user, "plaid", "item-stale");
    await seedConn(sql, user, "plaid", "item-fresh");
    await sql`update connections set last_synced_at = now() - interval '25 hours' where id = ${stale}`;
    const done = await reconcileOnce(h.deps, { ttlH: 24, intervalS: 900 });
    assert.deepEqual(done, [{ userId: user, provider: "plaid", connectionIds: [stale] }]);
    const m = await h.deps.js.streams.get("SYNC").then((s) =>
      s.getMessage({ last_by_subj: subjects.syncRequest("plaid", user) })
    );
    assert.equal(decode(SyncRequest, m!.data).reason, "stale");
    // With fake time two days on, both are stale.
    const later = await reconcileOnce(h.deps, {
      ttlH: 24,
      intervalS: 900,
      now: new Date(Date.now() + 48 * 3_600_000),
    });
    assert.equal(later[0].connectionIds.length, 2);
  } finally {
    await h.close();
  }
});
