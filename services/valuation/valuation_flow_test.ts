/**
 * The whole path from a trade to a portfolio value: the sandbox's Alpaca trades, `prices`
 * publishes the ticks, `valuation` (a process) values the user's synced holdings on each
 * and publishes `portfolio.value.<user>`; a sync that changes the holdings shows in the next
 * value. Every value is checked against the committed JSON Schema.
 */
import assert from "node:assert/strict";
import { Decimal } from "decimal.js";
import { decode, HoldingsChanged, PortfolioValue, subjects } from "@meridian/proto";
import { schemaValidator } from "@meridian/proto/schema_check";
import { eventually, type ServiceProcess, startServiceProcess } from "@meridian/runtime/testing";
import { TEST_ALPACA_KEY_ID, TEST_ALPACA_SECRET } from "../sandbox/alpaca/mod.ts";
import { connectAlpaca } from "../sync/connections/mod.ts";
import { requestSync } from "../sync/testing/connect.ts";
import { serviceProcessEnv, startSyncEnv } from "../sync/testing/env.ts";

const D = Decimal.clone({ precision: 1_000 });
const PUBLISH_MS = 250;

Deno.test({
  name: "a tick moves portfolio.value by exactly Δprice × quantity; a sync shows in the next value",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const env = await startSyncEnv();
    const procs: ServiceProcess[] = [];
    try {
      const base = serviceProcessEnv(env, { VALUE_PUBLISH_MS: String(PUBLISH_MS) });
      await env.admin("/alpaca/ticks", { interval_ms: 100 });
      const main = (name: string) => new URL(`../${name}/main.ts`, import.meta.url);
      const valuation = startServiceProcess(main("valuation"), base);
      procs.push(
        startServiceProcess(main("symbols"), base),
        startServiceProcess(main("prices"), base),
        valuation,
      );
      const validate = await schemaValidator("PortfolioValue");
      const user = await env.user();
      const values: { at: number; value: PortfolioValue }[] = [];
      const holdings: { at: number; h: HoldingsChanged }[] = [];
      const subs = [
        env.deps.nc.subscribe(subjects.portfolioValue(user), {
          callback: (_e, m) => {
            const json = JSON.parse(new TextDecoder().decode(m.data));
            assert.equal(validate(json), null, "a value that breaks the JSON Schema");
            values.push({ at: Date.now(), value: decode(PortfolioValue, m.data) });
          },
        }),
        env.deps.nc.subscribe(subjects.holdingsChanged(user), {
          callback: (_e, m) =>
            void holdings.push({ at: Date.now(), h: decode(HoldingsChanged, m.data) }),
        }),
      ];
      const conn = await connectAlpaca(env.deps, user, {
        keyId: TEST_ALPACA_KEY_ID,
        secret: TEST_ALPACA_SECRET,
        paper: true,
      });
      await requestSync(env, user, "alpaca", [conn.id]);
      await eventually(() => holdings.length > 0, { timeoutMs: 30_000, what: "the first sync" });
      const quantities = (h: HoldingsChanged) => {
        const q = new Map<string, Decimal>();
        for (const a of h.accounts) {
          for (const p of a.positions) {
            if (!p.instrument) continue;
            q.set(p.instrument.symbol, (q.get(p.instrument.symbol) ?? new D(0)).plus(p.quantity));
          }
        }
        return q;
      };
      const held = quantities(holdings[0].h);
      assert.ok(held.size > 0, "the test account holds something");

      // Values whose quotes moved: each step is exactly Σ quantity × Δprice.
      // Once every held symbol has a live price (the first values may carry brokerage prices).
      const quoted = (v: PortfolioValue) => [...held.keys()].every((sym) => sym in v.quotes);
      const afterSync = () => values.filter((v) => v.at > holdings[0].at && quoted(v.value));
      await eventually(() => afterSync().length >= 6, {
        timeoutMs: 30_000,
        what: "six values with live prices after the sync",
      });
      const steady = afterSync();
      let moved = 0;
      for (let i = 1; i < steady.length; i++) {
        const [a, b] = [steady[i - 1].value, steady[i].value];
        let expected = new D(0);
        for (const [symbol, qty] of held) {
          const pa = a.quotes[symbol], pb = b.quotes[symbol];
          assert.ok(pa && pb, `a quote for ${symbol}`);
          expected = expected.plus(qty.times(new D(pb[0]).minus(pa[0])));
        }
        const actual = new D(b.total).minus(a.total);
        assert.equal(actual.toFixed(), expected.toFixed(), `value ${b.seq} after ${a.seq}`);
        if (!actual.isZero()) moved++;
        assert.ok(b.seq > a.seq, "seq strictly increasing");
      }
      assert.ok(moved > 0, "ticks moved the value");

      // The user buys NVDA; the sync's holdings.changed shows in the next value.
      await env.admin("/holdings", {
        provider: "alpaca",
        connection: TEST_ALPACA_KEY_ID,
        symbol: "NVDA",
        quantity: "3",
      });
      const before = holdings.length;
      await requestSync(env, user, "alpaca", [conn.id]);
      await eventually(() => holdings.length > before, { timeoutMs: 30_000, what: "the sync" });
      const syncedAt = holdings[before].at;
      await eventually(() => values.some((v) => v.at > syncedAt && "NVDA" in v.value.quotes), {
        timeoutMs: 10_000,
        what: "a value with NVDA after the sync",
      });
      const first = values.find((v) => v.at > syncedAt && "NVDA" in v.value.quotes)!;
      const lag = first.at - syncedAt;
      console.log(`NVDA in the value ${lag} ms after holdings.changed`);
      // Within one publish interval, plus the price's first snapshot and a database read.
      assert.ok(lag <= PUBLISH_MS + 2_000, `reflected after ${lag} ms`);
      const nvda = first.value.quotes.NVDA;
      const rest = [...held].reduce(
        (sum, [s, q]) => sum.plus(q.times(first.value.quotes[s][0])),
        new D(0),
      );
      assert.equal(
        new D(first.value.positions_value).toFixed(),
        rest.plus(new D(3).times(nvda[0])).toFixed(),
      );
      for (const s of subs) s.unsubscribe();
      assert.equal(await valuation.readyz(), 200);
    } finally {
      await Promise.all(procs.map((p) => p.kill("SIGKILL")));
      await env.close();
    }
  },
});
