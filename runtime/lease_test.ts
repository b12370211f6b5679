import assert from "node:assert/strict";
import { Kvm } from "@nats-io/kv";
import { eventually, startNats, type TestNats } from "./testing/mod.ts";
import { createLogger } from "./log.ts";
import { connectNats, type NatsHandle } from "./nats.ts";
import { instanceId, Lease, LeaseBoard } from "./lease.ts";

const TTL_MS = 1_000;
const KEY = "prices.shard.a";
const opts = { sanitizeOps: false, sanitizeResources: false };

/** One contender: its own connection, board and lease, as a separate process would have. */
interface Node {
  handle: NatsHandle;
  board: LeaseBoard;
  lease: Lease;
  changes: boolean[];
}

async function node(nats: TestNats, name: string, ttlMs = TTL_MS): Promise<Node> {
  const log = createLogger(name, "error");
  const handle = await connectNats({ url: nats.url, name, log });
  const kv = await new Kvm(handle.nc).create("leases", { history: 1 });
  const board = new LeaseBoard(kv, { filter: "prices.shard.>", ttlMs, log, nc: handle.nc });
  await board.start();
  const lease = new Lease({
    kv,
    board,
    key: KEY,
    holder: instanceId(name),
    ttlMs,
    info: () => ({ feed: "iex", node: name }),
    log,
  });
  const changes: boolean[] = [];
  lease.onChange((held) => changes.push(held));
  return { handle, board, lease, changes };
}

async function cluster(ttlMs = TTL_MS) {
  const nats = await startNats();
  const a = await node(nats, "a", ttlMs);
  const b = await node(nats, "b", ttlMs);
  return {
    nats,
    a,
    b,
    async close() {
      for (const n of [a, b]) {
        n.lease.stop();
        n.board.stop();
        await n.handle.nc.close();
      }
      await nats.close();
    },
  };
}

/** Tries to acquire until it succeeds; returns how long that took. */
async function acquireWithin(n: Node, timeoutMs: number, what: string): Promise<number> {
  const t0 = performance.now();
  await eventually(() => n.lease.tryAcquire(), { timeoutMs, intervalMs: 50, what });
  return performance.now() - t0;
}

Deno.test(
  "only one of two contenders holds the lease, and it keeps it by renewing",
  opts,
  async () => {
    const c = await cluster();
    try {
      const [ra, rb] = await Promise.all([c.a.lease.tryAcquire(), c.b.lease.tryAcquire()]);
      assert.equal(ra !== rb, true, "exactly one wins");
      const [holder, standby] = ra ? [c.a, c.b] : [c.b, c.a];
      assert.equal(holder.lease.held, true);
      assert.equal(await holder.lease.tryAcquire(), true, "already held");
      assert.deepEqual(holder.changes, [true]);
      // Over three ttls the standby never gets it and the revision keeps moving.
      const start = standby.board.revision(KEY) ?? 0;
      const until = performance.now() + 3 * TTL_MS;
      await eventually(async () => {
        assert.equal(await standby.lease.tryAcquire(), false);
        assert.equal(standby.board.expired(KEY), false);
        return performance.now() > until;
      }, { timeoutMs: 10_000, intervalMs: 100, what: "three ttls of renewals" });
      assert.equal(holder.lease.held, true);
      assert.ok((standby.board.revision(KEY) ?? 0) >= start + 6, "renewed every ttl/3");
      assert.deepEqual(holder.changes, [true]);
      assert.deepEqual(standby.changes, []);
    } finally {
      await c.close();
    }
  },
);

