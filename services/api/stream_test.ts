import assert from "node:assert/strict";
import { connect } from "@nats-io/transport-node";
import { eventually, startNats } from "@meridian/runtime/testing";
import { readableEventStream } from "@meridian/runtime";
import { StreamHub } from "./stream.ts";

const dec = new TextDecoder();

/** Opens a stream on a ReadableStream body; `writeAheadBytes` 1 sends only to an idle reader. */
function openStream(
  hub: StreamHub,
  userId: string,
  lastEventId: string | undefined,
  snapshot: () => Promise<unknown>,
  writeAheadBytes?: number,
): ReadableStream<Uint8Array> {
  const stream = readableEventStream({}, writeAheadBytes);
  hub.open(userId, lastEventId, snapshot, stream.sink);
  return stream.response.body!;
}

async function readFor(stream: ReadableStream<Uint8Array>, ms: number): Promise<string> {
  const reader = stream.getReader();
  let text = "";
  const stop = Date.now() + ms;
  while (Date.now() < stop) {
    const r = await Promise.race([
      reader.read(),
      new Promise<null>((ok) => setTimeout(() => ok(null), stop - Date.now())),
    ]);
    if (r === null || r.done) break;
    text += dec.decode(r.value);
  }
  await reader.cancel().catch(() => {});
  return text;
}

Deno.test("a client that does not read is dropped once its queue is full", async () => {
  const hub = new StreamHub({ maxBacklogBytes: 200, heartbeatMs: 60_000 });
  const slow = openStream(hub, "u1", undefined, () => Promise.resolve({}));
  // Held like Deno.serve holds it, but never read.
  const slowReader = slow.getReader();
  slowReader.closed.catch(() => {});
  const fast = openStream(hub, "u1", undefined, () => Promise.resolve({}));
  const reading = readFor(fast, 300);
  await eventually(() => hub.clients === 2, { what: "both streams open" });
  for (let i = 0; i < 20; i++) {
    hub.publish("u1", "pending", JSON.stringify({ i }));
    await new Promise((r) => setTimeout(r, 2)); // the fast reader keeps up
  }
  assert.equal(hub.dropped, 1);
  assert.equal(hub.clients, 1);
  const text = await reading;
  assert.equal((text.match(/event: pending/g) ?? []).length, 20);
  // The dropped stream ends after at most its bounded backlog.
  let frames = 0;
  for (;;) {
    const r = await slowReader.read();
    if (r.done) break;
    frames++;
  }
  assert.ok(frames <= 7, `backlog ${frames}`);
  await hub.close();
});

Deno.test("the ring is bounded; resuming from before it gives a snapshot", async () => {
  const hub = new StreamHub({ ringSize: 3, heartbeatMs: 60_000 });
  const first = openStream(hub, "u1", undefined, () => Promise.resolve({}));
  const reading = readFor(first, 200);
  await eventually(() => hub.clients === 1, { what: "the stream to open" });
  for (let i = 0; i < 6; i++) hub.publish("u1", "sync", JSON.stringify({ i }));
  const ids = [...(await reading).matchAll(/^id: (.+)$/gm)].map((m) => m[1]);
  assert.equal(ids.length, 6);
  assert.equal(hub.missed("u1", ids[2])?.length, 3);
  assert.equal(hub.missed("u1", ids[1]), null); // event 3 is no longer in the ring
  assert.deepEqual(hub.missed("u1", ids[5]), []);
  assert.equal(hub.missed("u1", `${hub.epoch}-99`), null);
  assert.equal(hub.missed("u1", "garbage"), null);
  const resumed = await readFor(
    openStream(
      hub,
      "u1",
      ids[0],
      () => Promise.resolve({ pending: { has_pending_updates: false } }),
    ),
    200,
  );
  assert.match(
    resumed,
    /event: snapshot\ndata: \{"pending":\{"has_pending_updates":false\},"value":null\}/,
  );
  assert.match(resumed, new RegExp(`id: ${ids[5]}`));
  await hub.close();
});

Deno.test("heartbeats keep idle streams alive; events of others never arrive", async () => {
  const hub = new StreamHub({ heartbeatMs: 50 });
  // start() needs NATS; drive the heartbeat directly.
  const s = openStream(hub, "u1", undefined, () => Promise.resolve({}));
  const reading = readFor(s, 200);
  await eventually(() => hub.clients === 1, { what: "the stream to open" });
  hub.heartbeat();
  hub.publish("u2", "value", "{}");
  const text = await reading;
  assert.match(text, /^retry: \d+\n/);
  assert.match(text, /: heartbeat\n\n/);
  assert.doesNotMatch(text, /event: value/);
  await hub.close();
});

