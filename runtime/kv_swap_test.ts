import assert from "node:assert/strict";
import { Kvm } from "@nats-io/kv";
import { connectNats, createLogger, isKvConflict, KvSwapWriter, type NatsHandle } from "./mod.ts";
import { startNats } from "./testing/mod.ts";

/** Runs `fn` on a connection to a NATS server of its own. */
function onNats(name: string, fn: (handle: NatsHandle) => Promise<void>) {
  Deno.test({
    name,
    sanitizeOps: false,
    sanitizeResources: false,
    fn: async () => {
      const nats = await startNats();
      const log = createLogger("swap", "error");
      const handle = await connectNats({ url: nats.url, name: "swapper", log });
      try {
        await fn(handle);
      } finally {
        await handle.nc.close();
        await nats.close();
      }
    },
  });
}

onNats("kv swaps write on the expected revision only, as kv.update does", async (handle) => {
  const kv = await new Kvm(handle.nc).create("swaps", { history: 1 });
  const writer = new KvSwapWriter(handle.nc, "swaps", { inboxPrefix: handle.inboxPrefix });
  const bytes = (s: string) => new TextEncoder().encode(s);

  const r1 = await writer.swap("u.one", bytes("1"), 0);
  assert.equal(new TextDecoder().decode((await kv.get("u.one"))!.value), "1");
  await assert.rejects(writer.swap("u.one", bytes("again"), 0), isKvConflict, "create twice");

  const [r2, lost] = await Promise.allSettled([
    writer.swap("u.one", bytes("2"), r1),
    writer.swap("u.one", bytes("stale"), r1),
  ]);
  assert.equal(r2.status, "fulfilled");
  assert.equal(lost.status, "rejected");
  assert.ok(isKvConflict((lost as PromiseRejectedResult).reason));
  const entry = (await kv.get("u.one"))!;
  assert.equal(new TextDecoder().decode(entry.value), "2");
  assert.equal(entry.revision, (r2 as PromiseFulfilledResult<number>).value);

  // Many in flight at once, each acknowledged with its own revision.
  const revisions = await Promise.all(
    Array.from({ length: 500 }, (_, i) => writer.swap(`u.k${i}`, bytes(String(i)), 0)),
  );
  assert.equal(new Set(revisions).size, 500);
  assert.equal(new TextDecoder().decode((await kv.get("u.k499"))!.value), "499");
  writer.close();
});

onNats("a kv swap fails at once without a bucket, after its timeout unanswered", async (handle) => {
  const writer = new KvSwapWriter(handle.nc, "missing", { timeoutMs: 200 });
  await assert.rejects(writer.swap("k", new Uint8Array([1]), 0), /no stream stores/);
  // A subscriber that never answers: the write is taken and nobody acknowledges it.
  const sink = handle.nc.subscribe("$KV.missing.>");
  await handle.nc.flush();
  await assert.rejects(writer.swap("k", new Uint8Array([1]), 0), /no PubAck within 200 ms/);
  sink.unsubscribe();
  writer.close();
});
