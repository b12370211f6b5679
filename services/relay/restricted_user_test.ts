/**
 * The relay as the compose files run it: its restricted NATS user (deploy/nats/nats.conf, may
 * only publish webhooks.>) given in NATS_URL. It must not try to provision JetStream, which
 * that user may not, and must forward what it accepts.
 * @module
 */
import assert from "node:assert/strict";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { provisionAll } from "@meridian/runtime";
import {
  eventually,
  freePort,
  startNats,
  startServiceProcess,
  waitForPort,
} from "@meridian/runtime/testing";
import { snaptradeBody, snaptradeSignature } from "./test_signing.ts";

const KEY = "restricted-user-consumer-key";

Deno.test({
  name: "relay: with its restricted user in NATS_URL it forwards, never provisions",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    Deno.env.set("NATS_RELAY_PASSWORD", "relay-test-pass");
    Deno.env.set("NATS_SERVICES_PASSWORD", "services-test-pass");
    Deno.env.set("NATS_VALUES_PASSWORD", "values-test-pass");
    const conf = await Deno.readTextFile(new URL("../../deploy/nats/nats.conf", import.meta.url));
    const nats = await startNats({ config: conf });
    const dir = await Deno.makeTempDir({ prefix: "relay-restricted-" });
    const services = await connect({
      servers: nats.url.replace("nats://", ""),
      user: "services",
      pass: "services-test-pass",
    });
    const port = freePort();
    const relay = startServiceProcess(new URL("./main.ts", import.meta.url), {
      NATS_URL: nats.url.replace("nats://", "nats://relay:relay-test-pass@"),
      RELAY_PORT: String(port),
      RELAY_OUTBOX_PATH: `${dir}/outbox.sqlite`,
      SNAPTRADE_CONSUMER_KEY: KEY,
      LOG_LEVEL: "info",
    });
    try {
      await provisionAll({ nc: services });
      await waitForPort(port, 30_000);
      const body = snaptradeBody();
      const res = await fetch(`http://127.0.0.1:${port}/webhooks/snaptrade`, {
        method: "POST",
        body,
        headers: {
          "content-type": "application/json",
          Signature: await snaptradeSignature(body, KEY),
        },
      });
      await res.body?.cancel();
      assert.equal(res.status, 200);
      const jsm = await jetstreamManager(services);
      await eventually(async () => (await jsm.streams.info("WEBHOOKS")).state.messages === 1, {
        timeoutMs: 15_000,
        what: "the webhook forwarded to WEBHOOKS",
      }).catch((e) => {
        throw new Error(`${e.message}\n${relay.output().slice(-2_000)}`);
      });
      assert.doesNotMatch(relay.output(), /provisioning JetStream failed/);
    } finally {
      await relay.kill();
      await services.close();
      await nats.close();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
