import assert from "node:assert/strict";
import { eventually } from "@meridian/runtime/testing";
import {
  DEMO_ALPACA_DATA_KEYS,
  DEMO_ALPACA_KEY_ID,
  DEMO_ALPACA_SECRET,
} from "../../../sandbox/alpaca/mod.ts";
import { connectData, serveAlpaca } from "../../../sandbox/alpaca/test_helpers.ts";
import type { Credential, StreamStatus, Trade } from "../types.ts";
import { AlpacaStream, type AlpacaStreamOptions, streamEndpoint } from "./stream.ts";

const KEY = DEMO_ALPACA_DATA_KEYS[0];
const FAST = { minMs: 20, maxMs: 200, rejectedMs: 300 };
const WAIT = { timeoutMs: 5_000, intervalMs: 10 };
const DECIMAL = /^\d+(\.\d+)?$/;

/** A stream against a served sandbox, recording its events. */
function open(
  ws: string,
  opts: Partial<AlpacaStreamOptions> & { credential?: Credential } = {},
) {
  const trades: Trade[] = [];
  const statuses: { at: number; status: StreamStatus }[] = [];
  const refusals: string[][] = [];
  const stream = new AlpacaStream({
    url: `${ws}/alpaca-data`,
    credential: KEY,
    kind: "stocks",
    feed: "iex",
    backoff: FAST,
    events: {
      onTrade: (t) => trades.push(t),
      onStatus: (status) => statuses.push({ at: Date.now(), status }),
      onRefused: (symbols) => refusals.push(symbols),
    },
    ...opts,
  });
  return { stream, trades, statuses, refusals };
}

const symbolsOf = (trades: Trade[]) => new Set(trades.map((t) => t.symbol));
const sameSet = (a: ReadonlySet<string>, b: string[]) =>
  a.size === b.length && b.every((s) => a.has(s));

Deno.test("endpoints: stocks /v2/{feed}, crypto /v1beta3/crypto/us", () => {
  assert.equal(
    streamEndpoint("wss://stream.data.alpaca.markets/", "stocks", "sip"),
    "wss://stream.data.alpaca.markets/v2/sip",
  );
  assert.equal(
    streamEndpoint("ws://127.0.0.1:8082/alpaca-data", "crypto", "iex"),
    "ws://127.0.0.1:8082/alpaca-data/v1beta3/crypto/us",
  );
});

Deno.test("authenticates and streams trades with decimal-string prices and Date times", async () => {
  const s = serveAlpaca({ tradeIntervalMs: 50 });
  const { stream, trades, statuses } = open(s.ws);
  try {
    stream.setSymbols(["AAPL", "MSFT"]); // before authentication: sent once authenticated
    await eventually(() => symbolsOf(trades).size === 2, { ...WAIT, what: "AAPL and MSFT" });
    assert.ok(sameSet(stream.subscribed(), ["AAPL", "MSFT"]));
    assert.deepEqual(stream.status(), { state: "streaming" });
    assert.deepEqual(
      [...new Set(statuses.map((x) => x.status.state))],
      ["connecting", "authenticating", "streaming"],
    );
    for (const t of trades) {
      assert.match(t.price, DECIMAL);
      assert.match(t.size, DECIMAL);
      assert.ok(t.time instanceof Date);
      assert.ok(Math.abs(t.time.getTime() - Date.now()) < 60_000, "the trade's exchange time");
    }
    assert.equal(stream.reconnects, 0);
  } finally {
    await stream.close();
    await s.close();
  }
  assert.equal(stream.status().state, "closed");
});

Deno.test("symbol diffs: A,B then B,C → the ack shows B,C and A's trades stop", async () => {
  const s = serveAlpaca({ tradeIntervalMs: 50 });
  const { stream, trades } = open(s.ws);
  try {
    stream.setSymbols(["AAPL", "MSFT"]);
    await eventually(() => sameSet(stream.subscribed(), ["AAPL", "MSFT"]), WAIT);
    stream.setSymbols(["MSFT", "NVDA"]);
    await eventually(() => sameSet(stream.subscribed(), ["MSFT", "NVDA"]), WAIT);
    trades.length = 0; // everything from here on came after the acknowledgement
    await eventually(
      () => trades.filter((t) => t.symbol === "NVDA").length >= 3,
      { ...WAIT, what: "NVDA trades" },
    );
    assert.deepEqual([...symbolsOf(trades)].sort(), ["MSFT", "NVDA"]);
    stream.setSymbols([]);
    await eventually(() => stream.subscribed().size === 0, WAIT);
  } finally {
    await stream.close();
    await s.close();
  }
});

Deno.test("405 beyond the iex cap of 30: the extra symbol is refused, the others kept", async () => {
  const s = serveAlpaca({ tradeIntervalMs: 50 });
  const { stream, refusals } = open(s.ws);
  const thirty = Array.from({ length: 30 }, (_, i) => `SYM${String(i).padStart(2, "0")}`);
  try {
    stream.setSymbols(thirty);
    await eventually(() => stream.subscribed().size === 30, WAIT);
    stream.setSymbols([...thirty, "AAPL"]);
    await eventually(() => refusals.length === 1, { ...WAIT, what: "the refusal" });
    assert.deepEqual(refusals, [["AAPL"]]);
    assert.deepEqual([...stream.refused()], ["AAPL"]);
    assert.ok(sameSet(stream.subscribed(), thirty), "the server kept the 30");
    assert.equal(stream.status().state, "streaming");
    // A refused symbol is not retried while wanted, and forgotten once no longer wanted.
    stream.setSymbols([...thirty, "AAPL"]);
    stream.setSymbols(thirty.slice(1));
    assert.equal(stream.refused().size, 0);
    await eventually(() => stream.subscribed().size === 29, WAIT);
    stream.setSymbols([...thirty.slice(1), "AAPL"]); // room again: subscribed
    await eventually(() => stream.subscribed().has("AAPL"), WAIT);
    assert.equal(refusals.length, 1);
  } finally {
    await stream.close();
    await s.close();
  }
});

