/**
 * `GET /api/portfolio/history`, `/api/income` and `/api/allocation` over real PostgreSQL:
 * recorded and reconstructed points, returns from the transactions' flows, gaps with their
 * reasons, allocation totals that are the sum of their slices, validation and tenancy.
 */
import assert from "node:assert/strict";
import { Exact } from "@meridian/portfolio/exact";
import { marketClose, recordPoints, replaceReconstructed } from "@meridian/portfolio/history";
import { eventually } from "@meridian/runtime/testing";
import { call, login, sanitize, withHarness } from "./testing/harness.ts";
import { seedUser } from "./testing/seed.ts";

Deno.test("history, income and allocation", sanitize, async () => {
  await withHarness(async (h) => {
    h.clock.now = Date.parse("2026-12-01T18:00:00Z");
    const a = await seedUser(h.sql, "hist-a@example.com");
    const b = await seedUser(h.sql, "hist-b@example.com");
    const cookie = await login(h, a.email, a.password);
    const get = async (path: string) => {
      const res = await call(h, path, { cookie });
      return { status: res.status, body: await res.json() };
    };

    // Reconstructed closes for 2026-11-23..27, a deposit of 100 on the 25th, a recorded close
    // on the 27th (it wins over the reconstructed one).
    const days = ["2026-11-23", "2026-11-24", "2026-11-25", "2026-11-26", "2026-11-27"];
    const values = ["1000", "1010", "1120", "1130", "1100"];
    await h.sql.begin((tx) =>
      replaceReconstructed(
        tx,
        {
          user_id: a.userId,
          account_id: null,
          currency: "USD",
          points: days.map((day, i) => ({ day, value: values[i] })),
        },
        days[0],
        days[4],
      )
    );
    await recordPoints(h.sql, "daily", [{
      user_id: a.userId,
      account_id: null,
      at: marketClose("2026-11-27"),
      value: "1140",
      currency: "USD",
    }]);
    await h.sql`insert into transactions (user_id, account_id, connection_id, provider, external_id,
                  type, amount, currency, trade_date)
                values (${a.userId}, ${a.accounts[0]}, ${a.connections[0]}, 'snaptrade', 'dep-1',
                  'contribution', '100', 'USD', '2026-11-25')`;
    await h.sql`insert into history_backfills (connection_id, user_id, synced_at, from_day, to_day,
                  unexplained)
                values (${a.connections[1]}, ${a.userId}, now(), '2026-11-01', '2026-11-27',
                  ${
      h.sql.json([{
        account_id: a.accounts[1],
        from: "2026-11-02",
        to: "2026-11-20",
        reason: "no price history for SHOP.TO",
      }])
    })`;

    const span = await get("/api/portfolio/history?range=2026-11-23..2026-11-27");
    assert.equal(span.status, 200);
    const h1 = span.body;
    assert.equal(h1.resolution, "30m"); // a span of days: daily points where no intraday ones
    assert.deepEqual(
      h1.points.map((p: { value: string; reconstructed: boolean }) => [p.value, p.reconstructed]),
      [["1000", true], ["1010", true], ["1120", true], ["1130", true], ["1140", false]],
    );
    // TWR: 1010/1000 × 1120/(1010+100) × 1130/1120 × 1140/1130 − 1; the deposit is not growth.
    const twr = new Exact(1010).div(1000).times(new Exact(1120).div(1110))
      .times(new Exact(1130).div(1120)).times(new Exact(1140).div(1130)).minus(1);
    assert.equal(h1.returns.twr, twr.toDecimalPlaces(10).toFixed());
    assert.ok(Number(h1.returns.mwr) > 0 && h1.returns.mwr !== h1.returns.twr);
    assert.equal(h1.returns.net_contributions, "100");
    assert.ok(h1.formulas.twr.length > 20);
    assert.deepEqual(h1.gaps, []);

    const wide = (await get("/api/portfolio/history?range=2026-11-01..2026-11-27")).body;
    assert.deepEqual(wide.gaps, [{
      from: "2026-11-02",
      to: "2026-11-20",
      reason: "Plaid IRA: no price history for SHOP.TO",
    }]);
    const account = await get(
      `/api/portfolio/history?range=2026-11-01..2026-11-27&account_id=${a.accounts[1]}`,
    );
    assert.equal(account.status, 200);
    assert.deepEqual(account.body.scope, {
      kind: "account",
      account_id: a.accounts[1],
      name: "Plaid IRA",
    });
    assert.equal(account.body.gaps[0].reason, "no price history for SHOP.TO");

    // Validation and tenancy.
    for (const bad of ["5Y", "2026-13-01..2026-13-02", "2026-11-27..2026-11-01"]) {
      const r = await get(`/api/portfolio/history?range=${bad}`);
      assert.equal(r.status, 400, bad);
      assert.ok(r.body.error);
    }
    assert.equal((await get(`/api/portfolio/history?account_id=${b.accounts[0]}`)).status, 404);
    assert.equal((await get(`/api/income?account_id=${b.accounts[0]}`)).status, 404);
    assert.equal((await get(`/api/allocation?account_id=${b.accounts[0]}`)).status, 404);
    assert.equal((await get("/api/portfolio/history?account_id=nope")).status, 400);
    assert.equal((await get("/api/allocation?by=planet")).status, 400);
    assert.equal((await get("/api/income?from=2026-12-01&to=2026-01-01")).status, 400);

    // Income by month, in the base currency.
    for (
      const [id, type, amount, day] of [
        ["div-1", "dividend", "12.5", "2026-10-05"],
        ["int-1", "interest", "3.17", "2026-11-02"],
        ["div-2", "dividend", "0.33", "2026-11-20"],
      ]
    ) {
      await h.sql`insert into transactions (user_id, account_id, connection_id, provider,
                    external_id, type, symbol, amount, currency, trade_date)
                  values (${a.userId}, ${a.accounts[0]}, ${a.connections[0]}, 'snaptrade', ${id},
                    ${type}, ${type === "dividend" ? "AAPL" : null}, ${amount}, 'USD', ${day})`;
    }
    // As a sync does when it writes transactions: the next reads see them (within the holdings
    // cache's one-second recheck).
    await h.sql`update users set holdings_version = holdings_version + 1 where id = ${a.userId}`;
    let income = (await get("/api/income?from=2026-10-01&to=2026-11-30")).body;
    await eventually(async () => {
      income = (await get("/api/income?from=2026-10-01&to=2026-11-30")).body;
      return income.months.length === 2;
    }, { timeoutMs: 5_000, what: "the new transactions in the income" });
    assert.deepEqual(income.months, [
      { month: "2026-10", dividends: "12.5", interest: "0", total: "12.5" },
      { month: "2026-11", dividends: "0.33", interest: "3.17", total: "3.5" },
    ]);
    assert.equal(income.total, "16");

    // Allocation: the slices add up to the total, by every grouping, and match the holdings.
    const holdings = (await get("/api/holdings")).body;
    for (const by of ["asset_class", "account", "currency", "instrument"]) {
      const alloc = (await get(`/api/allocation?by=${by}`)).body;
      const sum = alloc.slices.reduce(
        (s: Exact, x: { value: string }) => s.plus(x.value),
        new Exact(0),
      );
      assert.equal(sum.toFixed(), alloc.total, by);
      assert.equal(
        new Exact(alloc.total).toFixed(2),
        new Exact(holdings.base.total).toFixed(2),
        by,
      );
    }
  });
});
