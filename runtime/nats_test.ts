import assert from "node:assert/strict";
import { eventually } from "@meridian/runtime/testing";
import { jetstreamManager } from "@nats-io/jetstream";
import { buckets, consumers, kvKeys, streams, subjects } from "@meridian/proto";
import { KvSwapWriter } from "./kv_swap.ts";
import { isKvConflict } from "./lease.ts";
import { createLogger } from "./log.ts";
import { connectNats, provisionAll } from "./nats.ts";
import { startNats } from "./testing/mod.ts";

Deno.test("provisioning is idempotent and concurrent-safe", async () => {
  const server = await startNats();
  const log = createLogger("test", "error");
  const handles = await Promise.all(
    [1, 2, 3].map(() => connectNats({ url: server.url, name: "t", log })),
  );
  try {
    await Promise.all(handles.map((h) => provisionAll(h)));
    await provisionAll(handles[0]);
    const jsm = await jetstreamManager(handles[0].nc);
    for (const s of Object.values(streams)) {
      assert.equal((await jsm.streams.info(s.name)).config.name, s.name);
    }
    for (const c of Object.values(consumers)) {
      assert.equal(
        (await jsm.consumers.info(c.stream, c.durable)).config.max_deliver,
        c.maxDeliver,
      );
    }
    const names: string[] = [];
    for await (const s of jsm.streams.names()) names.push(s);
    for (const b of Object.values(buckets)) assert.ok(names.includes(`KV_${b.name}`));
  } finally {
    await Promise.all(handles.map((h) => h.nc.close()));
    await server.close();
  }
});

Deno.test("a stored portfolio value is republished on its subject; a lost swap is not", async () => {
  const server = await startNats();
  const log = createLogger("test", "error");
  const h = await connectNats({ url: server.url, name: "t", log });
  try {
    // A bucket from before the republish (on file): provisioning recreates it.
    const jsm = await jetstreamManager(h.nc);
    await h.kvm.create(buckets.portfolioValues.name, { history: 1 });
    await provisionAll(h);
    const info = await jsm.streams.info(`KV_${buckets.portfolioValues.name}`);
    assert.equal(info.config.republish?.dest, "portfolio.value.>");
    assert.equal(info.config.storage, "memory");
    await provisionAll(h);
    assert.equal(
      (await jsm.streams.info(`KV_${buckets.portfolioValues.name}`)).state.first_seq,
      info.state.first_seq,
      "an up-to-date bucket is left alone",
    );

    const heard: string[] = [];
    h.nc.subscribe(subjects.portfolioValueAll, {
      callback: (_e, m) => void heard.push(`${m.subject} ${m.string()}`),
    });
    await h.nc.flush();
    const writer = new KvSwapWriter(h.nc, buckets.portfolioValues.name, {
      inboxPrefix: h.inboxPrefix,
    });
    const user = "00000000-0000-4000-8000-000000000001";
    const key = kvKeys.portfolioValue(user);
    const bytes = (s: string) => new TextEncoder().encode(s);
    const r1 = await writer.swap(key, bytes("one"), 0);
    await writer.swap(key, bytes("two"), r1);
    await assert.rejects(writer.swap(key, bytes("lost"), r1), isKvConflict);
    await eventually(() => heard.length === 2, { what: "the two stored values" });
    await h.nc.flush();
    assert.deepEqual(heard, [
      `${subjects.portfolioValue(user)} one`,
      `${subjects.portfolioValue(user)} two`,
    ]);
    writer.close();
  } finally {
    await h.nc.close();
    await server.close();
  }
});

Deno.test("the connection reports not ready while the server is down and recovers", async () => {
  const server = await startNats();
  const handle = await connectNats({
    url: server.url,
    name: "t",
    log: createLogger("test", "error"),
  });
  try {
    assert.equal(handle.connected(), true);
    await server.stop();
    await eventually(() => !handle.connected(), { timeoutMs: 5_000, what: "the disconnect" });
    await server.restart();
    await eventually(() => handle.connected(), { timeoutMs: 10_000, what: "the reconnect" });
  } finally {
    await handle.nc.close();
    await server.close();
  }
});
