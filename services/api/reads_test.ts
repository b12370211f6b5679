/** Accounts, transactions, syncs and history, and tenant isolation across every route. */
import assert from "node:assert/strict";
import { encode, PortfolioPending, subjects, SyncProgress } from "@meridian/proto";
import { eventually } from "@meridian/runtime/testing";
import { TEST_ALPACA_KEY_ID, TEST_ALPACA_SECRET } from "../sandbox/mod.ts";
import {
  call,
  connectAlpaca,
  connectSnaptrade,
  json,
  login,
  sanitize,
  withHarness,
} from "./testing/harness.ts";
import { seedUser } from "./testing/seed.ts";

Deno.test("accounts, transactions (filters, paging), syncs, history", sanitize, async () => {
  await withHarness(async (h) => {
    const a = await seedUser(h.sql, "a@example.com");
    const cookie = await login(h, a.email, a.password);
    const accounts = await json(await call(h, "/api/accounts", { cookie }));
    assert.equal(accounts.accounts.length, 2);
    assert.equal(
      (await json(await call(h, `/api/accounts/${a.accounts[0]}`, { cookie }))).id,
      a.accounts[0],
    );

    const all = await json(await call(h, "/api/transactions?limit=4", { cookie }));
    assert.equal(all.transactions.length, 4);
    assert.ok(all.next_cursor);
    const rest = await json(
      await call(h, `/api/transactions?limit=4&cursor=${all.next_cursor}`, { cookie }),
    );
    assert.equal(rest.transactions.length, 2);
    assert.equal(rest.next_cursor, null);
    const ids = new Set(
      [...all.transactions, ...rest.transactions].map((t: { id: string }) => t.id),
    );
    assert.equal(ids.size, 6);
    const divs = await json(await call(h, "/api/transactions?type=dividend", { cookie }));
    assert.equal(divs.transactions.length, 2);
    const byAcct = await json(
      await call(h, `/api/transactions?account_id=${a.accounts[0]}`, { cookie }),
    );
    assert.equal(byAcct.transactions.length, 3);
    const range = await json(
      await call(h, "/api/transactions?from=2026-02-01&to=2026-02-28", { cookie }),
    );
    assert.equal(range.transactions.length, 2);
    assert.equal(range.transactions[0].trade_date, "2026-02-15");
    assert.equal(
      (await json(await call(h, `/api/transactions/${a.transactions[0]}`, { cookie }))).id,
      a.transactions[0],
    );
    for (
      const q of [
        "type=gift",
        "limit=0",
        "limit=abc",
        "from=yesterday",
        "cursor=%%%",
        "cursor=abcdef",
        "from=2026-03-01&to=2026-01-01",
        "bogus=1",
      ]
    ) {
      const r = await call(h, `/api/transactions?${q}`, { cookie });
      assert.equal(r.status, 400, q);
      assert.ok((await json(r)).issues, q);
    }

    const syncs = await json(await call(h, "/api/syncs", { cookie }));
    assert.equal(syncs.syncs.length, 2);
    assert.equal(
      (await json(await call(h, `/api/syncs/${a.syncs[0]}`, { cookie }))).id,
      a.syncs[0],
    );

    h.clock.now = Date.now(); // after the seed's points
    const hist = await json(await call(h, "/api/portfolio/history?range=1d", { cookie }));
    assert.equal(hist.resolution, "5m");
    assert.deepEqual(hist.points.map((p: { value: string }) => p.value), ["9450.75"]);
    const year = await json(await call(h, "/api/portfolio/history?range=1Y", { cookie }));
    assert.deepEqual(year.points.map((p: { value: string }) => p.value), ["9000", "9450.75"]);
    assert.equal((await call(h, "/api/portfolio/history?range=5y", { cookie })).status, 400);

    const doc = await json(await call(h, "/api/openapi.json"));
    assert.equal(doc.openapi, "3.0.3");
    assert.ok(doc.paths["/api/holdings"].get.responses["200"]);
    assert.ok(doc.paths["/api/transactions"].get.parameters.length >= 5);
    // Trading is documented; this user has placed no order.
    assert.ok(
      doc.paths["/api/orders"].post.parameters.some((p: { name: string }) =>
        p.name === "Idempotency-Key"
      ),
    );
    assert.deepEqual(await json(await call(h, "/api/orders", { cookie })), { orders: [] });
  });
});

