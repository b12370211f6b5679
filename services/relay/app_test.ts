/**
 * The relay routes against hostile senders: ids NATS and PostgreSQL cannot carry, bodies that
 * grow past NATS' limit once encoded, bodies that trickle, and one client's flood of requests.
 */
import assert from "node:assert/strict";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { webhookEventId } from "@meridian/proto";
import { compileTrustedProxies, createLogger, provisionAll } from "@meridian/runtime";
import { eventually, startNats } from "@meridian/runtime/testing";
import { MAX_BODY_BYTES, relayClient, type RelayDeps, relayRoutes } from "./app.ts";
import { Forwarder } from "./forwarder.ts";
import { Outbox } from "./outbox.ts";
import { snaptradeBody, snaptradeSignature } from "./test_signing.ts";
import { PlaidVerifier, SnaptradeVerifier } from "./verify.ts";

const KEY = "app-test-consumer-key";
const log = createLogger("relay-app-test", "error");
const enc = new TextEncoder();

async function harness(opts: Partial<RelayDeps> = {}) {
  const dir = await Deno.makeTempDir({ prefix: "relay-app-" });
  const outbox = new Outbox(`${dir}/outbox.sqlite`);
  const app = relayRoutes({
    outbox,
    snaptrade: new SnaptradeVerifier(KEY),
    plaid: new PlaidVerifier(() => Promise.resolve(null)),
    ...opts,
  });
  return {
    app,
    outbox,
    post: async (body: BodyInit, headers: Record<string, string> = {}) =>
      await app.request("/webhooks/snaptrade", {
        method: "POST",
        body,
        headers: { "content-type": "application/json", ...headers },
      }),
    close: async () => {
      outbox.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

const signed = async (body: string) => ({ Signature: await snaptradeSignature(body, KEY) });

Deno.test("relay: ids with control characters get safe keys; ids that differ after a NUL are both kept and forwarded", async () => {
  const h = await harness();
  const nats = await startNats();
  const nc = await connect({ servers: nats.url });
  try {
    await provisionAll({ nc });
    const ids = ["a\u0000x", "a\u0000y", "\u0000", "\ud800", "line\r\nX-Evil: 1", "é".repeat(300)];
    for (const webhookId of ids) {
      const body = snaptradeBody({ webhookId });
      const res = await h.post(body, await signed(body));
      assert.equal(res.status, 200, JSON.stringify(webhookId));
      assert.deepEqual(await res.json(), { status: "accepted" });
    }
    // A redelivery (fresh timestamp and signature, same id) is a duplicate.
    const again = snaptradeBody({ webhookId: "a\u0000y" });
    assert.deepEqual(await (await h.post(again, await signed(again))).json(), {
      status: "duplicate",
    });
    const stored = h.outbox.unforwarded(100).map((r) => r.event_id);
    assert.deepEqual(stored, ids.map(webhookEventId));

    const forwarder = new Forwarder(h.outbox, jetstream(nc), log);
    forwarder.start();
    await eventually(() => h.outbox.backlog() === 0, { what: "the backlog to drain" });
    await forwarder.stop();
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info("WEBHOOKS");
    assert.equal(info.state.messages, ids.length, "none lost as a JetStream duplicate");
    const msgIds = [];
    for (let seq = 1; seq <= ids.length; seq++) {
      msgIds.push((await jsm.streams.getMessage("WEBHOOKS", { seq }))!.header.get("Nats-Msg-Id"));
    }
    assert.deepEqual(msgIds, ids.map(webhookEventId));
  } finally {
    await nc.close();
    await nats.close();
    await h.close();
  }
});

Deno.test("relay: a webhook whose envelope would exceed NATS' max_payload is refused before the 200", async () => {
  const h = await harness();
  try {
    // Under the body limit as 6-byte \u0000 escapes, but each becomes 7 bytes once the body is
    // itself a JSON string in the envelope: past 1 MiB.
    const body = snaptradeBody({ details: "\u0000".repeat(170_000) });
    assert.ok(enc.encode(body).length <= MAX_BODY_BYTES);
    const res = await h.post(body, await signed(body));
    assert.equal(res.status, 413);
    assert.equal(h.outbox.status().total, 0, "nothing stored");
  } finally {
    await h.close();
  }
});

/**
 * Sends `head`, then the body one byte per `everyMs` until the server answers; returns the
 * answer's head. (Deno.serve keeps reading an unread body after answering: the relay's edge
 * ends such connections, see edge_test.ts.)
 */
async function trickle(port: number, head: string, body: string, everyMs: number) {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  let answer = "";
  const reading = (async () => {
    const buf = new Uint8Array(4096);
    while (!answer.includes("\r\n\r\n")) {
      const n = await conn.read(buf).catch(() => null);
      if (n === null) return;
      answer += new TextDecoder().decode(buf.subarray(0, n));
    }
  })();
  await conn.write(enc.encode(head));
  for (let i = 0; i < body.length && !answer.includes("\r\n\r\n"); i++) {
    await conn.write(enc.encode(body[i])).catch(() => {});
    await new Promise((r) => setTimeout(r, everyMs));
  }
  await reading;
  conn.close();
  return answer;
}

Deno.test("relay: a body that trickles in past its deadline is answered 408", async () => {
  const h = await harness({ bodyDeadlineMs: 500 });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, h.app.fetch);
  try {
    const body = snaptradeBody();
    const sig = (await signed(body)).Signature;
    const started = Date.now();
    const withLength = await trickle(
      server.addr.port,
      "POST /webhooks/snaptrade HTTP/1.1\r\nHost: relay\r\nContent-Type: application/json\r\n" +
        `Signature: ${sig}\r\nContent-Length: ${body.length}\r\n\r\n`,
      body,
      100,
    );
    assert.match(withLength, /^HTTP\/1\.1 408 /);
    assert.match(withLength, /\r\nconnection: close\r\n/i);
    const chunked = await trickle(
      server.addr.port,
      "POST /webhooks/snaptrade HTTP/1.1\r\nHost: relay\r\nTransfer-Encoding: chunked\r\n" +
        `Signature: ${sig}\r\n\r\n`,
      body.split("").map((c) => `1\r\n${c}\r\n`).join(""),
      20,
    );
    assert.match(chunked, /^HTTP\/1\.1 408 /);
    // Both were cut off long before their bodies could have finished.
    assert.ok(Date.now() - started < body.length * 100);
    assert.equal(h.outbox.status().total, 0);
  } finally {
    await server.shutdown();
    await h.close();
  }
});

Deno.test("relay: one client's requests in flight are capped (429 Retry-After); other clients are not", async () => {
  let client = "203.0.113.7";
  const h = await harness({ clientAddress: () => client, maxInFlightPerClient: 2 });
  // Bodies that arrive only when released: requests that stay in flight.
  const releases: (() => void)[] = [];
  const held = () =>
    new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(enc.encode("{"));
        releases.push(() => c.close());
      },
    });
  try {
    const inFlight = [h.post(held()), h.post(held())];
    await new Promise((r) => setTimeout(r, 0));
    const over = await h.post("{}");
    assert.equal(over.status, 429);
    assert.equal(over.headers.get("retry-after"), "1");
    client = "203.0.113.8";
    assert.equal((await h.post("{}")).status, 401, "another client goes through to verification");
    for (const release of releases) release();
    for (const res of await Promise.all(inFlight)) assert.equal(res.status, 401);
    client = "203.0.113.7";
    assert.equal((await h.post("{}")).status, 401, "the slots are free again");
  } finally {
    await h.close();
  }
});

Deno.test("relay client: X-Forwarded-For counts only from TRUSTED_PROXIES", () => {
  const trust = compileTrustedProxies("10.0.0.0/8");
  const xff = new Headers({ "x-forwarded-for": "203.0.113.7" });
  assert.equal(relayClient("10.1.2.3", xff, trust), "203.0.113.7");
  // The proxy's own request, naming nobody: no per-sender limit to apply.
  assert.equal(relayClient("10.1.2.3", new Headers(), trust), null);
  // Anyone else's header is ignored: the peer is the sender.
  assert.equal(relayClient("198.51.100.4", xff, trust), "198.51.100.4");
  // Loopback that is not a listed proxy: this machine, not limited.
  assert.equal(relayClient("127.0.0.1", xff, trust), null);
  assert.equal(relayClient(null, xff, trust), null);
});
