/**
 * GET /api/holdings at the live prices of KV `last_prices`: every account of an instrument at
 * the same price, the aggregated row the sum of its accounts, and the ETag following prices.
 */
import assert from "node:assert/strict";
import { Kvm } from "@nats-io/kv";
import { buckets, encode, kvKeys, LastPrice, MarketStatus } from "@meridian/proto";
import { eventually } from "@meridian/runtime/testing";
import { Exact } from "@meridian/portfolio";
import { call, json, login, sanitize, withHarness } from "./testing/harness.ts";
import { seedUser } from "./testing/seed.ts";

interface Position {
  symbol: string;
  quantity: string;
  price: string | null;
  previous_close: string | null;
  value: string | null;
  price_source: string | null;
  price_time: string | null;
  stale: boolean;
  instrument_symbol: string | null;
}

Deno.test(
  "holdings are valued at the live price, the same in every account",
  sanitize,
  async () => {
    await withHarness(async (h) => {
      const a = await seedUser(h.sql, "live@example.com");
      // AAPL, held in both accounts, is an instrument (as a sync would resolve it).
      const [aapl] = await h.sql<{ id: string }[]>`
      insert into instruments (kind, symbol, currency, name)
      values ('equity', 'AAPL', 'USD', 'Apple Inc.')
      on conflict (symbol, currency) do update set name = excluded.name returning id`;
      await h.sql.begin(async (tx) => {
        await tx`update positions set instrument_id = ${aapl.id}, unresolved_reason = null
                where user_id = ${a.userId} and symbol = 'AAPL'`;
        await tx`update users set holdings_version = holdings_version + 1 where id = ${a.userId}`;
      });
      const cookie = await login(h, a.email, a.password);
      const read = async () => {
        const res = await call(h, "/api/holdings", { cookie });
        assert.equal(res.status, 200);
        return { etag: res.headers.get("etag")!, view: await json(res) };
      };
      const aaplOf = (view: {
        positions: (Position & { accounts: { price: string | null; value: string | null }[] })[];
        accounts: { positions: Position[] }[];
      }) => ({
        row: view.positions.find((p) => p.symbol === "AAPL")!,
        accounts: view.accounts.flatMap((x) => x.positions.filter((p) => p.symbol === "AAPL")),
      });

      // No quote yet: the providers' price.
      const before = await read();
      assert.equal(aaplOf(before.view).row.price_source, "provider");
      assert.equal(aaplOf(before.view).accounts[0].instrument_symbol, "AAPL");

      const kv = await new Kvm(h.nats.nc).open(buckets.lastPrices.name);
      const time = new Date(Date.now() - 60_000).toISOString();
      const put = (price: string, previous_close: string | null) =>
        kv.put(
          kvKeys.lastPrice("AAPL"),
          encode(LastPrice, {
            symbol: "AAPL",
            price,
            previous_close,
            time,
            feed: "iex",
            delayed: false,
          }),
        );
      await put("123.456789", "120");
      const live = await eventually(async () => {
        const r = await read();
        return aaplOf(r.view).row.price === "123.456789" ? r : null;
      }, { what: "GET /api/holdings at the live price" });
      const { row, accounts } = aaplOf(live.view);
      assert.equal(row.price_source, "live");
      assert.equal(row.price_time, time);
      assert.equal(row.previous_close, "120");
      assert.equal(accounts.length, 2);
      for (const p of accounts) {
        assert.equal(p.price, "123.456789");
        assert.equal(p.price_source, "live");
        assert.equal(p.value, new Exact(p.quantity).times("123.456789").toFixed());
      }
      for (const s of row.accounts) assert.equal(s.price, "123.456789");
      // The row is the sum of its accounts (10 + 10 shares), and the total follows.
      assert.equal(row.value, "2469.13578");
      assert.equal(
        row.value,
        accounts.reduce((s, p) => s.plus(p.value!), new Exact(0)).toFixed(),
      );
      const usd = live.view.totals.find((t: { currency: string }) => t.currency === "USD");
      assert.equal(
        usd.positions_value,
        live.view.positions.reduce(
          (s: Exact, p: Position) => p.value === null ? s : s.plus(p.value),
          new Exact(0),
        ).toFixed(),
      );
      assert.notEqual(live.etag, before.etag);

      // Unchanged prices: the same ETag, and 304 for it.
      const same = await call(h, "/api/holdings", {
        cookie,
        headers: { "if-none-match": live.etag },
      });
      assert.equal(same.status, 304);

      // A new price: a new ETag at once (no sync, no database change).
      await put("124", "120");
      const moved = await eventually(async () => {
        const r = await read();
        return aaplOf(r.view).row.price === "124" ? r : null;
      }, { what: "the new price" });
      assert.notEqual(moved.etag, live.etag);
      assert.equal(aaplOf(moved.view).row.value, "2480");
      const changed = await call(h, "/api/holdings", {
        cookie,
        headers: { "if-none-match": live.etag },
      });
      assert.equal(changed.status, 200);
      await changed.body?.cancel();

      // The market opens: a quote older than 15 minutes is stale, in every account.
      await put("125", "120");
      const old = new Date(Date.now() - 20 * 60_000).toISOString();
      await kv.put(
        kvKeys.lastPrice("AAPL"),
        encode(LastPrice, {
          symbol: "AAPL",
          price: "125",
          previous_close: "120",
          time: old,
          feed: "iex",
          delayed: true,
        }),
      );
      const status = await new Kvm(h.nats.nc).open(buckets.marketStatus.name);
      const nowIso = new Date().toISOString();
      await status.put(
        kvKeys.usEquityMarket,
        encode(MarketStatus, {
          market: "us_equity",
          is_open: true,
          next_open: nowIso,
          next_close: nowIso,
          time: nowIso,
        }),
      );
      const stale = await eventually(async () => {
        const r = await read();
        return aaplOf(r.view).row.stale ? r : null;
      }, { what: "the stale flag" });
      const s = aaplOf(stale.view);
      assert.equal(s.row.price_source, "delayed");
      for (const p of s.accounts) assert.deepEqual([p.stale, p.price_source], [true, "delayed"]);
      // VTI has no quote: the providers' price, older than 15 minutes while the market is open.
      const vti = stale.view.positions.find((p: Position) => p.symbol === "VTI");
      assert.deepEqual([vti.price_source, vti.stale], ["provider", true]);

      // NATS restarts: the mirror follows again, with no request paying for it.
      await h.natsServer.stop();
      await eventually(() => !h.nats.connected(), { what: "NATS gone" });
      await h.natsServer.restart();
      await eventually(() => h.nats.connected(), { what: "NATS back" });
      await eventually(async () => {
        await put("126.5", "120");
        const r = await read();
        return aaplOf(r.view).row.price === "126.5";
      }, { what: "a price written after the restart" });
    });
  },
);
