import assert from "node:assert/strict";
import { eventually } from "@meridian/runtime/testing";
import { jetstreamManager } from "@nats-io/jetstream";
import { buckets, consumers, streams } from "@meridian/proto";
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
