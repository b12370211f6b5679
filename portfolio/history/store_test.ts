import assert from "node:assert/strict";
import type { Sql } from "@meridian/runtime";
import { testDatabase } from "@meridian/runtime/testing";
import { marketClose } from "./market_days.ts";
import { readPoints, recordPoints, replaceReconstructed, thinIntraday } from "./store.ts";

async function seedUser(sql: Sql) {
  const [u] = await sql`insert into users (email, password_hash)
    values (${`h${crypto.randomUUID().slice(0, 8)}@example.com`}, ${"x".repeat(40)}) returning id`;
  const [c] = await sql`insert into connections
      (user_id, provider, external_id, institution, secret_key_id, secret_ciphertext)
    values (${u.id}, 'plaid', ${crypto.randomUUID()}, 'Bank', 'k1', ${new Uint8Array([1])})
    returning id`;
  const [a] = await sql`insert into accounts
      (user_id, connection_id, provider, external_id, name, type, currency, synced_at)
    values (${u.id}, ${c.id}, 'plaid', 'acc', 'Brokerage', 'brokerage', 'USD', now()) returning id`;
  return { userId: u.id as string, accountId: a.id as string };
}

Deno.test("value history: idempotent points, reconstruction, thinning, reads", async () => {
  const db = await testDatabase();
  try {
    const { sql } = db;
    const { userId, accountId } = await seedUser(sql);
    const t0 = new Date("2026-11-30T15:00:00Z");
    const at = (min: number) => new Date(t0.getTime() + min * 60_000);
    const point = (min: number, value: string, account: string | null = null) => ({
      user_id: userId,
      account_id: account,
      at: at(min),
      value,
      currency: "USD",
    });

    // Intraday every 5 minutes for the portfolio and the account; a repeat changes nothing.
    assert.equal(
      await recordPoints(sql, "intraday", [point(0, "100.5"), point(0, "60", accountId)]),
      2,
    );
    assert.equal(await recordPoints(sql, "intraday", [point(0, "999")]), 0);
    for (let m = 5; m < 240; m += 5) await recordPoints(sql, "intraday", [point(m, `${100 + m}`)]);
    const all = await readPoints(sql, userId, [{
      kinds: ["intraday"],
      from: at(-60),
      to: at(600),
    }]);
    assert.equal(all.length, 48);
    assert.equal(all[0].value, "100.5");
    assert.equal(all[47].value, "335");
    // Several points of one row in one call, one of them late: all kept, in time order.
    await recordPoints(sql, "intraday", [point(240, "1", accountId), point(250, "3", accountId)]);
    await recordPoints(sql, "intraday", [point(245, "2", accountId)]);
    assert.deepEqual(
      (await readPoints(sql, accountId, [{ kinds: ["intraday"], from: at(239), to: at(251) }])).map(
        (p) => p.value,
      ),
      ["1", "2", "3"],
    );

    // Bucketed: the last point of each hour, of each half hour.
    const hourly = await readPoints(sql, userId, [{
      kinds: ["intraday"],
      from: at(-60),
      to: at(600),
      bucketMs: 3_600_000,
    }]);
    assert.deepEqual(hourly.map((p) => p.value), ["155", "215", "275", "335"]);
    const halfHourly = await readPoints(sql, userId, [{
      kinds: ["intraday"],
      from: at(-60),
      to: at(600),
      bucketMs: 1_800_000,
    }]);
    assert.deepEqual(halfHourly.map((p) => p.value), [
      "125",
      "155",
      "185",
      "215",
      "245",
      "275",
      "305",
      "335",
    ]);
    const account = await readPoints(sql, accountId, [{
      kinds: ["intraday"],
      from: at(-60),
      to: at(600),
    }]);
    assert.deepEqual(account.map((p) => p.value), ["60", "1", "2", "3"]);

    // Written an hour to a row; thinning keeps the last point of each hour, a day to a row.
    const rows = async () =>
      (await sql<{ n: number }[]>`select count(*)::int as n from value_history
                                  where scope = ${userId} and kind = 'intraday'`)[0].n;
    assert.equal(await rows(), 4);
    assert.equal(await thinIntraday(sql, "2026-12-01"), 2); // the portfolio's day, the account's
    assert.equal(await rows(), 1);
    const thinned = await readPoints(sql, userId, [{
      kinds: ["intraday"],
      from: at(-60),
      to: at(600),
    }]);
    assert.deepEqual(thinned.map((p) => p.value), ["155", "215", "275", "335"]);
    assert.equal(await thinIntraday(sql, "2026-12-01"), 0);

    // Reconstructed months are replaced whole; daily points are read beside them.
    const series = (values: string[]) => ({
      user_id: userId,
      account_id: null,
      currency: "USD",
      points: values.map((v, i) => ({
        day: `2026-10-${String(27 + i).padStart(2, "0")}`,
        value: v,
      })),
    });
    await sql.begin((tx) =>
      replaceReconstructed(tx, series(["1", "2", "3"]), "2026-10-27", "2026-10-29")
    );
    await sql.begin((tx) =>
      replaceReconstructed(tx, series(["4", "5"]), "2026-10-27", "2026-10-28")
    );
    await recordPoints(sql, "daily", [{ ...point(0, "7"), at: marketClose("2026-10-28") }]);
    const daily = await readPoints(sql, userId, [{
      kinds: ["daily", "reconstructed"],
      from: new Date("2026-10-01T00:00:00Z"),
      to: new Date("2026-11-01T00:00:00Z"),
    }]);
    assert.deepEqual(daily.map((p) => [p.kind, p.value]), [
      ["reconstructed", "4"],
      ["daily", "7"],
      ["reconstructed", "5"],
    ]);

    // A deleted account takes its history with it, and is not recorded again.
    await sql`delete from accounts where id = ${accountId}`;
    assert.equal(await recordPoints(sql, "intraday", [point(300, "1", accountId)]), 0);
    const [{ n }] =
      await sql`select count(*)::int as n from value_history where scope = ${accountId}`;
    assert.equal(n, 0);
  } finally {
    await db.close();
  }
});
