/**
 * The relay: the only public endpoint. It holds no database credentials and answers webhooks
 * from its local outbox even while NATS is down, so NATS comes up in the background and the
 * forwarder starts once it is connected.
 * @module
 */
import { jetstream } from "@nats-io/jetstream";
import { runService } from "@meridian/runtime";
import { relayRoutes } from "./app.ts";
import { Forwarder } from "./forwarder.ts";
import { Outbox } from "./outbox.ts";
import { plaidBaseUrl, plaidKeyFetcher } from "./plaid_keys.ts";
import { PlaidVerifier, SnaptradeVerifier } from "./verify.ts";

const RETENTION_DAYS = 30;

let outbox: Outbox;

await runService({
  name: "relay",
  port: (config) => config.RELAY_PORT,
  nats: "background",
  natsAuth: (config) => ({ user: config.RELAY_NATS_USER, pass: config.RELAY_NATS_PASS }),
  start: ({ config, log, readiness, shutdown }) => {
    outbox = new Outbox(config.RELAY_OUTBOX_PATH);
    shutdown.add("outbox", () => outbox.close());
    readiness.add("outbox", () => outbox.backlog() >= 0);
    const prune = setInterval(() => {
      const n = outbox.prune(new Date(Date.now() - RETENTION_DAYS * 86_400_000).toISOString());
      if (n) log.info("pruned forwarded outbox rows", { rows: n });
    }, 3_600_000);
    shutdown.add("prune", () => clearInterval(prune));
    log.info("outbox open", { outbox: config.RELAY_OUTBOX_PATH, backlog: outbox.backlog() });
  },
  http: ({ config }) =>
    relayRoutes({
      outbox,
      snaptrade: new SnaptradeVerifier(config.SNAPTRADE_CONSUMER_KEY),
      plaid: new PlaidVerifier(
        plaidKeyFetcher(plaidBaseUrl(config), config.PLAID_CLIENT_ID, config.PLAID_SECRET),
      ),
    }),
  onNats: ({ log }, nats) => {
    const forwarder = new Forwarder(outbox, jetstream(nats.nc), log);
    forwarder.start();
    log.info("forwarding", { backlog: outbox.backlog() });
    return () => forwarder.stop();
  },
});
