/**
 * Market data and valuation on the cluster — two `symbols`, two `prices` (one market-data key
 * each), two `valuation` — while the NATS node leading the `leases` bucket (where the price
 * shards and valuation instances hold their leases) is SIGKILLed, then restarted. Ticks and
 * `portfolio.value` must resume within 15 s with each user's `seq` still rising, and every held
 * symbol must be on a shard that ticks. Prints the figures.
 * @module
 */
import assert from "node:assert/strict";
import { Kvm } from "@nats-io/kv";
import {
  buckets,
  decode,
  kvKeys,
  PortfolioValue,
  PriceTick,
  subjects,
  SymbolAssignment,
} from "@meridian/proto";
import { eventually } from "@meridian/runtime/testing";
import { DEMO_ALPACA_DATA_KEYS } from "@meridian/sandbox/data_keys";
import { startSandbox } from "../services/sandbox/mod.ts";
import { holdStocks } from "../services/prices/testing/market_env.ts";
import { printFigures, startChaosStack } from "./stack.ts";

const TWO_KEYS = DEMO_ALPACA_DATA_KEYS.slice(0, 2).map((k) => `${k.keyId}:${k.secret}`).join(",");
const SYMBOLS = ["AAPL", "MSFT", "SC01", "SC02", "SC03", "SC04"];
const USERS = 6;
const RESUME_MS = 15_000;

