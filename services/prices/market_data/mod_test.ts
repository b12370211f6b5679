import assert from "node:assert/strict";
import { eventually } from "@meridian/runtime/testing";
import { DEMO_ALPACA_DATA_KEYS } from "../../sandbox/alpaca/mod.ts";
import { serveAlpaca } from "../../sandbox/alpaca/test_helpers.ts";
import { FEED_STOCK_CAPACITY, marketDataProvider, type Trade } from "./mod.ts";

const urls = {
  streamUrl: "ws://127.0.0.1:1/alpaca-data",
  dataUrl: "http://127.0.0.1:1/alpaca-data",
  tradingUrl: "http://127.0.0.1:1/alpaca",
};

Deno.test("the alpaca provider per feed: capacity and the delayed flag", () => {
  const iex = marketDataProvider("alpaca", { ...urls, feed: "iex" });
  assert.equal(iex.name, "alpaca");
  assert.equal(iex.feed, "iex");
  assert.equal(iex.delayed, false);
  assert.equal(iex.stockCapacity, 30);
  assert.equal(marketDataProvider("alpaca", { ...urls, feed: "test" }).stockCapacity, 30);
  assert.equal(marketDataProvider("alpaca", { ...urls, feed: "sip" }).stockCapacity, null);
  const delayed = marketDataProvider("alpaca", { ...urls, feed: "delayed_sip" });
  assert.equal(delayed.delayed, true);
  assert.equal(delayed.stockCapacity, null);
  assert.deepEqual(FEED_STOCK_CAPACITY, { iex: 30, test: 30, sip: null, delayed_sip: null });
  assert.throws(() => marketDataProvider("alpaca", { ...urls, feed: "crypto" }), RangeError);
  assert.throws(
    () => marketDataProvider("nope" as "alpaca", { ...urls, feed: "iex" }),
    /unknown market-data provider/,
  );
});

Deno.test("openStream and snapshots through the provider against the sandbox", async () => {
  const s = serveAlpaca({ tradeIntervalMs: 50 });
  const provider = marketDataProvider("alpaca", {
    streamUrl: `${s.ws}/alpaca-data`,
    dataUrl: `${s.base}/alpaca-data`,
    tradingUrl: `${s.base}/alpaca`,
    feed: "iex",
    backoff: { minMs: 20, maxMs: 200, rejectedMs: 300 },
  });
  const key = DEMO_ALPACA_DATA_KEYS[1];
  const trades: Trade[] = [];
  const stream = provider.openStream("stocks", key, { onTrade: (t) => trades.push(t) });
  try {
    stream.setSymbols(["NVDA"]);
    await eventually(() => trades.length > 0, { timeoutMs: 5_000, intervalMs: 10 });
    assert.equal(trades[0].symbol, "NVDA");
    const snaps = await provider.snapshots("stocks", ["NVDA"], key);
    assert.equal(snaps.get("NVDA")?.symbol, "NVDA");
  } finally {
    await stream.close();
    await s.close();
  }
});
