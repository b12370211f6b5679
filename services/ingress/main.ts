/** The ingress service: WEBHOOKS → webhook_events, pending flags, connection status. */
import { runService } from "@meridian/runtime";
import { runConsumer } from "./consumer.ts";
import { startReconciler } from "./reconcile.ts";

await runService({
  name: "ingress",
  database: true,
  start: ({ sql, nats, config, log, shutdown }) => {
    const deps = {
      sql,
      js: nats.js,
      nc: nats.nc,
      log,
      cooldownS: config.REFRESH_COOLDOWN_S,
      ttlH: config.HOLDINGS_TTL_H,
    };
    const done = runConsumer(deps, shutdown.signal);
    shutdown.add("consumer", () => done);
    startReconciler(deps, {
      ttlH: config.HOLDINGS_TTL_H,
      intervalS: config.RECONCILE_INTERVAL_S,
    }, shutdown.signal);
  },
});