Deno.test("after the holder crashes the other acquires within ttl + 1 s", opts, async () => {
  const c = await cluster();
  try {
    assert.equal(await c.a.lease.tryAcquire(), true);
    await eventually(() => c.b.board.entry(KEY)?.live, { timeoutMs: 5_000, what: "b sees a" });
    // The standby tries when its board says the lease expired, as a service would.
    c.b.board.onChange(() => {
      if (c.b.board.expired(KEY)) c.b.lease.tryAcquire();
    });
    const t0 = performance.now();
    c.a.lease.stop(); // no release: a crash
    assert.equal(c.a.lease.held, false);
    await eventually(() => c.b.lease.held, { timeoutMs: TTL_MS + 1_000, what: "b's takeover" });
    const took = performance.now() - t0;
    assert.ok(took >= TTL_MS - 100 && took <= TTL_MS + 1_000, `took ${took} ms`);
    assert.equal(c.b.lease.held, true);
    // a cannot win it back: its revision is stale and b's lease is live.
    await eventually(() => c.a.board.entry(KEY)?.record.holder.startsWith("b-"), {
      timeoutMs: 5_000,
      what: "a sees b",
    });
    assert.equal(await c.a.lease.tryAcquire(), false);
  } finally {
    await c.close();
  }
});

Deno.test("release lets the other acquire at once", opts, async () => {
  const c = await cluster();
  try {
    assert.equal(await c.a.lease.tryAcquire(), true);
    await eventually(() => c.b.board.entry(KEY)?.live, { timeoutMs: 5_000, what: "b sees a" });
    await c.a.lease.release();
    assert.equal(c.a.lease.held, false);
    assert.deepEqual(c.a.changes, [true, false]);
    const took = await acquireWithin(c.b, TTL_MS / 2, "b's acquisition after release");
    assert.ok(took < TTL_MS / 2, `took ${took} ms`);
    // Releasing a lease someone else now holds deletes nothing.
    await c.a.lease.release();
    await eventually(() => c.a.board.entry(KEY)?.record.holder.startsWith("b-"), {
      timeoutMs: 5_000,
      what: "a sees b",
    });
    assert.equal(c.b.lease.held, true);
  } finally {
    await c.close();
  }
});

Deno.test(
  "the board lists live leases with their info and marks a crashed holder expired",
  opts,
  async () => {
    const c = await cluster();
    const other = new Lease({
      kv: await new Kvm(c.b.handle.nc).open("leases"),
      board: c.b.board,
      key: "prices.shard.b",
      holder: "b-other",
      ttlMs: TTL_MS,
      info: () => ({ feed: "sip" }),
    });
    try {
      let notified = 0;
      c.b.board.onChange(() => notified++);
      assert.equal(await c.a.lease.tryAcquire(), true);
      assert.equal(await other.tryAcquire(), true);
      const both = await eventually(() => {
        const e = c.b.board.entries();
        return e.size === 2 && [...e.values()].every((v) => v.live) && e;
      }, { timeoutMs: 5_000, what: "both leases on the board" });
      assert.deepEqual(both.get(KEY)?.record.info, { feed: "iex", node: "a" });
      assert.ok(both.get(KEY)?.record.holder.startsWith("a-"));
      assert.deepEqual(both.get("prices.shard.b")?.record.info, { feed: "sip" });
      assert.ok(notified >= 2);
      c.a.lease.stop();
      await eventually(() => c.b.board.entries().get(KEY)?.live === false, {
        timeoutMs: TTL_MS + 2_000,
        what: "the crashed lease marked expired",
      });
      assert.equal(c.b.board.expired(KEY), true);
      assert.equal(c.b.board.entries().get("prices.shard.b")?.live, true);
      assert.equal(c.b.board.expired("prices.shard.none"), true);
      assert.equal(c.b.board.revision("prices.shard.none"), undefined);
      // A board started later loads the current values before start() resolves.
      const late = new LeaseBoard(await new Kvm(c.a.handle.nc).open("leases"), {
        filter: "prices.shard.>",
        ttlMs: TTL_MS,
      });
      await late.start();
      assert.deepEqual([...late.entries().keys()].sort(), [KEY, "prices.shard.b"]);
      assert.equal(late.entries().get(KEY)?.live, true, "initial values count as changed now");
      late.stop();
      // A released lease leaves the board.
      await other.release();
      await eventually(() => !c.b.board.entries().has("prices.shard.b"), {
        timeoutMs: 5_000,
        what: "the released lease gone",
      });
    } finally {
      other.stop();
      await c.close();
    }
  },
);

