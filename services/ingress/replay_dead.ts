/**
 * Replays dead-lettered webhooks: republishes each WEBHOOKS_DLQ message to `webhooks.<provider>`
 * (ingress dedupes on the event id, so a replay yields at most one effect), then deletes it
 * from the dead-letter stream unless `--keep` is given.
 *
 *   deno run -A services/ingress/replay_dead.ts [--provider snaptrade|plaid] [--keep]
 * @module
 */
import { parseArgs } from "node:util";
import type { JetStreamClient } from "@nats-io/jetstream";
import {
  safeDecode,
  streams,
  subjects,
  WEBHOOK_PROVIDERS,
  WebhookEnvelope,
  type WebhookProvider,
  WebhookProviderName,
} from "@meridian/proto";
import { connectNats, createLogger, loadConfig } from "@meridian/runtime";

/** Replays the dead letters; returns how many were republished. */
export async function replayDead(
  js: JetStreamClient,
  opts: { provider?: WebhookProvider; keep?: boolean } = {},
): Promise<number> {
  const jsm = await js.jetstreamManager();
  // Filtered client-side: subject filters on ordered consumers need a newer server.
  const consumer = await js.consumers.get(streams.webhooksDead.name);
  const info = await consumer.info();
  let left = info.num_pending;
  let n = 0;
  while (left > 0) {
    const m = await consumer.next({ expires: 2_000 });
    if (!m) break;
    left = m.info.pending;
    if (opts.provider && m.subject !== subjects.webhookDead(opts.provider)) continue;
    const env = safeDecode(WebhookEnvelope, m.data);
    if (!env.success) {
      console.error(`skipping dead letter #${m.seq}: ${env.error}`);
      continue;
    }
    await js.publish(subjects.webhook(env.data.provider), m.data, {
      msgID: `replay-${env.data.event_id}-${Date.now()}`,
    });
    if (!opts.keep) await jsm.streams.deleteMessage(streams.webhooksDead.name, m.seq);
    n++;
  }
  return n;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { provider: { type: "string" }, keep: { type: "boolean", default: false } },
  });
  const provider = WebhookProviderName.optional().safeParse(values.provider);
  if (!provider.success) {
    console.error(`--provider must be ${WEBHOOK_PROVIDERS.join(" or ")}`);
    Deno.exit(2);
  }
  const config = loadConfig();
  const log = createLogger("replay-dead", "warn");
  const nats = await connectNats({ url: config.NATS_URL, name: "replay-dead", log });
  const n = await replayDead(nats.js, {
    provider: provider.data,
    keep: values.keep,
  });
  console.log(`replayed ${n} dead-lettered webhook(s)`);
  await nats.nc.drain();
}
