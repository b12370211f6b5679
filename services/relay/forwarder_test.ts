/**
 * A row the forwarder cannot publish is set aside as poisoned, never fatal, and never blocks
 * the rows behind it; `relay:status` shows it and `relay:replay --poisoned` sends it again.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { webhookEventId } from "@meridian/proto";
import { createLogger, provisionAll } from "@meridian/runtime";
import { eventually, processEnv, startNats } from "@meridian/runtime/testing";
import { Forwarder } from "./forwarder.ts";
import { Outbox } from "./outbox.ts";

const log = createLogger("forwarder-test", "error");
const deno = Deno.execPath();

/** Stores a row as it is, as an older relay (or a bug) could have. */
function insertRaw(outbox: Outbox, eventId: string, receivedAt: string, body: string) {
  outbox.db.prepare(
    "insert into outbox (provider, event_id, received_at, body) values ('snaptrade', ?, ?, ?)",
  ).run(eventId, receivedAt, body);
}

async function tool(script: string, args: string[], env: Record<string, string>) {
  const out = await new Deno.Command(deno, {
    args: ["run", "-A", new URL(script, import.meta.url).pathname, ...args],
    env: processEnv(env),
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}

Deno.test({
  name:
    "forwarder: unpublishable rows are set aside, the rest go on; status shows them, replay sends them",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "relay-poison-" });
    const path = `${dir}/outbox.sqlite`;
    // A NATS with a small max_payload, so one ordinary-looking row is too large for it.
    const small = await startNats({ config: "max_payload: 8192" });
    const nc = await connect({ servers: small.url });
    const outbox = new Outbox(path);
    const forwarder = new Forwarder(outbox, jetstream(nc), log);
    try {
      await provisionAll({ nc });
      const now = new Date().toISOString();
      const body = (n = 10) => JSON.stringify({ eventType: "X", pad: "p".repeat(n) });
      insertRaw(outbox, "ok-1", now, body());
      // The previous relay stored raw ids. SQLite cuts a text at NUL, so a webhookId of "\0"
      // came back empty, failed the envelope schema, and its throw killed the relay for good.
      insertRaw(outbox, "\u0000", now, body());
      insertRaw(outbox, "legacy id é", now, body());
      insertRaw(outbox, "bad-time", "not a time", body());
      insertRaw(outbox, "too-big", now, body(20_000));
      insertRaw(outbox, "ok-2", now, body());
      forwarder.start();
      await eventually(() => outbox.backlog() === 0, { what: "the backlog to drain" });

      const jsm = await jetstreamManager(nc);
      const ids = async () => {
        const info = await jsm.streams.info("WEBHOOKS");
        const out: string[] = [];
        for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
          const m = await jsm.streams.getMessage("WEBHOOKS", { seq });
          out.push(m!.header.get("Nats-Msg-Id"));
        }
        return out;
      };
      // They go out under the key the same rule gives any id now.
      assert.deepEqual(await ids(), [
        "ok-1",
        webhookEventId(""),
        webhookEventId("legacy id é"),
        "ok-2",
      ]);
      const poisoned = outbox.poisoned();
      assert.deepEqual(poisoned.map((r) => r.event_id), ["bad-time", "too-big"]);
      assert.match(poisoned[0].failure!, /^schema: received_at/);
      assert.match(poisoned[1].failure!, /^max_payload/);
      assert.equal(outbox.status().poisoned, 2);

      // The loop is alive: a new row still goes through.
      await outbox.append({
        provider: "snaptrade",
        eventId: "ok-3",
        eventType: "X",
        receivedAt: new Date().toISOString(),
        body: body(),
      });
      await eventually(async () => (await ids()).includes("ok-3"), {
        what: "a later row forwarded",
      });
      await forwarder.stop();

      const env = { RELAY_OUTBOX_PATH: path, LOG_LEVEL: "error", NO_COLOR: "1" };
      const status = await tool("./status.ts", [], env);
      assert.equal(status.code, 0, status.stderr);
      assert.match(status.stdout, /poisoned: +2/);
      assert.match(status.stdout, /"too-big" received .* set aside .*: max_payload/);

      // Once NATS takes larger messages, replay sends what can go; the rest stays set aside.
      const big = await startNats();
      try {
        const bnc = await connect({ servers: big.url });
        await provisionAll({ nc: bnc });
        const replay = await tool("./replay.ts", ["--poisoned"], { ...env, NATS_URL: big.url });
        assert.equal(replay.code, 1, "a row still poisoned is a failure");
        assert.match(replay.stdout, /re-forwarded 1 webhook\(s\) set aside as poisoned; 1 still/);
        assert.match(replay.stderr, /still cannot be forwarded: schema: received_at/);
        const bjsm = await jetstreamManager(bnc);
        const m = await bjsm.streams.getMessage("WEBHOOKS", { seq: 1 });
        assert.equal(m!.header.get("Nats-Msg-Id"), "too-big");
        await bnc.close();
        assert.deepEqual(outbox.poisoned().map((r) => r.event_id), ["bad-time"]);
        assert.ok(
          outbox.since("1970-01-01T00:00:00Z").find((r) => r.event_id === "too-big")!.forwarded_at,
        );
      } finally {
        await big.close();
      }
    } finally {
      await forwarder.stop();
      await nc.close();
      await small.close();
      outbox.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("outbox: a file from the previous relay opens with its set-aside rows poisoned", async () => {
  const dir = await Deno.makeTempDir({ prefix: "relay-upgrade-" });
  const path = `${dir}/outbox.sqlite`;
  try {
    // The previous relay's schema and its way of setting a row aside.
    const old = new DatabaseSync(path);
    old.exec(`
      create table outbox (
        seq integer primary key autoincrement,
        provider text not null,
        event_id text not null,
        event_type text not null default '',
        received_at text not null,
        body text not null,
        forwarded_at text,
        unique (provider, event_id)
      );
      insert into outbox (provider, event_id, received_at, body, forwarded_at) values
        ('plaid', 'a', '2026-11-01T00:00:00.000Z', '{}', '2026-11-01T00:00:01.000Z'),
        ('plaid', 'b', '2026-11-01T00:00:00.000Z', '{}', 'unforwardable:max_payload'),
        ('plaid', 'c', '2026-11-01T00:00:00.000Z', '{}', null);
    `);
    old.close();
    const outbox = new Outbox(path);
    try {
      assert.deepEqual(outbox.unforwarded(10).map((r) => r.event_id), ["c"]);
      const [b] = outbox.poisoned();
      assert.equal(b.event_id, "b");
      assert.equal(b.failure, "max_payload");
      assert.equal(b.forwarded_at, null);
      assert.equal(outbox.status().poisoned, 1);
      // Pruning keeps it: a poisoned row waits for its replay.
      assert.equal(outbox.prune("2027-01-01T00:00:00.000Z"), 1);
      assert.deepEqual(outbox.poisoned().map((r) => r.event_id), ["b"]);
    } finally {
      outbox.close();
    }
    // Opening it again changes nothing.
    const again = new Outbox(path);
    assert.equal(again.status().poisoned, 1);
    again.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
