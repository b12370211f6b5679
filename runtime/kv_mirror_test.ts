import assert from "node:assert/strict";
import { Kvm } from "@nats-io/kv";
import { connectNats, createLogger, KvMirror } from "./mod.ts";
import { eventually, startNats } from "./testing/mod.ts";

Deno.test({
  name: "a kv mirror reports current values, then puts and deletes (restarts: lease_test)",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const nats = await startNats();
    const log = createLogger("mirror", "error");
    const writer = await connectNats({ url: nats.url, name: "writer", log });
    const reader = await connectNats({ url: nats.url, name: "reader", log });
    try {
      const kv = await new Kvm(writer.nc).create("mirror", { history: 1 });
      await kv.put("a.one", "1");
      await kv.put("b.other", "x");
      const seen = new Map<string, string>();
      const mirror = new KvMirror(await new Kvm(reader.nc).open("mirror"), {
        filter: "a.>",
        nc: reader.nc,
        log,
        onPut: (key, value) => void seen.set(key, new TextDecoder().decode(value)),
        onDelete: (key) => void seen.delete(key),
      });
      await mirror.start();
      assert.deepEqual([...seen], [["a.one", "1"]], "current values under the filter, at start");

      await kv.put("a.two", "2");
      await kv.put("a.one", "11");
      await kv.delete("a.two");
      await eventually(() => seen.get("a.one") === "11" && !seen.has("a.two"), {
        what: "the put and the delete",
      });

      assert.equal(mirror.revision("a.two"), undefined);
      mirror.stop();
    } finally {
      await reader.nc.close();
      await writer.nc.close();
      await nats.close();
    }
  },
});
