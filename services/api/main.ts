/** The api: HTTP API and the dashboard's server. */
import { keyringFromConfig, runService } from "@meridian/runtime";
import { createApp } from "./app.ts";
import { createSyncDeps } from "@meridian/sync/connections";
import { connectionsPortFrom } from "./connections.ts";

await runService({
  name: "api",
  database: true,
  port: (c) => c.API_PORT,
  // 20,000 dashboards' streams on one instance (GET /api/stream).
  eventStreams: true,
  // The keyring is loaded asynchronously, before the app is built.
  start: async ({ sql, nats, config, log }) => {
    const sync = createSyncDeps({
      sql,
      nc: nats.nc,
      config,
      log,
      keyring: await keyringFromConfig(config),
    });
    return { sync, connections: connectionsPortFrom(sync, config.RELAY_PUBLIC_URL) };
  },
  http: ({ sql, nats, config, log, shutdown }, { sync, connections }) => {
    const app = createApp({
      sql,
      js: nats.js,
      nc: nats.nc,
      log,
      config,
      connections,
      trading: { sync },
      natsConnected: nats.connected,
    });
    shutdown.add("streams", () => app.hub.close());
    return app;
  },
});
