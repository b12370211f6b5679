/**
 * The durable `ingress` consumer of WEBHOOKS: process, ack; after `maxDeliver` failed
 * deliveries the message goes to WEBHOOKS_DLQ.
 * @module
 */
import type { JsMsg } from "@nats-io/jetstream";
import {
  consumers,
  lastToken,
  safeDecode,
  subjects,
  WebhookEnvelope,
  type WebhookProvider,
  WebhookProviderName,
} from "@meridian/proto";
import { consumeOptions, counter } from "@meridian/runtime";
import { type EffectDeps, processEnvelope } from "./effects.ts";

const events = counter("meridian_ingress_webhooks_total", "Webhooks processed, by outcome", [
  "provider",
  "outcome",
]);
const failures = counter("meridian_ingress_failures_total", "Failed webhook processing attempts", [
  "provider",
]);
const dead = counter("meridian_ingress_dead_letters_total", "Webhooks sent to WEBHOOKS_DLQ", [
  "provider",
]);

/**
 * The provider a delivery's subject names. WEBHOOKS holds only `webhooks.<provider>` subjects;
 * anything else is dead-lettered as SnapTrade's rather than lost.
 */
function providerOf(subject: string): WebhookProvider {
  return WebhookProviderName.safeParse(lastToken(subject)).data ?? "snaptrade";
}

/** Handles one delivery; never throws. */
export async function handleMessage(deps: EffectDeps, m: JsMsg): Promise<void> {
  const provider = providerOf(m.subject);
  const env = safeDecode(WebhookEnvelope, m.data);
  const toDeadLetter = async (why: string) => {
    await deps.js.publish(subjects.webhookDead(provider), m.data, {
      msgID: `dead-${m.info.streamSequence}`,
    });
    dead.labels(provider).inc();
    deps.log.error("webhook sent to the dead-letter stream", {
      provider,
      stream_seq: m.info.streamSequence,
      deliveries: m.info.deliveryCount,
      why,
    });
    m.term(why);
  };
  if (!env.success) {
    // Not a message we can ever process: dead-letter it at once.
    try {
      await toDeadLetter(`invalid envelope: ${env.error}`.slice(0, 200));
    } catch {
      m.nak(1_000);
    }
    return;
  }
  try {
    const r = await processEnvelope(deps, env.data);
    events.labels(provider, r.duplicate ? "duplicate" : r.outcome ?? "none").inc();
    m.ack();
  } catch (e) {
    failures.labels(provider).inc();
    deps.log.warn("webhook processing failed", {
      provider,
      event_id: env.data.event_id,
      deliveries: m.info.deliveryCount,
      error: e,
    });
    if (m.info.deliveryCount >= consumers.ingress.maxDeliver) {
      try {
        await toDeadLetter(String((e as Error)?.message ?? e).slice(0, 200));
      } catch {
        m.nak(5_000);
      }
    } else {
      m.nak(Math.min(250 * 2 ** m.info.deliveryCount, 10_000));
    }
  }
}

/** Consumes WEBHOOKS until `signal` aborts; re-attaches after errors. */
export async function runConsumer(deps: EffectDeps, signal: AbortSignal): Promise<void> {
  const js = deps.js;
  while (!signal.aborted) {
    try {
      const c = await js.consumers.get(consumers.ingress.stream, consumers.ingress.durable);
      const msgs = await c.consume(consumeOptions(64));
      const stop = () => msgs.stop();
      signal.addEventListener("abort", stop, { once: true });
      for await (const m of msgs) await handleMessage(deps, m);
      signal.removeEventListener("abort", stop);
    } catch (e) {
      if (signal.aborted) return;
      deps.log.warn("ingress consumer error; re-attaching", { error: e });
      await new Promise((r) => setTimeout(r, 1_000));
    }
  }
}
