/**
 * The sync service: the sync worker, the order follower (open orders followed at their brokers
 * until final), plus demo seeding in sandbox mode.
 */
import { keyringFromConfig, runService } from "@meridian/runtime";
import { createSyncDeps } from "./deps.ts";
import { seedDemo } from "./demo_seed.ts";
import { SyncWorker } from "./worker.ts";
import { OrderDesk, OrderFollower } from "./trading/mod.ts";

await runService({
  name: "sync",
  // Each running sync holds one connection for its lease: room for 8 of them and the queries.
  database: { max: 16 },
  async start(ctx) {
    const deps = createSyncDeps({
      sql: ctx.sql,
      nc: ctx.nats.nc,
      keyring: await keyringFromConfig(ctx.config),
      config: ctx.config,
      log: ctx.log,
    });
    const worker = new SyncWorker(deps);
    await worker.start();
    ctx.shutdown.add("sync worker", () => worker.stop());
    // Following reads the brokers only; previews (which need live prices) are the api's.
    const follower = new OrderFollower(
      new OrderDesk({ sync: deps, lastPrice: () => Promise.resolve(null) }),
      { log: ctx.log },
    );
    follower.start();
    ctx.shutdown.add("order follower", () => follower.stop());
    // Seeding waits for the sandbox; it must not hold up readiness.
    seedDemo(deps, ctx.shutdown.signal).catch((e) =>
      ctx.log.error("demo seeding stopped", { error: e })
    );
  },
});