Deno.test(
  "a holder that cannot renew for ttl gives the lease up, and can win it back",
  opts,
  async () => {
    const c = await cluster();
    try {
      assert.equal(await c.a.lease.tryAcquire(), true);
      await c.nats.stop();
      await eventually(() => !c.a.lease.held, { timeoutMs: TTL_MS + 2_000, what: "self-fencing" });
      assert.deepEqual(c.a.changes, [true, false]);
      await c.nats.restart();
      // Nobody else took it, so the revision is still ours.
      await acquireWithin(c.a, 15_000, "a winning its lease back");
      assert.equal(c.b.lease.held, false);
    } finally {
      await c.close();
    }
  },
);

Deno.test(
  "a NATS restart shorter than the ttl keeps the holder and the board current",
  opts,
  async () => {
    const ttlMs = 8_000;
    const c = await cluster(ttlMs);
    try {
      assert.equal(await c.a.lease.tryAcquire(), true);
      await eventually(() => c.b.board.entry(KEY)?.live, { timeoutMs: 5_000, what: "b sees a" });
      const t0 = performance.now();
      await c.nats.stop();
      await c.nats.restart();
      const outage = performance.now() - t0;
      assert.ok(outage < ttlMs - 2_000, `restart took ${outage} ms`);
      const before = c.b.board.revision(KEY) ?? 0;
      await eventually(() => (c.b.board.revision(KEY) ?? 0) >= before + 2, {
        timeoutMs: ttlMs,
        what: "b's board seeing renewals after the restart",
      });
      assert.equal(c.a.lease.held, true);
      assert.deepEqual(c.a.changes, [true]);
      assert.equal(c.b.board.entry(KEY)?.live, true);
      assert.equal(await c.b.lease.tryAcquire(), false);
    } finally {
      await c.close();
    }
  },
);

Deno.test("instanceId is unique and at most 64 characters", () => {
  const a = instanceId("prices");
  assert.match(a, /^prices-.+-[0-9a-f]{6}$/);
  assert.notEqual(a, instanceId("prices"));
  assert.ok(instanceId("x".repeat(100)).length <= 64);
});

Deno.test(
  "a renewal stored but unanswered (a leader's death) does not cost the lease",
  opts,
  async () => {
    const nats = await startNats();
    const log = createLogger("lost-answer", "error");
    const handle = await connectNats({ url: nats.url, name: "lost-answer", log });
    try {
      const kv = await new Kvm(handle.nc).create("leases", { history: 1 });
      // Every third renewal reaches the bucket, but its answer never comes back.
      let updates = 0;
      const lossy = new Proxy(kv, {
        get(target, prop, receiver) {
          if (prop !== "update") return Reflect.get(target, prop, receiver);
          return async (...args: Parameters<typeof kv.update>) => {
            await target.update(...args);
            if (++updates % 3 === 0) throw new Error("TIMEOUT");
            return (await target.get(args[0]))!.revision;
          };
        },
      });
      const board = new LeaseBoard(lossy, { filter: "prices.shard.>", ttlMs: TTL_MS, log });
      await board.start();
      const lease = new Lease({
        kv: lossy,
        board,
        key: KEY,
        holder: instanceId("x"),
        ttlMs: TTL_MS,
      });
      const changes: boolean[] = [];
      lease.onChange((held) => changes.push(held));
      assert.equal(await lease.tryAcquire(), true);
      const until = performance.now() + 4 * TTL_MS;
      await eventually(() => performance.now() > until, { timeoutMs: 10_000, what: "four ttls" });
      assert.ok(updates >= 9, `${updates} renewals`);
      assert.equal(lease.held, true);
      assert.deepEqual(changes, [true], "held throughout");
      lease.stop();
      board.stop();
    } finally {
      await handle.nc.close();
      await nats.close();
    }
  },
);
