/**
 * Re-forwards webhooks from the relay's outbox to JetStream: every row received since a time
 * (e.g. after the WEBHOOKS stream was lost), or the rows the forwarder set aside as poisoned
 * (e.g. once NATS' max_payload was raised). Ingress dedupes on the event id, so replays yield
 * no extra effects. Rows that publish are marked forwarded; rows that still cannot be
 * published stay poisoned, with the new reason.
 *
 *   deno task relay:replay --since 2026-01-01T00:00:00Z [--provider snaptrade|plaid]
 *   deno task relay:replay --poisoned [--provider snaptrade|plaid]
 * @module
 */
import { parseArgs } from "node:util";
import { connectNats, createLogger, loadConfig } from "@meridian/runtime";
import { publishRows } from "./forwarder.ts";
import { Outbox, type OutboxRow } from "./outbox.ts";

const USAGE = "usage: relay:replay (--since <ISO time> | --poisoned) [--provider snaptrade|plaid]";
const { values } = parseArgs({
  args: Deno.args,
  options: {
    since: { type: "string" },
    poisoned: { type: "boolean", default: false },
    provider: { type: "string" },
  },
});
const since = values.since ? new Date(values.since) : null;
if (values.poisoned === (since !== null) || (since && Number.isNaN(since.getTime()))) {
  console.error(USAGE);
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
const js = nats.js;
const next = (after: number): OutboxRow[] =>
  since
    ? outbox.since(since.toISOString(), values.provider, after, 500)
    : outbox.poisoned(values.provider, after, 500);
let after = 0;
let sent = 0;
let failed = 0;
for (;;) {
  const rows = next(after);
  if (rows.length === 0) break;
  const { acked, poisoned, error } = await publishRows(js, rows);
  const at = new Date().toISOString();
  outbox.markForwarded(acked.map((r) => r.seq), at);
  outbox.markPoisoned(poisoned.map((p) => ({ seq: p.row.seq, failure: p.failure })), at);
  sent += acked.length;
  failed += poisoned.length;
  for (const p of poisoned) {
    console.error(`#${p.row.seq} ${p.row.provider} still cannot be forwarded: ${p.failure}`);
  }
  if (error) {
    console.error(`stopped after ${sent} webhook(s): ${(error as Error).message ?? error}`);
    Deno.exit(1);
  }
  after = rows[rows.length - 1].seq;
}
const what = since ? `received since ${since.toISOString()}` : "set aside as poisoned";
console.log(
  `re-forwarded ${sent} webhook(s) ${what}` + (failed ? `; ${failed} still poisoned` : ""),
);
await nats.nc.drain();
outbox.close();
if (failed) Deno.exit(1);