Deno.test("values are not replayed from the ring: a resuming stream gets the latest one", async () => {
  const hub = new StreamHub({ ringSize: 3, heartbeatMs: 60_000 });
  const first = openStream(hub, "u1", undefined, () => Promise.resolve({}), 1);
  const reading = readFor(first, 200);
  await eventually(() => hub.clients === 1, { what: "the stream to open" });
  hub.publish("u1", "sync", JSON.stringify({ i: 0 }));
  // More values than the ring holds: none of them pushes the sync event out.
  for (let i = 1; i <= 5; i++) hub.publish("u1", "value", JSON.stringify({ total: i }));
  hub.publish("u1", "pending", JSON.stringify({ i: 6 }));
  hub.publish("u1", "value", '{"total":\n7}'); // a line break would split its data line
  const text = await reading;
  // Values go out without an id: they are state, not events to resume from. Published faster
  // than the page reads, the ones in between are skipped: the latest arrives.
  const values = [...text.matchAll(/event: value\ndata: (.+)/g)].map((m) => m[1]);
  assert.ok(values.length >= 1 && values.length <= 5, values.join(" "));
  assert.equal(values.at(-1), '{"total":5}');
  assert.doesNotMatch(text, /id: [^\n]+\nevent: value/);
  assert.doesNotMatch(text, /"total":\n7/);
  const ids = [...text.matchAll(/^id: (.+)$/gm)].map((m) => m[1]);
  assert.equal(ids.length, 2);
  assert.deepEqual(hub.missed("u1", ids[0])?.map((e) => e.event), ["pending"]);

  const resumed = await readFor(openStream(hub, "u1", ids[0], () => Promise.resolve({})), 200);
  assert.doesNotMatch(resumed, /event: snapshot/);
  assert.deepEqual(
    [...resumed.matchAll(/^event: (.+)\ndata: (.+)$/gm)].map((m) => [m[1], m[2]]),
    [["pending", '{"i":6}'], ["value", '{"total":5}']],
  );
  assert.match(resumed, new RegExp(`id: ${ids[1]}\nevent: pending`));

  // Too far behind: the snapshot carries the latest value.
  const stale = await readFor(openStream(hub, "u1", "zz-1", () => Promise.resolve({})), 200);
  assert.match(stale, /event: snapshot\ndata: \{"value":\{"total":5\}\}/);
  assert.doesNotMatch(stale, /event: value/);
  await hub.close();
});

Deno.test("a page that has not read its last value gets the latest one next, not each", async () => {
  const hub = new StreamHub({ heartbeatMs: 60_000 });
  const reader = openStream(hub, "u1", undefined, () => Promise.resolve({}), 1).getReader();
  await eventually(() => hub.clients === 1, { what: "the stream to open" });
  const next = async () => dec.decode((await reader.read()).value);
  assert.match(await next(), /retry: /);
  for (let i = 1; i <= 5; i++) hub.publish("u1", "value", JSON.stringify({ total: i }));
  hub.publish("u1", "pending", JSON.stringify({ i: 6 }));
  assert.match(await next(), /data: \{"total":1\}/);
  assert.match(await next(), /event: pending/);
  assert.match(await next(), /data: \{"total":5\}/);
  hub.publish("u1", "value", JSON.stringify({ total: 6 }));
  assert.match(await next(), /data: \{"total":6\}/);
  await reader.cancel();
  await hub.close();
});

Deno.test("a gap in what the hub heard: open streams get a snapshot, older ids resume with one", async () => {
  const hub = new StreamHub({ heartbeatMs: 60_000 });
  const snapshot = () => Promise.resolve({ pending: { has_pending_updates: true } });
  const open = openStream(hub, "u1", undefined, snapshot);
  const reading = readFor(open, 400);
  await eventually(() => hub.clients === 1, { what: "the stream to open" });
  hub.publish("u1", "pending", JSON.stringify({ i: 1 }));
  hub.publish("u1", "pending", JSON.stringify({ i: 2 }));
  hub.resync(); // what NATS carried while the connection was away never reached the hub
  await new Promise((r) => setTimeout(r, 50));
  hub.publish("u1", "pending", JSON.stringify({ i: 3 }));
  const text = await reading;
  const frames = [...text.matchAll(/^id: (.+)\nevent: (\w+)$/gm)].map((m) => `${m[2]} ${m[1]}`);
  const e = hub.epoch;
  assert.deepEqual(frames, [
    `pending ${e}-1`,
    `pending ${e}-2`,
    `snapshot ${e}-3`,
    `pending ${e}-4`,
  ]);
  assert.equal(hub.missed("u1", `${e}-2`), null, "no resumption across the gap");
  assert.deepEqual(hub.missed("u1", `${e}-3`)?.map((x) => x.id), [`${e}-4`]);
  await hub.close();
});

Deno.test({
  name: "the hub's NATS connection coming back sends every open stream a snapshot",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const nats = await startNats();
    const nc = await connect({
      servers: nats.url.replace("nats://", ""),
      maxReconnectAttempts: -1,
      reconnectTimeWait: 100,
    });
    const hub = new StreamHub({ heartbeatMs: 60_000 });
    hub.start(nc);
    try {
      const open = openStream(hub, "u1", undefined, () => Promise.resolve({}));
      const reading = readFor(open, 4_000);
      await eventually(() => hub.clients === 1, { what: "the stream to open" });
      await nats.stop();
      await nats.restart();
      assert.match(await reading, /event: snapshot/);
    } finally {
      await hub.close();
      await nc.close();
      await nats.close();
    }
  },
});