Deno.test(
  "tenant isolation: user B gets 404 for every one of A's ids, and none of A's data",
  sanitize,
  async () => {
    await withHarness(async (h) => {
      const a = await seedUser(h.sql, "a@example.com", { pending: true });
      const b = await seedUser(h.sql, "b@example.com");
      // A also has connections made through the real flows (the seeded ones are rows only).
      const cookieA = await login(h, a.email, a.password);
      const realOfA = [
        await connectSnaptrade(h, cookieA),
        await connectAlpaca(h, cookieA, { keyId: TEST_ALPACA_KEY_ID, secret: TEST_ALPACA_SECRET }),
      ];
      const [{ external_id: authorizationOfA }] = await h.sql<{ external_id: string }[]>`
        select external_id from connections where id = ${realOfA[0]}`;
      const cookie = await login(h, b.email, b.password);
      const secretsOfA = [
        a.userId,
        a.email,
        authorizationOfA,
        ...a.connections,
        ...realOfA,
        ...a.accounts,
        ...a.transactions,
        ...a.syncs,
        ...a.positions,
      ];
      const leaks = (text: string) => secretsOfA.filter((s) => text.includes(s));

      const attempts: [string, string, unknown?][] = [];
      for (const id of [...a.connections, ...realOfA]) {
        attempts.push(["GET", `/api/connections/${id}`]);
        attempts.push(["DELETE", `/api/connections/${id}`]);
        attempts.push(["POST", `/api/connections/${id}/reconnect`, {}]);
        attempts.push(["POST", "/api/holdings/refresh", { connection_ids: [id] }]);
        attempts.push(["GET", `/api/syncs?connection_id=${id}`]);
      }
      for (const id of a.accounts) {
        attempts.push(["GET", `/api/accounts/${id}`]);
        attempts.push(["GET", `/api/transactions?account_id=${id}`]);
      }
      for (const id of a.transactions) attempts.push(["GET", `/api/transactions/${id}`]);
      for (const id of a.syncs) attempts.push(["GET", `/api/syncs/${id}`]);
      for (const id of [...a.positions, a.userId]) {
        attempts.push(["GET", `/api/accounts/${id}`]);
        attempts.push(["GET", `/api/connections/${id}`]);
      }
      for (const [method, path, body] of attempts) {
        const res = await call(h, path, { method, cookie, body });
        const text = await res.text();
        assert.equal(res.status, 404, `${method} ${path}: ${res.status} ${text}`);
        assert.deepEqual(leaks(text), [], `${method} ${path} leaked`);
      }
      // The callbacks with A's connection to repair, or A's SnapTrade authorization.
      for (const id of [...a.connections, ...realOfA]) {
        const res = await call(
          h,
          `/api/connections/snaptrade/callback?status=SUCCESS&connection_id=${authorizationOfA}&reconnect=${id}`,
          { cookie },
        );
        assert.match(res.headers.get("location")!, /error=/);
      }
      const stolen = await call(
        h,
        `/api/connections/snaptrade/callback?status=SUCCESS&connection_id=${authorizationOfA}`,
        { cookie },
      );
      assert.match(stolen.headers.get("location")!, /^\/connections\?error=/);
      // A's Alpaca account, even with its keys, is not B's to connect.
      const alpacaOfA = await call(h, "/api/connections/alpaca", {
        method: "POST",
        cookie,
        body: { key_id: TEST_ALPACA_KEY_ID, secret_key: TEST_ALPACA_SECRET },
      });
      assert.equal(alpacaOfA.status, 409);
      assert.deepEqual(leaks(await alpacaOfA.text()), []);
      // Nothing of A was changed, and nothing of A's became B's.
      assert.equal((await h.sql`select 1 from connections where user_id = ${a.userId}`).length, 4);
      assert.equal((await h.sql`select 1 from connections where user_id = ${b.userId}`).length, 2);
      assert.equal(
        (await h.sql`select 1 from pending_updates where user_id = ${a.userId}`).length,
        1,
      );

      // Every list route answers only B's data.
      for (
        const path of [
          "/api/me",
          "/api/holdings",
          "/api/pending-updates",
          "/api/connections",
          "/api/accounts",
          "/api/transactions",
          "/api/syncs",
          "/api/portfolio/history?range=all",
        ]
      ) {
        const res = await call(h, path, { cookie });
        assert.equal(res.status, 200, path);
        assert.deepEqual(leaks(await res.text()), [], path);
      }

      // The stream: A's events never reach B, whatever Last-Event-ID B sends.
      const res = await call(h, "/api/stream", {
        cookie,
        headers: { "last-event-id": `${h.app.hub.epoch}-1` },
      });
      const reader = res.body!.getReader();
      const received: string[] = [];
      const reading = (async () => {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          received.push(new TextDecoder().decode(value));
        }
      })();
      await eventually(() => h.app.hub.clients > 0, { what: "B's stream to open" });
      h.nats.nc.publish(
        subjects.portfolioPending(a.userId),
        encode(PortfolioPending, {
          user_id: a.userId,
          at: new Date().toISOString(),
          connections: [{
            connection_id: a.connections[0],
            provider: "snaptrade",
            since: new Date().toISOString(),
          }],
        }),
      );
      h.nats.nc.publish(
        subjects.syncProgress(b.userId),
        encode(SyncProgress, {
          user_id: b.userId,
          request_id: crypto.randomUUID(),
          sync_run_id: null,
          connection_id: b.connections[0],
          provider: "snaptrade",
          phase: "started",
          at: new Date().toISOString(),
        }),
      );
      // A message on B's subject that claims to be A's is dropped.
      h.nats.nc.publish(
        subjects.portfolioPending(b.userId),
        encode(PortfolioPending, {
          user_id: a.userId,
          at: new Date().toISOString(),
          connections: [],
        }),
      );
      await h.nats.nc.flush();
      // B's own event was published last on one connection: once it is here, A's are past.
      await eventually(() => received.join("").includes("event: sync"), { what: "B's event" });
      await reader.cancel();
      await reading.catch(() => {});
      const text = received.join("");
      assert.match(text, /event: sync/);
      assert.deepEqual(leaks(text), []);
    });
  },
);