Deno.test("a bad key: rejected with a reason without the secret, retried slowly", async () => {
  const s = serveAlpaca({ tradeIntervalMs: 50 });
  const secret = "not-the-right-secret-0123456789";
  const { stream, statuses } = open(s.ws, { credential: { keyId: KEY.keyId, secret } });
  try {
    stream.setSymbols(["AAPL"]);
    // Three refusals: the first connection and two retries.
    await eventually(
      () => statuses.filter((x) => x.status.state === "rejected").length >= 3,
      { ...WAIT, what: "three refusals" },
    );
    const rejected = statuses.filter((x) => x.status.state === "rejected");
    for (const r of rejected) {
      assert.match(r.status.reason ?? "", /402 auth failed.*ALPACA_DATA_KEYS/);
      assert.ok(!r.status.reason?.includes(secret));
    }
    // Never a tight loop: each retry waits the rejected backoff (300 ms ± 20 %).
    const connecting = statuses.filter((x) => x.status.state === "connecting").map((x) => x.at);
    for (let i = 1; i < connecting.length; i++) {
      assert.ok(connecting[i] - connecting[i - 1] >= 200, `retry ${i} waited`);
    }
    const attempts = s.calls.counts().by_route["alpaca GET /data/v2/:feed"];
    assert.ok(attempts <= connecting.length, `${attempts} connection attempts`);
    assert.equal(stream.reconnects, connecting.length - 1);
    assert.equal(stream.subscribed().size, 0);
  } finally {
    await stream.close();
    await s.close();
  }
});

Deno.test("a dropped connection: reconnects and resubscribes everything", async () => {
  const s = serveAlpaca({ tradeIntervalMs: 50 });
  const account = { keyId: DEMO_ALPACA_KEY_ID, secret: DEMO_ALPACA_SECRET };
  const { stream, trades, statuses } = open(s.ws, { credential: account });
  try {
    stream.setSymbols(["AAPL", "VOO"]);
    await eventually(() => symbolsOf(trades).size === 2, WAIT);
    // The sandbox drops the key's sockets; the key works again at once.
    s.sb.admin.breakConnection(DEMO_ALPACA_KEY_ID);
    s.sb.admin.fixConnection(DEMO_ALPACA_KEY_ID);
    await eventually(() => stream.reconnects >= 1, { ...WAIT, what: "a reconnect" });
    assert.ok(statuses.some((x) => x.status.state === "backoff"));
    await eventually(
      () => stream.status().state === "streaming" && sameSet(stream.subscribed(), ["AAPL", "VOO"]),
      { ...WAIT, what: "resubscribed" },
    );
    trades.length = 0;
    await eventually(() => symbolsOf(trades).size === 2, { ...WAIT, what: "trades again" });
  } finally {
    await stream.close();
    await s.close();
  }
});

Deno.test("406 while another connection holds the key: backs off, then takes over", async () => {
  const s = serveAlpaca({ tradeIntervalMs: 50 });
  const other = await connectData(`${s.ws}/alpaca-data/v2/iex`);
  other.send({ action: "auth", key: KEY.keyId, secret: KEY.secret });
  await other.next();
  const { stream, trades, statuses } = open(s.ws);
  try {
    stream.setSymbols(["AAPL"]);
    await eventually(() => statuses.some((x) => x.status.reason?.includes("406")), WAIT);
    assert.equal(stream.status().state === "streaming", false);
    await other.close();
    await eventually(() => trades.length > 0, { ...WAIT, what: "trades after the takeover" });
    assert.ok(stream.reconnects >= 1);
  } finally {
    await stream.close();
    await other.close();
    await s.close();
  }
});

Deno.test("crypto stream: BTC/USD trades with fractional sizes", async () => {
  const s = serveAlpaca({ tradeIntervalMs: 50 });
  const { stream, trades } = open(s.ws, { kind: "crypto" });
  try {
    stream.setSymbols(["BTC/USD"]);
    await eventually(() => trades.length >= 2, { ...WAIT, what: "BTC/USD trades" });
    assert.ok(sameSet(stream.subscribed(), ["BTC/USD"]));
    for (const t of trades) {
      assert.equal(t.symbol, "BTC/USD");
      assert.match(t.price, DECIMAL);
      assert.match(t.size, DECIMAL);
      assert.ok(t.time instanceof Date);
    }
  } finally {
    await stream.close();
    await s.close();
  }
});

Deno.test("close() stops reconnecting", async () => {
  const s = serveAlpaca({ tradeIntervalMs: 50 });
  const { stream } = open(s.ws);
  await eventually(() => stream.status().state === "streaming", WAIT);
  await stream.close();
  await stream.close(); // idempotent
  assert.deepEqual(stream.status(), { state: "closed" });
  await s.close();
  assert.equal(stream.reconnects, 0);
});
