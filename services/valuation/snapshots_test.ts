/**
 * Value history while ticks flow: the valuation process records an intraday point per interval
 * for the portfolio and each account, and a restart in the middle of the day leaves no
 * duplicate point and no gap beyond one interval.
 */
import assert from "node:assert/strict";
import { eventually, type ServiceProcess, startServiceProcess } from "@meridian/runtime/testing";
import { TEST_ALPACA_KEY_ID, TEST_ALPACA_SECRET } from "../sandbox/alpaca/mod.ts";
import { connectAlpaca } from "../sync/connections/mod.ts";
import { requestSync } from "../sync/testing/connect.ts";
import { serviceProcessEnv, startSyncEnv } from "../sync/testing/env.ts";

const INTERVAL_S = 6;

Deno.test({
  name: "intraday snapshots while ticks flow; a restart leaves no duplicate and no gap",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const env = await startSyncEnv();
    const procs: ServiceProcess[] = [];
    try {
      const base = serviceProcessEnv(env, {
        VALUE_PUBLISH_MS: "250",
        SNAPSHOT_INTRADAY_S: String(INTERVAL_S),
      });
      await env.admin("/alpaca/ticks", { interval_ms: 100 });
      const main = (name: string) => new URL(`../${name}/main.ts`, import.meta.url);
      procs.push(
        startServiceProcess(main("symbols"), base),
        startServiceProcess(main("prices"), base),
      );
      let valuation = startServiceProcess(main("valuation"), base);
      procs.push(valuation);
      const user = await env.user();
      const conn = await connectAlpaca(env.deps, user, {
        keyId: TEST_ALPACA_KEY_ID,
        secret: TEST_ALPACA_SECRET,
        paper: true,
      });
      await requestSync(env, user, "alpaca", [conn.id]);
      const sql = env.deps.sql;
      const points = async (scope: string) =>
        (await sql<{ at: Date }[]>`
          select u.a as at from value_history h, unnest(h.at) as u(a)
           where h.scope = ${scope} and h.kind = 'intraday' order by u.a`).map((r) =>
          r.at.getTime()
        );

      await eventually(async () => (await points(user)).length >= 3, {
        timeoutMs: 60_000,
        what: "three intraday points",
      });
      const [account] = await sql<
        { id: string }[]
      >`select id from accounts where user_id = ${user}`;
      assert.ok((await points(account.id)).length >= 2, "the account's own points");

      // A restart mid-interval: stopped (as a deploy would), started again.
      const before = (await points(user)).length;
      await valuation.kill("SIGTERM");
      valuation = startServiceProcess(main("valuation"), base);
      procs.push(valuation);
      await eventually(async () => (await points(user)).length >= before + 3, {
        timeoutMs: 60_000,
        what: "three more points after the restart",
      });

      const times = await points(user);
      assert.equal(new Set(times).size, times.length, "no duplicate point");
      for (const t of times) assert.equal(t % (INTERVAL_S * 1000), 0, "on interval boundaries");
      // From the last point before the restart on (before it, live prices may still be on their
      // way: the value does not move, and no point is due).
      for (let i = before; i < times.length; i++) {
        const gap = (times[i] - times[i - 1]) / 1000;
        assert.ok(gap <= 2 * INTERVAL_S, `a gap of ${gap} s between points ${i - 1} and ${i}`);
      }
    } finally {
      for (const p of procs) await p.kill("SIGKILL").catch(() => {});
      await env.close();
    }
  },
});
