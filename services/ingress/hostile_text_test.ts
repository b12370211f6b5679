/**
 * Webhook text PostgreSQL cannot hold as is (NUL, lone surrogates, very long strings) is
 * recorded on the first delivery, and event ids recorded under the old rule are rewritten to
 * the key the relay forwards now.
 */
import assert from "node:assert/strict";
import { jetstream } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { webhookEventId } from "@meridian/proto";
import {
  createLogger,
  migrate,
  MIGRATIONS_DIR,
  provisionAll,
  readMigrations,
} from "@meridian/runtime";
import { startNats, testDatabase } from "@meridian/runtime/testing";
import { processEnvelope } from "./effects.ts";

const log = createLogger("ingress-test", "error");

Deno.test("ingress: NUL, lone surrogates and long strings in any field are recorded on first delivery", async () => {
  const db = await testDatabase();
  const nats = await startNats();
  const nc = await connect({ servers: nats.url });
  try {
    await provisionAll({ nc });
    const deps = { sql: db.sql, js: jetstream(nc), nc, log, cooldownS: 60, ttlH: 24 };
    const { sql } = db;
    const [u] = await sql`insert into users (email, password_hash)
      values ('hostile@example.com', ${"x".repeat(40)}) returning id`;
    const [snap] = await sql`insert into connections (user_id, provider, external_id, institution)
      values (${u.id}, 'snaptrade', 'auth-1', 'Inst') returning id`;
    const [plaid] = await sql`insert into connections
        (user_id, provider, external_id, institution, secret_key_id, secret_ciphertext)
      values (${u.id}, 'plaid', 'item-1', 'Inst', 'k1', ${new Uint8Array([1])}) returning id`;

    const nul = "a\u0000b";
    const lone = "x\ud800y\udfffz";
    const long = "é".repeat(300_000);
    const bodies: ["snaptrade" | "plaid", Record<string, unknown>][] = [
      ["snaptrade", {
        eventType: `ACCOUNT_HOLDINGS_UPDATED${nul}`,
        brokerageAuthorizationId: "auth-1",
      }],
      ["snaptrade", { eventType: "ACCOUNT_HOLDINGS_UPDATED", brokerageAuthorizationId: nul }],
      ["snaptrade", { eventType: "ACCOUNT_HOLDINGS_UPDATED", brokerageAuthorizationId: lone }],
      ["snaptrade", { eventType: "USER_DELETED", userId: nul }],
      ["snaptrade", { eventType: long + nul, connectionId: long }],
      [
        "snaptrade",
        {
          eventType: "CONNECTION_BROKEN",
          brokerageAuthorizationId: "auth-1",
          details: { reason: `${nul} ${lone} ${long}` },
        },
      ],
      [
        "plaid",
        {
          webhook_type: "ITEM",
          webhook_code: "ERROR",
          item_id: "item-1",
          error: { error_code: nul, error_message: long + lone },
        },
      ],
      [
        "plaid",
        {
          webhook_type: "ITEM",
          webhook_code: "PENDING_EXPIRATION",
          item_id: "item-1",
          consent_expiration_time: nul,
          reason: lone + long,
        },
      ],
      ["plaid", { webhook_type: nul, webhook_code: lone, item_id: nul }],
    ];
    for (const [i, [provider, body]] of bodies.entries()) {
      // Each one must be recorded on this (first) call: a throw here means a redelivery loop.
      const r = await processEnvelope(deps, {
        provider,
        event_id: `hostile-${i}`,
        received_at: new Date().toISOString(),
        body: JSON.stringify(body),
      });
      assert.equal(r.duplicate, false, `body ${i}`);
    }
    const rows = await sql<{ event_id: string; event_type: string; outcome: string }[]>`
      select event_id, event_type, outcome from webhook_events order by event_id`;
    assert.equal(rows.length, bodies.length);
    const byId = new Map(rows.map((r) => [r.event_id, r]));
    assert.equal(byId.get("hostile-0")!.event_type, "ACCOUNT_HOLDINGS_UPDATEDa\ufffdb");
    assert.equal(byId.get("hostile-1")!.outcome, "unknown_item", "a NUL id matches nothing");
    assert.equal(byId.get("hostile-3")!.outcome, "unknown_item");
    assert.equal(byId.get("hostile-4")!.event_type.length, 200);
    const [c] = await sql`select status, status_reason from connections where id = ${snap.id}`;
    assert.equal(c.status, "error");
    assert.ok(c.status_reason.startsWith("CONNECTION_BROKEN: a\ufffdb x\ufffdy\ufffdz"));
    assert.ok(c.status_reason.length <= 500);
    const [p] = await sql`select status_reason, warning from connections where id = ${plaid.id}`;
    assert.ok(p.status_reason.startsWith("a\ufffdb: éé") && p.status_reason.length <= 500);
    assert.ok(
      p.warning.startsWith("PENDING_EXPIRATION: x\ufffdy\ufffdz") && p.warning.length <= 500,
    );
  } finally {
    await nc.close();
    await nats.close();
    await db.close();
  }
});

Deno.test("migration 040: old event ids become the key the relay forwards now; the rule is enforced", async () => {
  const db = await testDatabase({ migrate: false });
  try {
    const all = await readMigrations(MIGRATIONS_DIR);
    await migrate(db.sql, all.filter((m) => m.version < 40));
    const old = [
      "0b7c4f5e-9a53-4c1e-8d7a-3c2f1e0d9b8a",
      "with space",
      "Zürich ☃ 😀",
      "tab\there, newline\nthere, \u0001\u001f\u007f",
      'quote " and backslash \\ and slash /',
      "x".repeat(200),
      "~not-a-hash",
      "~" + "a".repeat(64),
    ];
    for (const id of old) {
      await db.sql`insert into webhook_events (provider, event_id, event_type, received_at, outcome)
        values ('snaptrade', ${id}, 't', now(), 'ignored')`;
    }
    await migrate(db.sql, all);
    const rows = await db.sql<{ event_id: string }[]>`select event_id from webhook_events`;
    assert.deepEqual(
      rows.map((r) => r.event_id).sort(),
      old.map(webhookEventId).sort(),
      "PostgreSQL derives the same key as proto's webhookEventId",
    );
    await assert.rejects(
      db.sql`insert into webhook_events (provider, event_id, event_type, received_at, outcome)
        values ('plaid', 'has space', 't', now(), 'ignored')`,
      /webhook_events_event_id_rule/,
    );
  } finally {
    await db.close();
  }
});
