/**
 * Three `prices` instances with two data keys on the free `iex` feed, and two `symbols`
 * instances, all as processes against the sandbox: 70 held stocks are split 30 + 30 over the
 * keys' streams and 10 go to the poller; the third instance stands by and takes over a killed
 * shard; a killed `symbols` leader is replaced and the assignments stay as they were.
 */
import assert from "node:assert/strict";
import { eventually, type ServiceProcess } from "@meridian/runtime/testing";
import { DEMO_ALPACA_DATA_KEYS } from "@meridian/sandbox/data_keys";
import { kvKeys } from "@meridian/proto";
import { startMarketEnv } from "./testing/market_env.ts";

const TWO_KEYS = DEMO_ALPACA_DATA_KEYS.slice(0, 2).map((k) => `${k.keyId}:${k.secret}`).join(",");
const SYMBOLS = Array.from({ length: 70 }, (_, i) => `SC${String(i).padStart(2, "0")}`);

/** The shard a prices process streams, from its "claimed" log line. */
function claimedShard(p: ServiceProcess): string | undefined {
  for (const line of p.output().split("\n").reverse()) {
    if (!line.includes('"claimed"')) continue;
    try {
      const l = JSON.parse(line);
      if (l.work === "shard") return l.shard;
    } catch {
      // not a JSON line
    }
  }
  return undefined;
}

function stocksOf(a: Map<string, { stocks: string[] }>): Record<string, string[]> {
  return Object.fromEntries([...a].map(([k, v]) => [k, v.stocks]).sort());
}

Deno.test({
  name:
    "prices scale out: 60 streamed on two keys, 10 polled, a standby takes over, symbols fails over",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const env = await startMarketEnv({ tradeIntervalMs: 500 });
    try {
      await env.hold(SYMBOLS.slice(0, 40));
      await env.hold(SYMBOLS.slice(30)); // SC30..SC39 held twice: counted once
      const startedAt = Date.now();
      const symbolsA = env.symbols();
      const prices = [0, 1, 2].map(() =>
        env.prices({ ALPACA_DATA_KEYS: TWO_KEYS, PRICES_POLL_S: "5" })
      );
      const symbolsB = env.symbols();
      const all = [symbolsA, symbolsB, ...prices];
      await eventually(
        async () => (await Promise.all(all.map((p) => p.readyz()))).every((s) => s === 200),
        {
          timeoutMs: 60_000,
          what: "every process ready",
        },
      );

      // Every held symbol has a price in KV within 10 s of the start.
      await eventually(async () => (await env.lastPrices()).size === 70, {
        timeoutMs: Math.max(0, startedAt + 10_000 - Date.now()),
        what: "a last price for all 70 symbols within 10 s of the start",
      });
      console.log(
        `all 70 last prices ${((Date.now() - startedAt) / 1000).toFixed(1)} s after start`,
      );
      // The stable state once both shards are live (while the second shard's lease is still
      // being claimed, the poller briefly holds its symbols).
      const shardsOf = (m: Map<string, unknown>) =>
        [...m.keys()].filter((k) => k.startsWith("shard."));
      const a = await eventually(async () => {
        const now = await env.assignments();
        const full = shardsOf(now).length === 2 &&
          now.get(kvKeys.pollerAssignment)?.stocks.length === 10;
        return full ? now : null;
      }, { timeoutMs: 10_000, what: "two shards of 30 and 10 polled" });
      for (const k of shardsOf(a)) assert.equal(a.get(k)!.stocks.length, 30, k);
      const placed = [...a.values()].flatMap((v) => v.stocks);
      assert.equal(new Set(placed).size, 70, "each symbol on exactly one target");
      const polled = new Set(a.get(kvKeys.pollerAssignment)!.stocks);
      const prices0 = await env.lastPrices();
      for (const s of polled) assert.equal(prices0.get(s)!.delayed, true, `${s} is marked delayed`);

      // Two instances stream, the third stands by.
      const holders = prices.filter((p) => claimedShard(p) !== undefined);
      assert.equal(holders.length, 2, "two shard holders");
      const standby = prices.find((p) => claimedShard(p) === undefined)!;
      assert.equal(await standby.metric("meridian_prices_shard_state"), 0);
      await eventually(async () => {
        const streamed = await Promise.all(
          holders.map((p) => p.metric('meridian_prices_ticks_in_total{stream="stocks"}')),
        );
        return streamed.every((n) => (n ?? 0) > 0);
      }, { timeoutMs: 5_000, what: "both shards receiving trades" });

      // SIGKILL a streaming shard: the standby takes it over and its symbols tick within 15 s.
      const victim = holders[0];
      const shard = claimedShard(victim)!;
      const itsSymbols = a.get(kvKeys.shardAssignment(shard))!.stocks;
      const rec = env.recordTicks();
      await victim.kill("SIGKILL");
      const killedAt = Date.now();
      await eventually(() => {
        const after = rec.ticks().filter((t) => t.feed === "iex" && !t.delayed);
        const counts = new Map<string, number>();
        for (const t of after) counts.set(t.symbol, (counts.get(t.symbol) ?? 0) + 1);
        return itsSymbols.every((s) => (counts.get(s) ?? 0) >= 2);
      }, { timeoutMs: 15_000, what: "the killed shard's symbols ticking again" });
      const tookOver = (Date.now() - killedAt) / 1000;
      rec.stop();
      assert.equal(claimedShard(standby), shard, "the standby took the dead shard");
      assert.deepEqual(stocksOf(await env.assignments()), stocksOf(a), "assignments unchanged");
      console.log(`standby took over; ticks again after ${tookOver.toFixed(1)} s`);

      // Kill the symbols leader: the follower leads within 10 s; the assignments stay put.
      const leaderOf = async () =>
        (await symbolsA.metric("meridian_symbols_leader_state")) === 1 ? symbolsA : symbolsB;
      const leader = await leaderOf();
      const follower = leader === symbolsA ? symbolsB : symbolsA;
      assert.equal(await follower.metric("meridian_symbols_leader_state"), 0);
      await leader.kill("SIGKILL");
      await eventually(
        async () => (await follower.metric("meridian_symbols_held_instruments")) === 70,
        {
          timeoutMs: 10_000,
          what: "the follower leading (and having planned)",
        },
      );
      assert.equal(await follower.metric("meridian_symbols_leader_state"), 1);
      assert.deepEqual(stocksOf(await env.assignments()), stocksOf(a), "assignments stay put");
    } finally {
      await env.close();
    }
  },
});
