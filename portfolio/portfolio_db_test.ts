import assert from "node:assert/strict";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { decode, subjects, SyncRequest } from "@meridian/proto";
import { migrate, MIGRATIONS_DIR, provisionAll, readMigrations, type Sql } from "@meridian/runtime";
import { startNats, testDatabase } from "@meridian/runtime/testing";
import { listPendingUpdates, NotFoundError, readHoldings, requestRefresh } from "./mod.ts";
import { HoldingsView, PendingUpdatesView } from "./views.ts";

async function seed(sql: Sql) {
  const [u] = await sql`insert into users (email, password_hash)
    values (${`u${crypto.randomUUID().slice(0, 8)}@example.com`}, ${"x".repeat(40)}) returning id`;
  const userId = u.id as string;
  const conn = async (provider: string, institution: string, synced: Date | null) => {
    const [c] = await sql`insert into connections
        (user_id, provider, external_id, institution, secret_key_id, secret_ciphertext, last_synced_at)
      values (${userId}, ${provider}, ${crypto.randomUUID()}, ${institution},
              ${provider === "snaptrade" ? null : "k1"},
              ${provider === "snaptrade" ? null : new Uint8Array([1])}, ${synced})
      returning id`;
    return c.id as string;
  };
  return { userId, conn };
}

Deno.test("readHoldings and listPendingUpdates read PostgreSQL", async () => {
  const db = await testDatabase();
  try {
    const { userId, conn } = await seed(db.sql);
    const now = new Date();
    const c1 = await conn("plaid", "Vanguard", now);
    const [a] = await db.sql`insert into accounts
        (user_id, connection_id, provider, external_id, name, type, currency, synced_at)
      values (${userId}, ${c1}, 'plaid', 'acc-1', 'Brokerage', 'brokerage', 'USD', ${now})
      returning id`;
    await db.sql`insert into positions
        (user_id, account_id, connection_id, provider, symbol, security_type, quantity, price,
         previous_close, cost_basis, currency, synced_at)
      values (${userId}, ${a.id}, ${c1}, 'plaid', 'VTI', 'etf', 3.3, 200.10, 199.95, 500, 'USD',
              ${now})`;
    await db.sql`insert into balances (account_id, user_id, currency, cash, synced_at)
      values (${a.id}, ${userId}, 'USD', 12.34, ${now})`;
    await db.sql`insert into pending_updates (connection_id, user_id, reason)
      values (${c1}, ${userId}, 'HOLDINGS')`;

    const v = HoldingsView.parse(await readHoldings(db.sql, userId));
    assert.equal(v.positions[0].value, "660.33");
    assert.equal(v.totals[0].total, "672.67");
    assert.equal(v.positions[0].day_change, "0.495"); // 3.3 × 0.15, from NUMERIC strings
    assert.equal(v.totals[0].day_change, "0.495");
    assert.deepEqual(v.totals[0].day_change_coverage, { known: 1, of: 1 });
    assert.equal(v.providers[0].has_pending_updates, true);
    const p = PendingUpdatesView.parse(await listPendingUpdates(db.sql, userId));
    assert.equal(p.connections.length, 1);
    assert.equal(p.connections[0].institution, "Vanguard");

    // Another user sees nothing of it.
    const other = await seed(db.sql);
    assert.equal((await readHoldings(db.sql, other.userId)).accounts.length, 0);
    assert.equal((await listPendingUpdates(db.sql, other.userId)).has_pending_updates, false);
  } finally {
    await db.close();
  }
});

Deno.test("requestRefresh: picks, cools down atomically, publishes one request per provider", async () => {
  const db = await testDatabase();
  const nats = await startNats();
  const nc = await connect({ servers: nats.url });
  try {
    await provisionAll({ nc });
    const js = jetstream(nc);
    const jsm = await jetstreamManager(nc);
    const { userId, conn } = await seed(db.sql);
    const now = new Date();
    const fresh = await conn("plaid", "Fresh", now);
    const flagged = await conn("plaid", "Flagged", now);
    const stale = await conn("snaptrade", "Stale", new Date(now.getTime() - 25 * 3_600_000));
    await conn("plaid", "Never", null).then((id) =>
      db.sql`update connections set status = 'error', status_reason = 'x' where id = ${id}`
    );
    await db.sql`insert into pending_updates (connection_id, user_id, reason)
      values (${flagged}, ${userId}, 'HOLDINGS')`;

    const deps = { sql: db.sql, js };
    const r = await requestRefresh(deps, { userId, cooldownS: 60, ttlH: 24, now });
    assert.equal(r.kind, "accepted");
    if (r.kind !== "accepted") return;
    assert.deepEqual(
      r.connections.map((c) => c.connection_id).sort(),
      [flagged, stale].sort(),
    );
    assert.equal(r.request_ids.length, 2);
    const info = await jsm.streams.info("SYNC");
    assert.equal(info.state.messages, 2);
    const m = await js.streams.get("SYNC").then((s) =>
      s.getMessage({ last_by_subj: subjects.syncRequest("plaid", userId) })
    );
    const req = decode(SyncRequest, m!.data);
    assert.deepEqual(req.connection_ids, [flagged]);
    assert.equal(req.reason, "manual");

    // Inside the cooldown: nothing published.
    const later = new Date(now.getTime() + 10_500);
    const again = await requestRefresh(deps, { userId, cooldownS: 60, ttlH: 24, now: later });
    assert.deepEqual(again, { kind: "cooldown", retry_after_s: 50 });

    // Named connections: someone else's id is NotFound; a fresh one goes when cooled down.
    const other = await seed(db.sql);
    const theirs = await other.conn("plaid", "Theirs", now);
    await assert.rejects(
      requestRefresh(deps, { userId, connectionIds: [theirs], cooldownS: 60, ttlH: 24 }),
      NotFoundError,
    );
    await assert.rejects(
      requestRefresh(deps, { userId, connectionIds: ["nope"], cooldownS: 60, ttlH: 24 }),
      NotFoundError,
    );
    const named = await requestRefresh(deps, {
      userId,
      connectionIds: [fresh],
      cooldownS: 60,
      ttlH: 24,
      now: new Date(now.getTime() + 61_000),
    });
    assert.equal(named.kind, "accepted");

    // Nothing flagged or stale for the other user.
    assert.deepEqual(
      await requestRefresh(deps, { userId: other.userId, cooldownS: 60, ttlH: 24, now }),
      { kind: "up_to_date" },
    );

    // Concurrent calls: exactly one passes.
    const u3 = await seed(db.sql);
    await u3.conn("plaid", "One", null);
    const results = await Promise.all(
      Array.from(
        { length: 8 },
        () => requestRefresh(deps, { userId: u3.userId, cooldownS: 60, ttlH: 24 }),
      ),
    );
    assert.equal(results.filter((x) => x.kind === "accepted").length, 1);
    assert.equal(results.filter((x) => x.kind === "cooldown").length, 7);
  } finally {
    await nc.close();
    await nats.close();
    await db.close();
  }
});

