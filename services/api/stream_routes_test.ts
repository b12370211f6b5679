/** `GET /api/stream`: event ids, resumption with Last-Event-ID, snapshots, bad payloads. */
import assert from "node:assert/strict";
import { Kvm } from "@nats-io/kv";
import {
  buckets,
  encode,
  encodeTyped,
  kvKeys,
  PortfolioPending,
  PortfolioValue,
  subjects,
} from "@meridian/proto";
import { examplePortfolioValue } from "@meridian/proto/fixtures";
import { eventually } from "@meridian/runtime/testing";
import { call, json, login, sanitize, withHarness } from "./testing/harness.ts";
import { seedUser } from "./testing/seed.ts";

async function readEvents(res: Response, until: (text: string) => boolean, timeoutMs = 5000) {
  const reader = res.body!.getReader();
  let text = "";
  const deadline = Date.now() + timeoutMs;
  while (!until(text)) {
    if (Date.now() > deadline) break;
    const r = await Promise.race([
      reader.read(),
      new Promise<{ done: true; value: undefined }>((ok) =>
        setTimeout(() => ok({ done: true, value: undefined }), 200)
      ),
    ]);
    if (r.value) text += new TextDecoder().decode(r.value);
  }
  await reader.cancel().catch(() => {});
  return text;
}

Deno.test(
  "stream: events with ids, resume with Last-Event-ID, snapshot when too far behind",
  sanitize,
  async () => {
    await withHarness(async (h) => {
      const a = await seedUser(h.sql, "a@example.com", { pending: true });
      const cookie = await login(h, a.email, a.password);
      assert.equal((await call(h, "/api/stream")).status, 401);
      const first = await call(h, "/api/stream", { cookie });
      assert.equal(first.status, 200);
      assert.match(first.headers.get("content-type")!, /text\/event-stream/);
      const pending = (n: number) =>
        h.nats.nc.publish(
          subjects.portfolioPending(a.userId),
          encode(PortfolioPending, {
            user_id: a.userId,
            at: new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString(),
            connections: [{
              connection_id: a.connections[0],
              provider: "snaptrade",
              since: new Date().toISOString(),
            }],
          }),
        );
      const reading = readEvents(first, (t) => (t.match(/event: pending/g) ?? []).length >= 3);
      await eventually(() => h.app.hub.clients > 0, { what: "the stream to open" });
      for (let i = 0; i < 3; i++) pending(i);
      const text = await reading;
      assert.match(text, /^retry: \d+/);
      const ids = [...text.matchAll(/^id: (.+)$/gm)].map((m) => m[1]);
      assert.equal(ids.length, 3);
      assert.equal(new Set(ids).size, 3);
      // One shape per signal: the event is the view GET /api/pending-updates answers.
      const event = JSON.parse(/event: pending\ndata: (.+)\n/.exec(text)![1]);
      assert.deepEqual(event, await json(await call(h, "/api/pending-updates", { cookie })));
      assert.ok(event.connections[0].institution.length > 0);

      // Resume after the first: exactly the two that followed.
      const resumed = await call(h, "/api/stream", {
        cookie,
        headers: { "last-event-id": ids[0] },
      });
      const again = await readEvents(
        resumed,
        (t) => (t.match(/event: pending/g) ?? []).length >= 2,
        1500,
      );
      assert.deepEqual([...again.matchAll(/^id: (.+)$/gm)].map((m) => m[1]), ids.slice(1));

      // An id from another process (or far behind): a snapshot with the pending state.
      const stale = await call(h, "/api/stream", {
        cookie,
        headers: { "last-event-id": "zzzz-5" },
      });
      const snap = await readEvents(stale, (t) => t.includes("event: snapshot"));
      assert.match(snap, /event: snapshot/);
      const data = JSON.parse(/event: snapshot\ndata: (.+)\n/.exec(snap)![1]);
      assert.equal(data.pending.has_pending_updates, true);

      // Invalid payloads are dropped, not forwarded.
      const s3 = await call(h, "/api/stream", { cookie });
      const r3 = readEvents(s3, () => false, 800);
      await eventually(() => h.app.hub.clients > 0, { what: "the stream to open" });
      h.nats.nc.publish(subjects.portfolioPending(a.userId), new TextEncoder().encode("{not json"));
      assert.doesNotMatch(await r3, /event: pending/);
    });
  },
);

Deno.test(
  "stream: values in seq order (older and malformed ones dropped); a snapshot carries the KV's",
  sanitize,
  async () => {
    await withHarness(async (h) => {
      const a = await seedUser(h.sql, "values@example.com");
      const cookie = await login(h, a.email, a.password);
      // A value valuation wrote before the browser came: the first snapshot has it.
      const kv = await new Kvm(h.nats.nc).open(buckets.portfolioValues.name);
      await kv.put(
        kvKeys.portfolioValue(a.userId),
        encodeTyped(PortfolioValue, examplePortfolioValue(a.userId, 3, "300")),
      );
      const s = await call(h, "/api/stream", { cookie, headers: { "last-event-id": "zz-1" } });
      const reading = readEvents(s, (t) => (t.match(/event: value/g) ?? []).length >= 2);
      await eventually(() => h.app.hub.clients > 0, { what: "the stream to open" });
      const send = (data: Uint8Array) => h.nats.nc.publish(subjects.portfolioValue(a.userId), data);
      const value = (seq: number, total: string) =>
        encodeTyped(PortfolioValue, examplePortfolioValue(a.userId, seq, total, 2));
      send(value(5, "500"));
      send(value(4, "400")); // older: a user moving between instances
      send(new TextEncoder().encode('{"user_id":"nope"}'));
      send(value(6, "600"));
      const text = await reading;
      const snapshot = JSON.parse(/event: snapshot\ndata: (.+)\n/.exec(text)![1]);
      assert.equal(snapshot.value.total, "300");
      const totals = [...text.matchAll(/event: value\ndata: (.+)\n/g)].map((m) =>
        PortfolioValue.parse(JSON.parse(m[1])).total
      );
      assert.deepEqual(totals, ["500", "600"]);

      // A new page (no Last-Event-ID) gets the current value at once, without an id.
      const fresh = await call(h, "/api/stream", { cookie });
      const first = await readEvents(fresh, (t) => t.includes("event: value"));
      assert.match(first, /\n\nevent: value\ndata: \{"user_id"/);
      assert.equal(
        PortfolioValue.parse(JSON.parse(/event: value\ndata: (.+)\n/.exec(first)![1])).total,
        "600",
      );
    });
  },
);
