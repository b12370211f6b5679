/**
 * The whole path from a brokerage to a price: a user buys a symbol at the sandbox's Alpaca,
 * the sync writes it and announces `holdings.changed`, `symbols` assigns it, and `prices`
 * (processes) streams it; when the last holder sells, it is unsubscribed.
 */
import assert from "node:assert/strict";
import { decode, HoldingsChanged, PriceTick, subjects } from "@meridian/proto";
import { eventually, type ServiceProcess, startServiceProcess } from "@meridian/runtime/testing";
import { TEST_ALPACA_KEY_ID, TEST_ALPACA_SECRET } from "../sandbox/alpaca/mod.ts";
import { connectAlpaca } from "../sync/connections/mod.ts";
import { requestSync } from "../sync/testing/connect.ts";
import { serviceProcessEnv, startSyncEnv } from "../sync/testing/env.ts";

Deno.test({
  name:
    "a newly bought symbol ticks within 5 s of its sync; sold by its last holder, it is dropped",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const env = await startSyncEnv();
    const procs: ServiceProcess[] = [];
    try {
      const base = serviceProcessEnv(env);
      const symbols = startServiceProcess(new URL("../symbols/main.ts", import.meta.url), base);
      const prices = startServiceProcess(new URL("./main.ts", import.meta.url), base);
      procs.push(symbols, prices);
      const user = await env.user();
      const conn = await connectAlpaca(env.deps, user, {
        keyId: TEST_ALPACA_KEY_ID,
        secret: TEST_ALPACA_SECRET,
        paper: true,
      });
      await eventually(
        async () => (await symbols.readyz()) === 200 && (await prices.readyz()) === 200,
        {
          timeoutMs: 60_000,
          what: "symbols and prices ready",
        },
      );

      // When a holdings.changed for the user arrived, and whether it had NVDA.
      const changed: { at: number; nvda: boolean }[] = [];
      const ticks: { at: number; tick: PriceTick }[] = [];
      const subs = [
        env.deps.nc.subscribe(subjects.holdingsChangedAll, {
          callback: (_e, m) => {
            const h = decode(HoldingsChanged, m.data);
            if (h.user_id !== user) return;
            const nvda = h.accounts.some((a) => a.positions.some((p) => p.symbol === "NVDA"));
            changed.push({ at: Date.now(), nvda });
          },
        }),
        env.deps.nc.subscribe(subjects.price("NVDA"), {
          callback: (_e, m) => void ticks.push({ at: Date.now(), tick: decode(PriceTick, m.data) }),
        }),
      ];

      // The user buys NVDA at the brokerage; a refresh syncs it.
      await env.admin("/holdings", {
        provider: "alpaca",
        connection: TEST_ALPACA_KEY_ID,
        symbol: "NVDA",
        quantity: "3",
      });
      await requestSync(env, user, "alpaca", [conn.id]);
      await eventually(() => changed.some((c) => c.nvda), {
        timeoutMs: 30_000,
        what: "the sync's holdings.changed with NVDA",
      });
      const syncedAt = changed.find((c) => c.nvda)!.at;
      await eventually(() => ticks.some((t) => t.at >= syncedAt), {
        timeoutMs: 5_000,
        what: "a tick on prices.NVDA within 5 s of the sync",
      });
      const first = ticks.find((t) => t.at >= syncedAt)!;
      assert.equal(first.tick.symbol, "NVDA");
      assert.match(first.tick.price, /^\d+(\.\d+)?$/);
      console.log(`first NVDA tick ${first.at - syncedAt} ms after holdings.changed`);
      await eventually(() => ticks.filter((t) => t.tick.feed === "iex").length >= 3, {
        timeoutMs: 10_000,
        what: "NVDA streaming",
      });

      // The last holder sells: NVDA leaves the assignment and the stream.
      await env.admin("/holdings", {
        provider: "alpaca",
        connection: TEST_ALPACA_KEY_ID,
        symbol: "NVDA",
        quantity: "0",
      });
      changed.length = 0;
      await requestSync(env, user, "alpaca", [conn.id]);
      await eventually(() => changed.some((c) => !c.nvda), {
        timeoutMs: 30_000,
        what: "the sell's sync",
      });
      await eventually(
        async () => (await prices.metric("meridian_prices_streamed_symbols")) === 1,
        {
          timeoutMs: 10_000,
          what: "the stream acknowledging only AAPL",
        },
      );
      for (const s of subs) s.unsubscribe();
    } finally {
      await Promise.all(procs.map((p) => p.kill("SIGKILL")));
      await env.close();
    }
  },
});
