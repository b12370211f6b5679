/**
 * Re-forwards webhooks from the relay's outbox to JetStream, e.g. after the WEBHOOKS stream was
 * lost. Ingress dedupes on the event id, so replays yield no extra effects.
 *
 *   deno task relay:replay --since 2026-01-01T00:00:00Z [--provider snaptrade|plaid]
 * @module
 */
import { parseArgs } from "node:util";
import { jetstream } from "@nats-io/jetstream";
import { connectNats, createLogger, loadConfig } from "@meridian/runtime";
import { publishRows } from "./forwarder.ts";
import { Outbox } from "./outbox.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { since: { type: "string" }, provider: { type: "string" } },
});
const since = values.since ? new Date(values.since) : null;
if (!since || Number.isNaN(since.getTime())) {
  console.error("usage: relay:replay --since <ISO time> [--provider snaptrade|plaid]");
  Deno.exit(2);
}
if (values.provider && !["snaptrade", "plaid"].includes(values.provider)) {
  console.error("--provider must be snaptrade or plaid");
  Deno.exit(2);
}
const config = loadConfig();
const log = createLogger("relay-replay", "warn");
const outbox = new Outbox(config.RELAY_OUTBOX_PATH);
const nats = await connectNats({
  url: config.NATS_URL,
  name: "relay-replay",
  log,
  user: config.RELAY_NATS_USER,
  pass: config.RELAY_NATS_PASS,
});
const js = jetstream(nats.nc);
let after = 0;
let n = 0;
for (;;) {
  const rows = outbox.since(since.toISOString(), values.provider, after, 500);
  if (rows.length === 0) break;
  const { acked, error } = await publishRows(js, rows);
  n += acked.length;
  if (error) {
    console.error(`stopped after ${n} webhook(s): ${(error as Error).message ?? error}`);
    Deno.exit(1);
  }
  after = rows[rows.length - 1].seq;
}
console.log(`re-forwarded ${n} webhook(s) received since ${since.toISOString()}`);
await nats.nc.drain();
outbox.close();
