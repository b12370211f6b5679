/** Holdings from the database, pending updates, refresh with its cooldown, and NATS outages. */
import assert from "node:assert/strict";
import { jetstreamManager } from "@nats-io/jetstream";
import { encode, subjects, SyncProgress } from "@meridian/proto";
import { eventually } from "@meridian/runtime/testing";
import { call, json, login, sanitize, withHarness } from "./testing/harness.ts";
import { seedUser } from "./testing/seed.ts";

Deno.test(
  "refresh while NATS is down answers 503 at once and spends no cooldown",
  sanitize,
  async () => {
    await withHarness(async (h) => {
      const a = await seedUser(h.sql, "a@example.com", { pending: true });
      const cookie = await login(h, a.email, a.password);
      await h.natsServer.stop();
      await eventually(() => !h.nats.connected(), { what: "the api to see NATS gone" });
      const down = await call(h, "/api/holdings/refresh", { method: "POST", cookie });
      assert.equal(down.status, 503);
      assert.ok(Number(down.headers.get("retry-after")) > 0);
      assert.match((await json(down)).error, /unavailable/);
      assert.equal((await h.sql`select 1 from refresh_cooldowns`).length, 0);
      await h.natsServer.restart();
      await eventually(() => h.nats.connected(), { what: "NATS back" });
      const up = await call(h, "/api/holdings/refresh", { method: "POST", cookie });
      assert.equal(up.status, 202, await up.text());
    });
  },
);

Deno.test("holdings, pending updates, refresh with cooldown", sanitize, async () => {
  await withHarness(async (h) => {
    const a = await seedUser(h.sql, "a@example.com", { pending: true });
    // Plaid synced last: its (price, previous close) pairs value every account's AAPL and VTI
    // (one price per instrument, #11).
    await h.sql`update positions set synced_at = synced_at + interval '1 minute'
                 where user_id = ${a.userId} and provider = 'plaid'`;
    const cookie = await login(h, a.email, a.password);
    const holdings = await json(await call(h, "/api/holdings", { cookie }));
    assert.equal(holdings.user_id, a.userId);
    assert.equal(holdings.accounts.length, 2);
    const aapl = holdings.positions.find((p: { symbol: string }) => p.symbol === "AAPL");
    assert.equal(aapl.quantity, "20");
    assert.equal(aapl.accounts.length, 2);
    // Day change from Plaid's stored previous closes, as exact decimal strings, in both
    // accounts: AAPL 2 × 10 × (100.25 − 99.875), VTI 2 × 11 × (100.25 − 101).
    assert.equal(aapl.day_change, "7.5");
    assert.equal(aapl.day_change_percent, "0.38");
    assert.equal(aapl.day_change_unknown_accounts, 0);
    assert.equal(aapl.price_source, "provider");
    const vti = holdings.positions.find((p: { symbol: string }) => p.symbol === "VTI");
    assert.equal(vti.day_change, "-16.5");
    assert.equal(vti.day_change_percent, "-0.74");
    const plaidAapl = holdings.accounts[1].positions.find((p: { symbol: string }) =>
      p.symbol === "AAPL"
    );
    assert.equal(plaidAapl.previous_close, "99.875");
    assert.equal(plaidAapl.day_change, "3.75");
    assert.equal(holdings.accounts[0].positions[0].day_change, "3.75");
    assert.equal(holdings.accounts[0].positions[0].provider_previous_close, null);
    const [usd] = holdings.totals;
    assert.equal(usd.day_change, "-9");
    assert.equal(usd.day_change_percent, "-0.21"); // −9 ÷ 4219.5
    assert.deepEqual(usd.day_change_coverage, { known: 4, of: 5 });
    const snap = holdings.providers.find((p: { provider: string }) => p.provider === "snaptrade");
    assert.equal(snap.has_pending_updates, true);
    assert.ok(snap.last_synced);
    assert.equal(holdings.cash[0].amount, "2001");

    const pending = await json(await call(h, "/api/pending-updates", { cookie }));
    assert.equal(pending.has_pending_updates, true);
    assert.equal(pending.connections[0].connection_id, a.connections[0]);

    const me = await json(await call(h, "/api/me", { cookie }));
    assert.equal(me.portfolio_mode, "hybrid");

    const r1 = await call(h, "/api/holdings/refresh", { method: "POST", cookie, body: {} });
    assert.equal(r1.status, 202);
    const accepted = await json(r1);
    assert.equal(accepted.status, "accepted");
    assert.deepEqual(accepted.connections.map((c: { connection_id: string }) => c.connection_id), [
      a.connections[0],
    ]);
    const jsm = await jetstreamManager(h.nats.nc);
    const info = await jsm.streams.info("SYNC");
    assert.equal(info.state.messages, 1);

    const r2 = await call(h, "/api/holdings/refresh", { method: "POST", cookie });
    assert.equal(r2.status, 429);
    const wait = Number(r2.headers.get("retry-after"));
    assert.ok(wait > 0 && wait <= 60);
    // Even when nothing is flagged any more, a refresh inside the cooldown is 429.
    await h.sql`delete from pending_updates`;
    const r3 = await call(h, "/api/holdings/refresh", { method: "POST", cookie });
    assert.equal(r3.status, 429);
    h.clock.now += 61_000;
    const r4 = await call(h, "/api/holdings/refresh", { method: "POST", cookie });
    assert.equal(r4.status, 200);
    assert.equal((await json(r4)).status, "up_to_date");

    const bad = await call(h, "/api/holdings/refresh", {
      method: "POST",
      cookie,
      body: { connection_ids: ["not-a-uuid"] },
    });
    assert.equal(bad.status, 400);
    const malformed = await call(h, "/api/holdings/refresh", {
      method: "POST",
      cookie,
      body: "{oops",
    });
    assert.equal(malformed.status, 400);
    const wrongType = await call(h, "/api/holdings/refresh", {
      method: "POST",
      cookie,
      body: "{}",
      headers: { "content-type": "text/plain" },
    });
    assert.equal(wrongType.status, 415);
    const huge = await call(h, "/api/holdings/refresh", {
      method: "POST",
      cookie,
      body: JSON.stringify({ x: "a".repeat(100_000) }),
    });
    assert.equal(huge.status, 413);
    const unknown = await call(h, "/api/holdings/refresh", {
      method: "POST",
      cookie,
      body: { connection_ids: [crypto.randomUUID()] },
    });
    assert.equal(unknown.status, 404);
  });
});

