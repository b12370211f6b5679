/** The sync service: the sync worker, plus demo seeding in sandbox mode. */
import { keyringFromConfig, runService } from "@meridian/runtime";
import { createSyncDeps } from "./deps.ts";
import { seedDemo } from "./demo_seed.ts";
import { SyncWorker } from "./worker.ts";

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
    // Seeding waits for the sandbox; it must not hold up readiness.
    seedDemo(deps, ctx.shutdown.signal).catch((e) =>
      ctx.log.error("demo seeding stopped", { error: e })
    );
  },
});
