/**
 * Runs examples/value_alert.ts as its own process, as the `values` user of deploy/nats/nats.conf
 * against a real nats-server, and checks the alerts it prints for full portfolio values.
 * @module
 */
import assert from "node:assert/strict";
import { Kvm } from "@nats-io/kv";
import { connect } from "@nats-io/transport-node";
import { buckets, encode, encodeKvToken, PortfolioValue, subjects } from "@meridian/proto";
import { provisionAll } from "@meridian/runtime";
import { eventually, processEnv, startNats, stopAtExit } from "@meridian/runtime/testing";

const ROOT = new URL("../", import.meta.url);
const USER = "0b7e3a52-5d1c-4f8e-a2b9-6c4d3e2f1a0b";
const ACCOUNT = "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a";

/** A complete portfolio value of USER: positions `total` - 50 plus 50 cash, in USD. */
function value(seq: number, total: string, user = USER): Uint8Array {
  const [whole, frac = ""] = total.split(".");
  const positions = `${BigInt(whole) - 50n}${frac ? "." + frac : ""}`;
  return encode(PortfolioValue, {
    user_id: user,
    time: new Date(Date.UTC(2026, 0, 2, 15, 30, seq)).toISOString(),
    seq,
    currency: "USD",
    total,
    positions_value: positions,
    cash: "50",
    totals: [{ currency: "USD", positions_value: positions, cash: "50", total, base_total: total }],
    accounts: [{
      account_id: ACCOUNT,
      value: total,
      native: [{ currency: "USD", value: total }],
      day_change: "1.25",
    }],
    day_change: { amount: "1.25", percent: "0.13", covered: 1, positions: 1 },
    unrealized_pl: { amount: "10", cost_basis: positions, covered: 1, positions: 1 },
    prices: {
      as_of: "2026-01-02T15:30:00Z",
      live: 1,
      delayed: 0,
      stale: 0,
      provider: 0,
      unpriced: 0,
      market: "open",
    },
    fx: { date: null, unconverted: [] },
    quotes: {
      AAPL: ["190.5", "189", "2026-01-02T15:30:00Z", false],
    },
  });
}

Deno.test("examples/value_alert.ts: alerts when the total crosses the threshold, newest seq only", async () => {
  Deno.env.set("NATS_RELAY_PASSWORD", "relay-test-pass");
  Deno.env.set("NATS_SERVICES_PASSWORD", "services-test-pass");
  Deno.env.set("NATS_VALUES_PASSWORD", "values-test-pass");
  const conf = await Deno.readTextFile(new URL("deploy/nats/nats.conf", ROOT));
  const nats = await startNats({ config: conf });
  const services = await connect({
    servers: nats.url,
    user: "services",
    pass: "services-test-pass",
  });
  let child: Deno.ChildProcess | undefined;
  try {
    await provisionAll({ nc: services });
    const kv = await new Kvm(services).open(buckets.portfolioValues.name);
    await kv.put(encodeKvToken(USER), value(5, "900.00"));

    // The permissions of the README's command, the environment of the README's variables only.
    child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-net", "--allow-env", "examples/value_alert.ts", USER, "1000.01"],
      cwd: ROOT,
      clearEnv: true,
      env: processEnv({ NATS_URL: nats.url, NATS_PASSWORD: "values-test-pass" }),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const proc = child;
    const unregister = stopAtExit(() => proc.kill("SIGKILL"));
    let out = "";
    const decoder = new TextDecoder();
    for (const stream of [proc.stdout, proc.stderr]) {
      stream.pipeTo(new WritableStream({ write: (c) => void (out += decoder.decode(c)) }))
        .catch(() => {});
    }
    const lines = () => out.split("\n").filter((l) => l);
    const waitFor = (text: string) =>
      eventually(() => out.includes(text), { timeoutMs: 20_000, what: JSON.stringify(text) })
        .catch((e) => Promise.reject(new Error(`${e.message}; the example wrote:\n${out}`)));
    await waitFor("watching portfolio.value.");
    // The last value from KV is read at once.
    assert.ok(lines().includes(`value ${USER} total 900.00 USD (seq 5)`), out);

    const publish = (seq: number, total: string, user = USER) =>
      services.publish(subjects.portfolioValue(USER), value(seq, total, user));
    publish(4, "2000.00"); // older than the KV value: dropped
    publish(6, "1000.009999999999999999"); // below by 1e-18: a float would round it up to 1000.01
    publish(6, "5000"); // a repeat of seq 6: dropped
    publish(9, "5000", ACCOUNT); // another user's value on this user's subject: dropped
    services.publish(subjects.portfolioValue(USER), "not json");
    publish(7, "1000.01"); // reached
    publish(8, "1000.02"); // still above: no alert
    publish(10, "999.99"); // fell below
    await services.flush();
    const alerts = () => lines().filter((l) => l.startsWith("ALERT"));
    // Messages are handled in order: once the last one's alert is out, every other one is done.
    await eventually(() => out.includes("(seq 10)"), {
      timeoutMs: 10_000,
      what: `seq 10:\n${out}`,
    });
    assert.deepEqual(alerts(), [
      `ALERT ${USER} total 1000.01 USD (seq 7) reached 1000.01`,
      `ALERT ${USER} total 999.99 USD (seq 10) fell below 1000.01`,
    ]);
    proc.kill("SIGTERM");
    await proc.status;
    unregister();
    child = undefined;
    assert.doesNotMatch(out, /values-test-pass/, "the password is never printed");
  } finally {
    if (child) {
      child.kill("SIGKILL");
      await child.status;
    }
    await services.close();
    await nats.close();
  }
});
