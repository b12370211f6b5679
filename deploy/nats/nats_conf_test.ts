import assert from "node:assert/strict";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { inboxPrefix, provisionAll } from "@meridian/runtime";
import { startNats } from "@meridian/runtime/testing";

const conf = await Deno.readTextFile(new URL("./nats.conf", import.meta.url));

/**
 * Speaks the NATS protocol on a plain socket and returns what the server answered. A refused
 * login is checked this way because a failed nats.js connect can leave a socket whose late
 * reset surfaces as an uncaught error in whatever test runs next.
 */
async function rawConnect(port: number, user: string, pass: string): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const buf = new Uint8Array(4096);
  const decoder = new TextDecoder();
  let text = "";
  try {
    const readSome = async () => {
      const n = await conn.read(buf);
      if (n === null) return false;
      text += decoder.decode(buf.subarray(0, n));
      return true;
    };
    while (!text.includes("\r\n") && await readSome()); // INFO
    text = "";
    const hello = JSON.stringify({ user, pass, verbose: false, pedantic: false, protocol: 1 });
    await conn.write(new TextEncoder().encode(`CONNECT ${hello}\r\nPING\r\n`));
    while (!/PONG|-ERR/.test(text) && await readSome());
    return text;
  } finally {
    try {
      conn.close();
    } catch {
      // the server may have closed it first
    }
  }
}

Deno.test("nats.conf: the relay user may publish webhooks.> and nothing else", async () => {
  Deno.env.set("NATS_RELAY_PASSWORD", "relay-test-pass");
  Deno.env.set("NATS_SERVICES_PASSWORD", "services-test-pass");
  Deno.env.set("NATS_VALUES_PASSWORD", "values-test-pass"); // nats.conf names every user's
  const nats = await startNats({ config: conf });
  const servers = nats.url.replace("nats://", "");
  const services = await connect({ servers, user: "services", pass: "services-test-pass" });
  const relay = await connect({
    servers,
    user: "relay",
    pass: "relay-test-pass",
    inboxPrefix: inboxPrefix("relay"),
  });
  try {
    assert.match(await rawConnect(nats.port, "relay", "relay-test-pass"), /PONG/);
    assert.match(await rawConnect(nats.port, "relay", "wrong"), /^-ERR 'Authorization Violation'/m);
    await provisionAll({ nc: services });
    const seen: string[] = [];
    const sub = services.subscribe(">", { callback: (_e, m) => void seen.push(m.subject) });
    const errors: string[] = [];
    (async () => {
      for await (const s of relay.status()) if (s.type === "error") errors.push(String(s.error));
    })().catch(() => {}); // the status stream ends with an error when the connection closes

    // Allowed: a JetStream publish to webhooks.<provider>, PubAck received.
    const ack = await jetstream(relay).publish("webhooks.plaid", "{}", { msgID: "perm-1" });
    assert.equal(ack.stream, "WEBHOOKS");

    // Refused: every other subject, including the JetStream API.
    for (
      const subject of [
        "sync.request.plaid.u1",
        "portfolio.pending.u1",
        "deadletter.webhooks.plaid",
        "$JS.API.STREAM.DELETE.WEBHOOKS",
        "$JS.API.STREAM.PURGE.WEBHOOKS",
        "prices.AAPL",
      ]
    ) relay.publish(subject, "x");
    await assert.rejects(
      jetstream(relay).publish("sync.request.plaid.u1", "{}", { timeout: 1000 }),
    );
    await assert.rejects(
      jetstreamManager(relay, { timeout: 1000 }).then((m) => m.streams.info("WEBHOOKS")),
    );
    // Refused: everyone else's replies (JetStream deliveries of every stream come on _INBOX.>).
    relay.subscribe("_INBOX.>");
    await relay.flush().catch(() => {});
    await services.flush();
    await new Promise((r) => setTimeout(r, 300));
    const leaked = seen.filter((s) =>
      !s.startsWith("webhooks.") && !s.startsWith("_INBOX_relay.") && !s.startsWith("$JS.ACK")
    );
    assert.deepEqual(leaked, [], "nothing but webhooks.> reached the server from the relay");
    assert.ok(errors.some((e) => /permission/i.test(e)));
    assert.ok(
      errors.some((e) => /subscription.*_INBOX\.>/i.test(e)),
      "subscribing to _INBOX.> refused",
    );
    // The webhook message is the only one in the stream.
    const info = await (await jetstreamManager(services)).streams.info("WEBHOOKS");
    assert.equal(info.state.messages, 1);
    sub.unsubscribe();
  } finally {
    await relay.close().catch(() => {});
    await services.close();
    await nats.close();
  }
});
