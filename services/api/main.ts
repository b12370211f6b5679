/** The api: HTTP API and the dashboard's server. */
import { runService } from "@meridian/runtime";
import { createApp } from "./app.ts";
import { connectionsPort } from "./connections.ts";

await runService({
  name: "api",
  database: true,
  port: (c) => c.API_PORT,
  // 20,000 dashboards' streams on one instance (GET /api/stream).
  eventStreams: true,
  // The keyring is loaded asynchronously, before the app is built.
  start: async ({ sql, nats, config, log }) => ({
    connections: await connectionsPort({ sql, nc: nats.nc, config, log }),
  }),
  http: ({ sql, nats, config, log, shutdown }, { connections }) => {
    const app = createApp({
      sql,
      js: nats.js,
      nc: nats.nc,
      log,
      config,
      connections,
      natsConnected: nats.connected,
    });
    shutdown.add("streams", () => app.hub.close());
    return app;
  },
});
