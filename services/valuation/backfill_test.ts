/**
 * History reconstruction end to end: a SnapTrade connection syncs, the valuation process
 * rebuilds its accounts' daily values from the transactions with the sandbox's daily bars, and
 * the values match the sandbox's closes × the holdings walked back on sampled days; the
 * portfolio total is the sum of its accounts; a resync rebuilds without duplicating.
 */
import assert from "node:assert/strict";
import { Exact } from "@meridian/portfolio/exact";
import { addDays, nyDay, weekdaysBetween } from "@meridian/portfolio/history";
import { eventually, type ServiceProcess, startServiceProcess } from "@meridian/runtime/testing";
import { DEMO_ALPACA_DATA_KEYS } from "@meridian/sandbox/data_keys";
import { connectSnaptrade, requestSync } from "../sync/testing/connect.ts";
import { serviceProcessEnv, startSyncEnv } from "../sync/testing/env.ts";

const DATA_KEY = DEMO_ALPACA_DATA_KEYS[0];
const DAYS = 400; // back before the demo account's first deposit (2025-11-03)

Deno.test({
  name: "a synced connection's history is rebuilt from its transactions and the sandbox's bars",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const env = await startSyncEnv();
    const procs: ServiceProcess[] = [];
    try {
      const sql = env.deps.sql;
      const valuation = startServiceProcess(
        new URL("./main.ts", import.meta.url),
        serviceProcessEnv(env, { HISTORY_BACKFILL_DAYS: String(DAYS) }),
      );
      procs.push(valuation);
      const user = await env.user();
      const conn = await connectSnaptrade(env, user, "SANDBOX");
      await requestSync(env, user, "snaptrade", [conn.id], "initial");
      const built = async () =>
        (await sql<{ synced_at: Date; built_at: Date }[]>`
          select synced_at, built_at from history_backfills where connection_id = ${conn.id}`)[0];
      await eventually(async () => (await built()) !== undefined, {
        timeoutMs: 60_000,
        what: `the rebuild (valuation log: ${valuation.output().slice(-2000)})`,
      });

      const [account] = await sql<{ id: string }[]>`
        select id from accounts where connection_id = ${conn.id}`;
      const series = async (scope: string) =>
        new Map(
          (await sql<{ day: string; value: string }[]>`
            select (u.t at time zone 'America/New_York')::date::text as day, u.v::text as value
              from value_history h, unnest(h.at, h.value) as u(t, v)
             where h.scope = ${scope} and h.kind = 'reconstructed'`).map((r) => [r.day, r.value]),
        );
      const accountSeries = await series(account.id);
      const today = nyDay(Date.now());
      const days = weekdaysBetween(addDays(today, -DAYS), addDays(today, -1));
      assert.equal(accountSeries.size, days.length, "a value for every weekday of the window");

      // Independently: today's holdings walked back through the transactions, at the bars' closes.
      const positions = await sql<{ symbol: string; quantity: string }[]>`
        select coalesce(i.symbol, p.symbol) as symbol, p.quantity::text as quantity
          from positions p left join instruments i on i.id = p.instrument_id
         where p.account_id = ${account.id}`;
      const [{ cash }] = await sql<{ cash: string }[]>`
        select cash::text as cash from balances where account_id = ${account.id}`;
      const txns = await sql<
        {
          type: string;
          symbol: string | null;
          quantity: string | null;
          amount: string;
          day: string;
        }[]
      >`select type, symbol, quantity::text as quantity, amount::text as amount,
               trade_date::text as day
          from transactions where account_id = ${account.id}`;
      const symbols = positions.map((p) => p.symbol);
      const url = new URL(`${env.sandboxUrl}/alpaca-data/v2/stocks/bars`);
      url.search = new URLSearchParams({
        symbols: symbols.join(","),
        timeframe: "1Day",
        start: days[0],
        end: today,
        limit: "10000",
      }).toString();
      const res = await fetch(url, {
        headers: { "APCA-API-KEY-ID": DATA_KEY.keyId, "APCA-API-SECRET-KEY": DATA_KEY.secret },
      });
      assert.equal(res.status, 200);
      const bars = (await res.json()).bars as Record<string, { t: string; c: number }[]>;
      const closeOn = (symbol: string, day: string) =>
        bars[symbol]?.find((b) => nyDay(Date.parse(b.t)) === day)?.c;
      // Days before, between and after the account's trades.
      const sampled = [0, 3, 6, 10, 40, 100, 200, days.length - 1].map((i) => days[i]);
      assert.ok(
        txns.filter((t) => t.day > days[0] && t.type === "buy").length >= 3,
        "trades inside the window",
      );
      for (const day of sampled) {
        let value = new Exact(cash);
        const held = new Map(positions.map((p) => [p.symbol, new Exact(p.quantity)]));
        for (const t of txns) {
          if (t.day <= day) continue;
          value = value.minus(t.amount);
          if (t.symbol && t.quantity && (t.type === "buy" || t.type === "sell")) {
            const q = new Exact(t.quantity).abs();
            const sym = t.symbol.trim().toUpperCase();
            held.set(sym, (held.get(sym) ?? new Exact(0)).minus(t.type === "buy" ? q : q.neg()));
          }
        }
        for (const [symbol, q] of held) {
          if (q.isZero()) continue;
          const close = closeOn(symbol, day);
          assert.ok(close !== undefined, `a close of ${symbol} on ${day}`);
          value = value.plus(q.times(String(close)));
        }
        assert.equal(accountSeries.get(day), value.toFixed(), `the account's value on ${day}`);
      }

      // The portfolio's total: this user's only account.
      assert.deepEqual(await series(user), accountSeries);

      // A resync rebuilds: the same points, none twice.
      const first = await built();
      await requestSync(env, user, "snaptrade", [conn.id], "manual");
      await eventually(async () => (await built()).built_at > first.built_at, {
        timeoutMs: 60_000,
        what: "the rebuild after the resync",
      });
      const [{ n }] = await sql<{ n: number }[]>`
        select count(*)::int as n from value_history h, unnest(h.at) as u(t)
         where h.scope = ${account.id} and h.kind = 'reconstructed'`;
      assert.equal(n, days.length);
    } finally {
      for (const p of procs) await p.kill("SIGKILL").catch(() => {});
      await env.close();
    }
  },
});
