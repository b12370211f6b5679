/**
 * The relay: the only public endpoint. It holds no database credentials and answers webhooks
 * from its local outbox even while NATS is down, so NATS comes up in the background and the
 * forwarder starts once it is connected. Its public port is an {@link Edge} in front of an
 * HTTP server on loopback, because Deno.serve alone never times out a slow request head.
 * @module
 */
import { Hono } from "hono";
import { compileTrustedProxies, natsServers, opsRoutes, runService } from "@meridian/runtime";
import { relayClient, relayRoutes } from "./app.ts";
import { Edge, isLoopback } from "./edge.ts";
import { Forwarder } from "./forwarder.ts";
import { Outbox } from "./outbox.ts";
import { plaidBaseUrl, plaidKeyFetcher } from "./plaid_keys.ts";
import { PlaidVerifier, SnaptradeVerifier } from "./verify.ts";

const RETENTION_DAYS = 30;

await runService({
  name: "relay",
  nats: "background",
  // Its user may only publish webhooks.> (deploy/nats/nats.conf), given in its own variables or
  // in NATS_URL as the compose files do: either way it is the relay's, which never provisions.
  natsAuth: (config) => {
    const url = natsServers(config.NATS_URL);
    return {
      user: config.RELAY_NATS_USER ?? url.user,
      pass: config.RELAY_NATS_USER ? config.RELAY_NATS_PASS : url.pass,
    };
  },
  start: ({ config, log, readiness, shutdown }) => {
    const outbox = new Outbox(config.RELAY_OUTBOX_PATH);
    shutdown.add("outbox", () => outbox.close());
    readiness.add("outbox", () => outbox.backlog() >= 0);
    const prune = setInterval(() => {
      try {
        const n = outbox.prune(new Date(Date.now() - RETENTION_DAYS * 86_400_000).toISOString());
        if (n) log.info("pruned forwarded outbox rows", { rows: n });
      } catch (e) {
        // A throw in a timer would end the process; the next hour tries again.
        log.warn("pruning the outbox failed", { error: e });
      }
    }, 3_600_000);
    shutdown.add("prune", () => clearInterval(prune));

    const trust = compileTrustedProxies(config.TRUSTED_PROXIES);
    const app = new Hono();
    app.route("/", opsRoutes(readiness, "relay", { metrics: false }));
    app.route(
      "/",
      relayRoutes({
        outbox,
        snaptrade: new SnaptradeVerifier(config.SNAPTRADE_CONSUMER_KEY),
        plaid: new PlaidVerifier(
          plaidKeyFetcher(plaidBaseUrl(config), config.PLAID_CLIENT_ID, config.PLAID_SECRET),
        ),
        // The sender as the edge saw it; behind a TRUSTED_PROXIES proxy, the one it names.
        clientAddress: (c) => relayClient(edge.peerOf(c.env), c.req.raw.headers, trust),
      }),
    );
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, app.fetch);
    // A trusted proxy carries many senders' connections: none of its own is limited.
    const edge = new Edge({ hostname: config.LISTEN_HOST, port: config.RELAY_PORT }, server.addr, {
      unlimited: (address) => isLoopback(address) || trust(address, 0),
    });
    let stopped: Promise<void> | undefined;
    /** Stops HTTP intake (idempotent): before the forwarder, so no request outlives it. */
    const stopIntake = () => stopped ??= edge.close().then(() => server.shutdown());
    shutdown.add("http", () => stopIntake());
    log.info("outbox open", {
      outbox: config.RELAY_OUTBOX_PATH,
      backlog: outbox.backlog(),
      port: edge.addr.port,
    });
    return { outbox, stopIntake };
  },
  onNats: ({ log }, nats, { outbox, stopIntake }) => {
    const forwarder = new Forwarder(outbox, nats.js, log);
    forwarder.start();
    log.info("forwarding", { backlog: outbox.backlog() });
    return async () => {
      await stopIntake();
      await forwarder.stop();
    };
  },
});
