/** The sandbox: stand-in for SnapTrade, Plaid and Alpaca. */
import { runService } from "@meridian/runtime";
import { createSandboxApp } from "./mod.ts";

await runService({
  name: "sandbox",
  // The providers' stand-in talks HTTP and WebSocket only.
  nats: "none",
  port: (c) => c.SANDBOX_PORT,
  start: async (ctx) => {
    const c = ctx.config;
    // Where the providers' state survives restarts: demo mode keeps it in .data/sandbox by
    // default (the demo user's connections live in PostgreSQL, which survives restarts too).
    const statePath = c.SANDBOX_STATE_PATH ??
      (c.SANDBOX_MODE === "demo" ? ".data/sandbox/state.json" : undefined);
    const sandbox = await createSandboxApp({
      baseUrl: c.SANDBOX_URL,
      // What browsers reach (portal, Hosted Link); in docker compose not the service name.
      publicUrl: c.SANDBOX_PUBLIC_URL,
      mode: c.SANDBOX_MODE,
      statePath,
      snaptrade: {
        clientId: c.SNAPTRADE_CLIENT_ID,
        consumerKey: c.SNAPTRADE_CONSUMER_KEY,
        webhookUrl: c.SANDBOX_SNAPTRADE_WEBHOOK_URL ??
          `${c.RELAY_PUBLIC_URL.replace(/\/+$/, "")}/webhooks/snaptrade`,
      },
      plaid: { clientId: c.PLAID_CLIENT_ID, secret: c.PLAID_SECRET },
      log: (level, msg, fields) => ctx.log[level](msg, fields),
    });
    ctx.shutdown.add("sandbox", () => sandbox.close());
    ctx.log.info("sandbox ready", {
      url: c.SANDBOX_URL,
      publicUrl: c.SANDBOX_PUBLIC_URL ?? c.SANDBOX_URL,
      mode: c.SANDBOX_MODE,
      statePath: statePath ?? null,
    });
    return sandbox;
  },
  http: (_ctx, sandbox) => sandbox.app,
});
