/** The ingress service: WEBHOOKS → webhook_events, pending flags, connection status. */
import { jetstream } from "@nats-io/jetstream";
import { runService } from "@meridian/runtime";
import { runConsumer } from "./consumer.ts";
import { startReconciler } from "./reconcile.ts";

await runService({
  name: "ingress",
  database: true,
  start: (ctx) => {
    const deps = {
      sql: ctx.sql!,
      js: jetstream(ctx.nats.nc),
      nc: ctx.nats.nc,
      log: ctx.log,
      cooldownS: ctx.config.REFRESH_COOLDOWN_S,
      ttlH: ctx.config.HOLDINGS_TTL_H,
    };
    const done = runConsumer(deps, ctx.shutdown.signal);
    ctx.shutdown.add("consumer", () => done);
    startReconciler(deps, {
      ttlH: ctx.config.HOLDINGS_TTL_H,
      intervalS: ctx.config.RECONCILE_INTERVAL_S,
    }, ctx.shutdown.signal);
  },
});