Deno.test(
  "holdings: a sync shows at once when its event arrives, within a second otherwise",
  sanitize,
  async () => {
    await withHarness(async (h) => {
      const a = await seedUser(h.sql, "a@example.com");
      const cookie = await login(h, a.email, a.password);
      const quantity = async () => {
        const res = await call(h, "/api/holdings", { cookie });
        const view = await json(res);
        return view.positions.find((p: { symbol: string }) => p.symbol === "VTI").quantity;
      };
      assert.equal(await quantity(), "22"); // 11 in each of two accounts
      const first = await call(h, "/api/holdings", {
        cookie,
        headers: { "accept-encoding": "gzip" },
      });
      assert.equal(first.headers.get("content-encoding"), "gzip");
      const etag = first.headers.get("etag")!;
      await first.body?.cancel();
      const notModified = await call(h, "/api/holdings", {
        cookie,
        headers: { "if-none-match": etag },
      });
      assert.equal(notModified.status, 304);

      // A sync writes (and bumps the version) and announces itself: visible at once.
      const sync = async (q: string) => {
        await h.sql.begin(async (tx) => {
          await tx`update positions set quantity = ${q} where user_id = ${a.userId} and symbol = 'VTI'`;
          await tx`update users set holdings_version = holdings_version + 1 where id = ${a.userId}`;
        });
      };
      await sync("99");
      // The cache listens before anyone else: once another listener has the event, the next
      // read must be fresh, with no wait.
      let heard = false;
      h.app.hub.onEvent((userId, event) => heard ||= userId === a.userId && event === "sync");
      h.nats.nc.publish(
        subjects.syncProgress(a.userId),
        encode(SyncProgress, {
          user_id: a.userId,
          request_id: crypto.randomUUID(),
          sync_run_id: null,
          connection_id: a.connections[0],
          provider: "snaptrade",
          phase: "succeeded",
          at: new Date().toISOString(),
        }),
      );
      await h.nats.nc.flush();
      await eventually(() => heard, { what: "the sync event" });
      assert.equal(await quantity(), "198");

      // Written by another instance's sync with no event here: visible within a second.
      await sync("7");
      await eventually(async () => await quantity() === "14", {
        what: "the other instance's sync",
      });
      const changed = await call(h, "/api/holdings", {
        cookie,
        headers: { "if-none-match": etag },
      });
      assert.equal(changed.status, 200);
      await changed.body?.cancel();
    });
  },
);