Deno.test({
  name: "the leases' leader SIGKILLed: ticks and values resume within 15 s, seq rising, all shards",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const sandbox = await startSandbox({
      port: 0,
      mode: "test",
      snaptrade: { clientId: "MERIDIAN-CHAOS", consumerKey: "chaos-consumer-key-0123456789" },
      plaid: { clientId: "meridian-chaos", secret: "chaos-plaid-secret-0123456789" },
      alpaca: { tradeIntervalMs: 200 },
      log: () => {},
    });
    const stack = await startChaosStack({
      SANDBOX_URL: sandbox.url,
      ALPACA_FEED: "iex",
      ALPACA_DATA_KEYS: TWO_KEYS,
      VALUE_PUBLISH_MS: "250",
    });
    try {
      const users: string[] = [];
      for (let i = 0; i < USERS; i++) {
        users.push(await holdStocks(stack.db.sql, SYMBOLS.filter((_, k) => (k + i) % 2 === 0)));
      }
      const ticks: { symbol: string; at: number }[] = [];
      const values = new Map<string, { at: number; seq: number }[]>(users.map((u) => [u, []]));
      stack.nc.subscribe(subjects.priceAll, {
        callback: (_e, m) =>
          void ticks.push({ symbol: decode(PriceTick, m.data).symbol, at: Date.now() }),
      });
      stack.nc.subscribe(subjects.portfolioValueAll, {
        callback: (_e, m) => {
          const v = decode(PortfolioValue, m.data);
          values.get(v.user_id)?.push({ at: Date.now(), seq: v.seq });
        },
      });
      const procs = [
        stack.start("symbols"),
        stack.start("symbols"),
        stack.start("prices"),
        stack.start("prices"),
        stack.start("valuation"),
        stack.start("valuation"),
      ];
      await eventually(
        async () => (await Promise.all(procs.map((p) => p.readyz()))).every((s) => s === 200),
        { timeoutMs: 90_000, intervalMs: 250, what: "every process ready" },
      ).catch((e) => {
        throw new Error(`${e.message}\n${stack.logs()}`);
      });
      /** Ms from `since` until every symbol ticked twice and every user was valued after it. */
      const flowing = (since: number, timeoutMs: number, what: string) =>
        eventually(() => {
          const counts = new Map<string, number>();
          for (const t of ticks) {
            if (t.at > since) counts.set(t.symbol, (counts.get(t.symbol) ?? 0) + 1);
          }
          const ticking = SYMBOLS.every((s) => (counts.get(s) ?? 0) >= 2);
          const valued = users.every((u) => values.get(u)!.some((v) => v.at > since));
          return ticking && valued && Date.now() - since;
        }, { timeoutMs, intervalMs: 50, what }).catch((e) => {
          throw new Error(`${e.message}\n${stack.logs()}`);
        });
      await flowing(Date.now(), 60_000, "every symbol ticking and every user valued");

      const victim = await stack.streamLeader(`KV_${buckets.leases.name}`);
      const killedAt = await stack.kill(victim);
      const ticksResumed = await eventually(() => {
        const counts = new Map<string, number>();
        for (const t of ticks) {
          if (t.at > killedAt) counts.set(t.symbol, (counts.get(t.symbol) ?? 0) + 1);
        }
        return SYMBOLS.every((s) => (counts.get(s) ?? 0) >= 2) && Date.now() - killedAt;
      }, { timeoutMs: RESUME_MS, intervalMs: 50, what: "ticks of every symbol after the kill" })
        .catch((e) => {
          throw new Error(`${e.message}\n${stack.logs()}`);
        });
      // A value computed after the kill: one second after it, past any already in flight.
      const valuesResumed = await eventually(
        () =>
          users.every((u) => values.get(u)!.some((v) => v.at > killedAt + 1_000)) &&
          Date.now() - killedAt,
        { timeoutMs: RESUME_MS, intervalMs: 50, what: "a value for every user after the kill" },
      ).catch((e) => {
        throw new Error(`${e.message}\n${stack.logs()}`);
      });
      // The longest silence of any symbol, and of any user's value, across the kill.
      const longestGap = (times: number[]) =>
        times.reduce(
          (m, t, i) => (i && t > killedAt - 2_000 ? Math.max(m, t - times[i - 1]) : m),
          0,
        );
      const tickGap = Math.max(
        ...SYMBOLS.map((s) => longestGap(ticks.filter((t) => t.symbol === s).map((t) => t.at))),
      );
      const valueGap = Math.max(...users.map((u) => longestGap(values.get(u)!.map((v) => v.at))));

      await stack.restart(victim);
      const restartedAt = Date.now();
      const afterRestart = await flowing(restartedAt, RESUME_MS, "flowing after the restart");

      // Every held symbol is assigned to exactly one live shard (or the poller), and ticks.
      const kvm = new Kvm(stack.nc);
      const assignments = await kvm.open(buckets.symbolAssignments.name);
      const leases = await kvm.open(buckets.leases.name);
      const placed: string[] = [];
      for await (const key of await assignments.keys()) {
        const e = await assignments.get(key);
        if (e?.operation !== "PUT") continue;
        const stocks = decode(SymbolAssignment, e.value).stocks;
        placed.push(...stocks);
        if (key.startsWith("shard.") && stocks.length) {
          const shard = key.slice("shard.".length);
          const lease = await leases.get(kvKeys.shardLease(shard));
          assert.equal(lease?.operation, "PUT", `shard ${shard} has a holder`);
        }
      }
      assert.deepEqual([...placed].sort(), [...SYMBOLS].sort(), "each symbol on one target");

      const regressions = users.flatMap((u) => {
        const seqs = values.get(u)!.map((v) => v.seq);
        return seqs.flatMap((
          s,
          i,
        ) => (i && s <= seqs[i - 1] ? [`${u}: ${seqs[i - 1]} → ${s}`] : []));
      });
      printFigures("leases-leader", {
        killed: victim,
        ticks: ticks.length,
        values: [...values.values()].reduce((n, v) => n + v.length, 0),
        ticks_resumed_ms: ticksResumed,
        values_resumed_ms: valuesResumed,
        longest_tick_gap_ms: tickGap,
        longest_value_gap_ms: valueGap,
        flowing_after_restart_ms: afterRestart,
        seq_regressions: regressions.length,
        symbols_placed: `${new Set(placed).size}/${SYMBOLS.length}`,
      });
      assert.deepEqual(regressions, [], "seq went backwards");
      assert.ok(ticksResumed <= RESUME_MS && valuesResumed <= RESUME_MS);
    } finally {
      await stack.close();
      await sandbox.close();
    }
  },
});
