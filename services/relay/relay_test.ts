import assert from "node:assert/strict";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { createLogger, provisionAll } from "@meridian/runtime";
import { startNats } from "@meridian/runtime/testing";
import { relayRoutes } from "./app.ts";
import { Forwarder } from "./forwarder.ts";
import { Outbox } from "./outbox.ts";
import { plaidKeyFetcher } from "./plaid_keys.ts";
import {
  hs256Jwt,
  noneJwt,
  plaidJwt,
  plaidKey,
  servePlaidKeys,
  snaptradeBody,
  snaptradeSignature,
} from "./test_signing.ts";
import { PlaidVerifier, sha256Hex, SnaptradeVerifier } from "./verify.ts";

const CONSUMER_KEY = "test-consumer-key";
const log = createLogger("relay-test", "error");

async function harness() {
  const dir = await Deno.makeTempDir({ prefix: "relay-test-" });
  const outbox = new Outbox(`${dir}/outbox.sqlite`);
  const good = await plaidKey();
  const expired = await plaidKey(undefined, true);
  const keys = servePlaidKeys([good.jwk, expired.jwk]);
  // A fixed relay clock, so the ±299/±301 s cases do not drift on a loaded machine.
  const clock = Date.now();
  const app = relayRoutes({
    now: () => clock,
    outbox,
    snaptrade: new SnaptradeVerifier(CONSUMER_KEY),
    plaid: new PlaidVerifier(plaidKeyFetcher(keys.url, "id", "secret")),
  });
  const post = (path: string, body: BodyInit, headers: Record<string, string> = {}) =>
    app.request(path, {
      method: "POST",
      body,
      headers: { "content-type": "application/json", ...headers },
    });
  const rows = () =>
    (outbox.db.prepare("select count(*) as n from outbox").get() as { n: number }).n;
  return {
    clock,
    outbox,
    good,
    expired,
    keys,
    post,
    rows,
    close: async () => {
      outbox.close();
      await keys.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

async function snap(body: string, key = CONSUMER_KEY) {
  return { Signature: await snaptradeSignature(body, key) };
}

Deno.test("relay battery: valid webhooks stored and forwarded once, every bad one 4xx with no trace", async () => {
  const h = await harness();
  const nats = await startNats();
  const nc = await connect({ servers: nats.url });
  try {
    await provisionAll({ nc });
    const now = h.clock;
    const statuses: number[] = [];
    const expectBad = async (res: Response, status?: number) => {
      statuses.push(res.status);
      assert.ok(res.status >= 400 && res.status < 500, `expected 4xx, got ${res.status}`);
      if (status) assert.equal(res.status, status);
      const j = await res.json();
      assert.equal(typeof j.error, "string");
    };

    // --- SnapTrade
    // SnapTrade still sends its deprecated webhookSecret in every body; it is signed over.
    const ok = snaptradeBody({
      name: "Zürich ☃ 😀",
      details: { total_value: 1.0, n: 1e21 },
      webhookSecret: "whsec_canary-5d1f",
    });
    let res = await h.post("/webhooks/snaptrade", ok, await snap(ok));
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: "accepted" });
    // A redelivery answers 200 and stores nothing new.
    res = await h.post("/webhooks/snaptrade", ok, await snap(ok));
    assert.deepEqual(await res.json(), { status: "duplicate" });
    // Pretty-printed body still verifies (SnapTrade signs the canonical form).
    const pretty = JSON.stringify(JSON.parse(snaptradeBody()), null, 2);
    assert.equal((await h.post("/webhooks/snaptrade", pretty, await snap(pretty))).status, 200);
    for (const skew of [-299, 299]) {
      const b = snaptradeBody({}, new Date(now + skew * 1000));
      assert.equal(
        (await h.post("/webhooks/snaptrade", b, await snap(b))).status,
        200,
        `skew ${skew}`,
      );
    }
    const validCount = 4;
    assert.equal(h.rows(), validCount);

    await expectBad(await h.post("/webhooks/snaptrade", ok, { Signature: "AAAA" }), 401);
    await expectBad(await h.post("/webhooks/snaptrade", ok, { Signature: "not base64!" }), 401);
    await expectBad(await h.post("/webhooks/snaptrade", ok, await snap(ok, "wrong-key")), 401);
    await expectBad(await h.post("/webhooks/snaptrade", ok), 401);
    const changed = ok.replace("ACCOUNT_HOLDINGS_UPDATED", "CONNECTION_DELETED");
    await expectBad(await h.post("/webhooks/snaptrade", changed, await snap(ok)), 401);
    for (const skew of [-301, 301]) {
      const b = snaptradeBody({}, new Date(now + skew * 1000));
      await expectBad(await h.post("/webhooks/snaptrade", b, await snap(b)), 401);
    }
    const noId = JSON.stringify({ eventTimestamp: new Date().toISOString(), eventType: "X" });
    await expectBad(await h.post("/webhooks/snaptrade", noId, await snap(noId)), 400);
    await expectBad(await h.post("/webhooks/snaptrade", "{not json", { Signature: "AAAA" }), 400);
    const badUtf8 = new Uint8Array([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d]);
    await expectBad(await h.post("/webhooks/snaptrade", badUtf8, { Signature: "AAAA" }), 400);
    const big = JSON.stringify({ pad: "x".repeat(1024 * 1024) });
    await expectBad(await h.post("/webhooks/snaptrade", big, await snap(big)), 413);
    // Oversize without Content-Length: a stream counted while read.
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < 20; i++) c.enqueue(new Uint8Array(64 * 1024).fill(0x20));
        c.close();
      },
    });
    await expectBad(await h.post("/webhooks/snaptrade", stream, { Signature: "AAAA" }), 413);
    const deep = "[".repeat(5000) + "]".repeat(5000);
    await expectBad(await h.post("/webhooks/snaptrade", deep, { Signature: "AAAA" }));

    // --- Plaid
    const pbody = JSON.stringify(
      {
        webhook_type: "HOLDINGS",
        webhook_code: "DEFAULT_UPDATE",
        item_id: "item-1",
        error: null,
        new_holdings: 1,
        updated_holdings: 2,
        environment: "sandbox",
      },
      null,
      2,
    ); // Plaid may pretty-print; the hash is over raw bytes
    const pv = async (body: string | Uint8Array, jwt: string) =>
      await h.post("/webhooks/plaid", body as BodyInit, { "Plaid-Verification": jwt });
    res = await pv(pbody, await plaidJwt(pbody, h.good));
    assert.equal(res.status, 200);
    // The same delivery again (fresh JWT) collapses onto the same event id.
    res = await pv(pbody, await plaidJwt(pbody, h.good));
    assert.deepEqual(await res.json(), { status: "duplicate" });
    for (const skew of [-299, 299]) {
      const b = pbody.replace("sandbox", `sandbox${skew}`);
      res = await pv(b, await plaidJwt(b, h.good, { iat: Math.floor(now / 1000) + skew }));
      assert.equal(res.status, 200, `iat skew ${skew}`);
    }
    const plaidValid = 3;
    assert.equal(h.rows(), validCount + plaidValid);
    const callsBefore = h.keys.calls.length;

    const hash = await sha256Hex(new TextEncoder().encode(pbody));
    await expectBad(
      await pv(pbody, noneJwt({ request_body_sha256: hash, iat: now / 1000 }, h.good.kid)),
      401,
    );
    await expectBad(
      await pv(
        pbody,
        await hs256Jwt(
          { request_body_sha256: hash, iat: Math.floor(now / 1000) },
          h.good.kid,
          new TextEncoder().encode(JSON.stringify(h.good.jwk)),
        ),
      ),
      401,
    );
    assert.equal(h.keys.calls.length, callsBefore, "alg none/HS256 refused before any key fetch");
    await expectBad(await pv(pbody, "garbage"), 401);
    await expectBad(await h.post("/webhooks/plaid", pbody), 401);
    const stranger = await plaidKey();
    await expectBad(await pv(pbody, await plaidJwt(pbody, stranger)), 401);
    await expectBad(await pv(pbody, await plaidJwt(pbody, h.expired)), 401);
    // Signed by a different key under the good kid.
    await expectBad(
      await pv(pbody, await plaidJwt(pbody, { kid: h.good.kid, privateKey: stranger.privateKey })),
      401,
    );
    await expectBad(await pv(pbody + " ", await plaidJwt(pbody, h.good)), 401);
    for (const skew of [-301, 301]) {
      await expectBad(
        await pv(pbody, await plaidJwt(pbody, h.good, { iat: Math.floor(now / 1000) + skew })),
        401,
      );
    }
    const notJson = "hello";
    await expectBad(await pv(notJson, await plaidJwt(notJson, h.good)), 400);
    await expectBad(await pv(badUtf8, await plaidJwt(badUtf8, h.good)), 400);
    await expectBad(await h.post("/webhooks/plaid", big, { "Plaid-Verification": "x" }), 413);
    // The unknown kid was fetched once, then remembered.
    const strangerCalls = h.keys.calls.filter((k) => k === stranger.kid).length;
    assert.equal(strangerCalls, 1);

    assert.equal(h.rows(), validCount + plaidValid, "no outbox row for any bad webhook");
    assert.ok(statuses.every((s) => s < 500));

    // Forward: exactly the valid events reach JetStream, once each.
    const forwarder = new Forwarder(h.outbox, jetstream(nc), log);
    forwarder.start();
    for (let i = 0; i < 400 && h.outbox.backlog() > 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    await forwarder.stop();
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info("WEBHOOKS");
    assert.equal(info.state.messages, validCount + plaidValid);
    // The webhook secret reached neither the outbox nor NATS; the event itself did.
    const stored = h.outbox.db.prepare("select body from outbox").all() as { body: string }[];
    assert.ok(stored.some((r) => r.body.includes("Zürich")));
    assert.ok(stored.every((r) => !r.body.includes("whsec_canary")));
    for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
      const m = await jsm.streams.getMessage("WEBHOOKS", { seq });
      assert.ok(m && !m.string().includes("whsec_canary"), `secret in NATS message ${seq}`);
    }
  } finally {
    await nc.close();
    await nats.close();
    await h.close();
  }
});