Deno.test("existing positions are migrated onto instruments", async () => {
  const db = await testDatabase({ migrate: false });
  try {
    const all = await readMigrations(MIGRATIONS_DIR);
    await migrate(db.sql, all.filter((m) => m.version < 60));
    const { userId, conn } = await seed(db.sql);
    const now = new Date();
    const ids: Record<string, string> = {};
    for (const provider of ["snaptrade", "plaid", "alpaca"]) {
      const c = await conn(provider, provider, now);
      const [a] = await db.sql`insert into accounts
          (user_id, connection_id, provider, external_id, name, type, currency, synced_at)
        values (${userId}, ${c}, ${provider}, 'acc', 'Brokerage', 'brokerage', 'USD', ${now})
        returning id`;
      ids[provider] = c;
      ids[`${provider}:account`] = a.id;
    }
    const position = (
      provider: string,
      symbol: string,
      type: string,
      quantity: string,
      price: string,
      option: Record<string, string> | null = null,
    ) =>
      db.sql`insert into positions (user_id, account_id, connection_id, provider, symbol,
          security_type, quantity, price, currency, option_details, provider_security_id,
          synced_at)
        values (${userId}, ${ids[`${provider}:account`]}, ${ids[provider]}, ${provider},
          ${symbol}, ${type}, ${quantity}, ${price}, 'USD',
          ${option ? db.sql.json(option) : null}, ${`${provider}-${symbol}`}, ${now})`;
    await position("snaptrade", "BTC", "crypto", "0.0523", "64250.12");
    await position("alpaca", "BTCUSD", "crypto", "0.25", "64250.12");
    await position("snaptrade", "BRK/B", "equity", "1", "450");
    await position("plaid", "BRK-B", "equity", "2", "450");
    await position("alpaca", "BRK.B", "equity", "3", "450");
    const occ = { underlying: "AAPL", strike: "250", expiration: "2027-01-15" };
    await position("snaptrade", "AAPL  270115C00250000", "option", "1", "12.35", occ);
    await position("alpaca", "AAPL270115C00250000", "option", "2", "12.35", occ);
    await position("plaid", "037833100", "equity", "4", "10.5");
    await position("plaid", "CUR:USD", "cash", "7", "1");

    await migrate(db.sql, all);
    const instruments = await db.sql`select kind, symbol, occ_symbol, snaptrade_symbol_id,
        plaid_security_id, alpaca_asset_id from instruments order by symbol`;
    assert.deepEqual(instruments.map((i) => [i.kind, i.symbol, i.occ_symbol]), [
      ["option", "AAPL270115C00250000", "AAPL  270115C00250000"],
      ["equity", "BRK.B", null],
      ["crypto", "BTC/USD", null],
    ]);
    assert.deepEqual(
      [instruments[1].snaptrade_symbol_id, instruments[1].plaid_security_id],
      ["snaptrade-BRK/B", "plaid-BRK-B"],
    );
    const v = HoldingsView.parse(await readHoldings(db.sql, userId));
    assert.deepEqual(v.positions.map((p) => [p.symbol, p.quantity, p.providers.length]), [
      ["037833100", "4", 1],
      ["AAPL270115C00250000", "3", 2],
      ["BRK.B", "6", 3],
      ["BTC/USD", "0.3023", 2],
    ]);
    const cusip = v.positions[0];
    assert.equal(cusip.instrument_id, null);
    assert.match(cusip.unresolved_reason!, /no ticker/);
    assert.equal(cusip.value, "42"); // valued at the provider's price
    assert.equal(v.positions[1].value, "3705"); // 3 × 12.35 × 100
  } finally {
    await db.close();
  }
});
