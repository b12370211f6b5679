/**
 * The price stream under trouble, with the services as processes: a NATS restart in the middle
 * of streaming, and a market-data key the provider refuses.
 */
import assert from "node:assert/strict";
import { eventually } from "@meridian/runtime/testing";
import { DEMO_ALPACA_DATA_KEYS } from "@meridian/sandbox/data_keys";
import { startMarketEnv } from "./testing/market_env.ts";

const KEY = DEMO_ALPACA_DATA_KEYS[0];

Deno.test({
  name: "NATS restarted mid-stream: ticks resume without restarting any service",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const env = await startMarketEnv({ tradeIntervalMs: 250 });
    try {
      await env.hold(["AAPL", "MSFT", "NVDA"]);
      const symbols = env.symbols();
      const prices = env.prices({ ALPACA_DATA_KEYS: `${KEY.keyId}:${KEY.secret}` });
      const rec = env.recordTicks();
      await eventually(() => rec.ticks().filter((t) => t.feed === "iex").length >= 6, {
        timeoutMs: 60_000,
        what: "ticks flowing",
      });
      await env.nats.restart();
      const restartedAt = Date.now();
      await eventually(
        () => {
          const after = rec.ticks().filter((t) => Date.parse(t.time) > restartedAt);
          return new Set(after.map((t) => t.symbol)).size === 3;
        },
        { timeoutMs: 30_000, what: "ticks for all three symbols after the restart" },
      );
      await eventually(async () => {
        const p = await env.lastPrices();
        return ["AAPL", "MSFT", "NVDA"].every((s) =>
          Date.parse(p.get(s)?.time ?? "") > restartedAt
        );
      }, { timeoutMs: 10_000, what: "last prices updated after the restart" });
      assert.ok(symbols.alive() && prices.alive(), "no service exited");
      rec.stop();
    } finally {
      await env.close();
    }
  },
});

Deno.test({
  name: "a refused market-data key: one clear log line, a not-ready shard, no crash loop",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const env = await startMarketEnv();
    try {
      await env.hold(["AAPL"]);
      const badSecret = "wrong-secret-that-must-never-be-logged";
      const prices = env.prices({ ALPACA_DATA_KEYS: `${KEY.keyId}:${badSecret}` });
      await eventually(() => prices.output().includes("market-data stream refused"), {
        timeoutMs: 60_000,
        what: "the refusal logged",
      });
      await eventually(async () => (await prices.readyz()) === 503, {
        timeoutMs: 10_000,
        what: "the shard not ready",
      });
      const line = prices.output().split("\n").find((l) =>
        l.includes("market-data stream refused")
      )!;
      assert.match(line, /402/);
      assert.match(line, /ALPACA_DATA_KEYS/);
      assert.ok(!prices.output().includes(badSecret), "the secret is never logged");

      // No tight reconnect loop: over five seconds the stream is tried at most twice more.
      const streamCalls = async () => {
        const c = await env.admin("/calls") as { by_route?: Record<string, number> };
        return Object.entries(c.by_route ?? {})
          .filter(([route]) => route.includes("/data/v2/"))
          .reduce((n, [, v]) => n + v, 0);
      };
      const before = await streamCalls();
      const windowEnds = Date.now() + 5_000;
      await eventually(() => Date.now() >= windowEnds, { timeoutMs: 6_000, what: "5 s" });
      assert.ok((await streamCalls()) - before <= 2, "retries are spaced out");
      assert.ok(prices.alive(), "the process keeps running");
      assert.equal(await prices.readyz(), 503);
    } finally {
      await env.close();
    }
  },
});
