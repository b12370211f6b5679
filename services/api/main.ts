/** The api: HTTP API and the dashboard's server. */
import { jetstream } from "@nats-io/jetstream";
import { runService } from "@meridian/runtime";
import { createApp } from "./app.ts";
import { connectionsPort } from "./connections.ts";
import type { ConnectionsPort } from "./ports.ts";

let connections: ConnectionsPort;

await runService({
  name: "api",
  database: true,
  port: (c) => c.API_PORT,
  // The keyring is loaded asynchronously, before the app is built.
  start: async (ctx) => {
    connections = await connectionsPort({
      sql: ctx.sql!,
      nc: ctx.nats.nc,
      config: ctx.config,
      log: ctx.log,
    });
  },
  http: (ctx) => {
    const app = createApp({
      sql: ctx.sql!,
      js: jetstream(ctx.nats.nc),
      nc: ctx.nats.nc,
      log: ctx.log,
      config: ctx.config,
      connections,
      natsConnected: ctx.nats.connected,
    });
    ctx.shutdown.add("streams", () => app.hub.close());
    return app;
  },
});
