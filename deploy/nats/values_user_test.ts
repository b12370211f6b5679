/**
 * The `values` user of nats.conf, against a real nats-server: it reads portfolio values (core
 * `portfolio.value.<user>` and gets from the `portfolio_values` KV bucket) and nothing else.
 * @module
 */
import assert from "node:assert/strict";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { buckets, encodeKvToken, streams, subjects } from "@meridian/proto";
import { provisionAll } from "@meridian/runtime";
import { eventually, startNats } from "@meridian/runtime/testing";

const conf = await Deno.readTextFile(new URL("./nats.conf", import.meta.url));
const USER = "3f9a1c2e-8b4d-4e6f-9a1b-2c3d4e5f6a7b";
const KEY = encodeKvToken(USER);
/** The inbox prefix the values user must use (nats.conf lets it subscribe to nothing else). */
const INBOX = "_INBOX_values";

/** Every error the connection reports, as text. */
function errorsOf(nc: NatsConnection): string[] {
  const errors: string[] = [];
  (async () => {
    for await (const s of nc.status()) if (s.type === "error") errors.push(String(s.error));
  })().catch(() => {}); // the status stream ends with an error when the connection closes
  return errors;
}

Deno.test("nats.conf: the values user reads portfolio values and nothing else", async () => {
  Deno.env.set("NATS_RELAY_PASSWORD", "relay-test-pass");
  Deno.env.set("NATS_SERVICES_PASSWORD", "services-test-pass");
  Deno.env.set("NATS_VALUES_PASSWORD", "values-test-pass");
  const nats = await startNats({ config: conf });
  const servers = nats.url;
  const services = await connect({ servers, user: "services", pass: "services-test-pass" });
  const values = await connect({
    servers,
    user: "values",
    pass: "values-test-pass",
    inboxPrefix: INBOX,
  });
  const errors = errorsOf(values);
  try {
    await provisionAll({ nc: services });
    const serviceKvm = new Kvm(services);
    const bucket = await serviceKvm.open(buckets.portfolioValues.name);
    await bucket.put(KEY, JSON.stringify({ user_id: USER, seq: 1, total: "100.00" }));
    await (await serviceKvm.open(buckets.leases.name)).put("symbols.leader", "holder");
    await (await serviceKvm.open(buckets.lastPrices.name)).put("AAPL", "{}");
    // Everything that reaches the server from the values user (services see all subjects).
    const heard: string[] = [];
    const all = services.subscribe(">", { callback: (_e, m) => void heard.push(m.subject) });
    await services.flush();

    // Allowed: core portfolio.value.<user>, published by the services user.
    const got: string[] = [];
    values.subscribe(subjects.portfolioValueAll, {
      callback: (_e, m) => void got.push(m.string()),
    });
    await values.flush();
    services.publish(subjects.portfolioValue(USER), "v1");
    await eventually(() => got.includes("v1"), { timeoutMs: 5000, what: "portfolio.value" });

    // Allowed: get a key, by message get and by direct get (the key in the subject).
    const js = jetstream(values, { timeout: 2000 });
    for (const opts of [{}, { allow_direct: true }]) {
      const kv = await new Kvm(js).open(buckets.portfolioValues.name, opts);
      assert.equal((await kv.get(KEY))?.json<{ seq: number }>().seq, 1, JSON.stringify(opts));
      assert.equal(await kv.get("no-such-user"), null);
    }
    // Allowed: the bucket's status and its keys (stream info with a subjects filter).
    const kv = await new Kvm(js).open(buckets.portfolioValues.name);
    assert.equal((await kv.status()).values, 1);
    const jsm = await jetstreamManager(values, { timeout: 2000, checkAPI: false });
    const info = await jsm.streams.info(`KV_${buckets.portfolioValues.name}`, {
      subjects_filter: `$KV.${buckets.portfolioValues.name}.>`,
    });
    assert.deepEqual(Object.keys(info.state.subjects ?? {}), [
      `$KV.${buckets.portfolioValues.name}.${KEY}`,
    ]);

    // Refused: writing, deleting and purging in the bucket, and watching it (a consumer).
    await assert.rejects(kv.put(KEY, "forged"));
    await assert.rejects(kv.create("other", "forged"));
    await assert.rejects(kv.delete(KEY));
    await assert.rejects(kv.purge(KEY));
    await assert.rejects(kv.watch());
    await assert.rejects(
      kv.keys().then(async (it) => {
        for await (const _ of it) { /* drain */ }
      }),
    );
    await assert.rejects(jsm.streams.purge(`KV_${buckets.portfolioValues.name}`));
    await assert.rejects(jsm.streams.deleteMessage(`KV_${buckets.portfolioValues.name}`, 1));
    // A push consumer would let the server deliver the stream to any subject (nats.conf).
    await assert.rejects(
      jsm.consumers.add(`KV_${buckets.portfolioValues.name}`, {
        name: "forward",
        deliver_subject: subjects.portfolioValue("other"),
      }),
    );
    // Refused: every other bucket and stream, stream creation, the account's JetStream info.
    for (const name of [buckets.leases.name, buckets.lastPrices.name]) {
      for (const opts of [{}, { allow_direct: true }]) {
        const other = await new Kvm(js).open(name, opts);
        await assert.rejects(other.get(name === buckets.leases.name ? "symbols.leader" : "AAPL"));
      }
    }
    for (const stream of [streams.webhooks.name, streams.holdings.name, "KV_leases"]) {
      await assert.rejects(jsm.streams.info(stream), stream);
    }
    await assert.rejects(jsm.streams.add({ name: "EVIL", subjects: ["evil.>"] }));
    await assert.rejects(jetstreamManager(values, { timeout: 2000 })); // $JS.API.INFO

    // Refused: publishing anywhere, the portfolio subjects included.
    for (const subject of [subjects.portfolioValue(USER), "portfolio.value.x", "prices.AAPL"]) {
      values.publish(subject, "forged");
    }
    await assert.rejects(jetstream(values, { timeout: 1000 }).publish("holdings.changed.x", "{}"));

    // Refused: subscribing to anything else, other clients' inboxes included.
    // The server answers a refused SUB with -ERR before the PONG of the flush that follows it.
    const refused = ["prices.*", "holdings.changed.*", ">", "_INBOX.>", "portfolio.>"];
    const subs = refused.map((subject) => values.subscribe(subject));
    await values.flush();
    for (const [i, sub] of subs.entries()) {
      assert.ok(sub.isClosed(), `subscribing to ${refused[i]} is refused`);
      assert.match(String(await sub.closed), /permission/i, refused[i]);
    }

    await values.flush();
    await services.flush();
    await eventually(
      () => errors.filter((e) => /Publish to "portfolio\.value\./.test(e)).length === 2,
      {
        timeoutMs: 5000,
        what: "both refused portfolio.value publishes",
      },
    );
    all.unsubscribe();
    // JetStream answers on the values inbox and reports API calls as advisories ($JS.EVENT).
    const sent = heard.filter((s) => !s.startsWith(INBOX) && !s.startsWith("$JS.EVENT."));
    const api = sent.filter((s) => s.startsWith("$JS.API."));
    for (const call of api) {
      assert.match(call, /\.KV_portfolio_values(\.|$)/, `the values user reached ${call}`);
    }
    assert.ok(api.length > 0, "the allowed gets are seen");
    const rest = sent.filter((s) => !s.startsWith("$JS.API."));
    assert.deepEqual(rest, [subjects.portfolioValue(USER)], "only the services' own publish");
    // The bucket still holds the services' value, and no consumer or stream was created.
    assert.equal((await bucket.get(KEY))?.json<{ seq: number }>().seq, 1);
    const servicesJsm = await jetstreamManager(services);
    const consumers = await servicesJsm.consumers.list(`KV_${buckets.portfolioValues.name}`)
      .next();
    assert.deepEqual(consumers, []);
    await assert.rejects(servicesJsm.streams.info("EVIL"));
  } finally {
    await values.close().catch(() => {});
    await services.close();
    await nats.close();
  }
});
