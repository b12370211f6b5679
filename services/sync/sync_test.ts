import assert from "node:assert/strict";
import { decode, PortfolioPending, subjects, SyncProgress } from "@meridian/proto";
import { eventually } from "@meridian/runtime/testing";
import { TEST_ALPACA_KEY_ID, TEST_ALPACA_SECRET } from "../sandbox/mod.ts";
import {
  connectAlpaca,
  ConnectionFlowError,
  ensureSnaptradeUser,
  NotFoundError,
  reconnect,
  removeConnection,
  snaptradePortalUrl,
} from "./connections/mod.ts";
import { toDecimalString } from "./normalise/decimal.ts";
import { ProviderError, ProviderRegistry, SnaptradeProvider } from "./providers/mod.ts";
import type { ProviderSession } from "./providers/types.ts";
import { connectPlaid, connectSnaptrade, REDIRECT, requestSync } from "./testing/connect.ts";
import { connectionRows, runs, settled, startSyncEnv } from "./testing/env.ts";
import { fetchSnapshot, SyncWorker } from "./worker.ts";
import { CallRecorder } from "./providers/call.ts";
import { claimRun, loadConnection, replaceConnectionData } from "./store.ts";
import { alpacaApis } from "./providers/alpaca/client.ts";
// Exact (as Decimal), as the view computes: decimal.js's default rounds to 20 digits.
import { Exact as Decimal, HoldingsView, readHoldings } from "@meridian/portfolio";

const key = (...parts: unknown[]) =>
  parts.map((p) => (p === null || p === undefined ? "∅" : String(p))).join("|");
const d = (v: unknown) => (v === null || v === undefined ? null : toDecimalString(v));

Deno.test("sync end to end against the sandbox", async (t) => {
  const env = await startSyncEnv();
  const sql = env.deps.sql;
  try {
    const alice = await env.user("alice@example.com");
    const bob = await env.user("bob@example.com");
    let st!: Awaited<ReturnType<typeof connectSnaptrade>>;
    let pl!: Awaited<ReturnType<typeof connectPlaid>>;
    let al!: Awaited<ReturnType<typeof connectAlpaca>>;

    await t.step(
      "SnapTrade: portal, completion, initial sync equals the sandbox exactly",
      async () => {
        st = await connectSnaptrade(env, alice, "QUESTRADE");
        assert.equal(st.institution, "Questrade");
        const [run] = await settled(env, st.id, 1);
        assert.equal(run.status, "succeeded", run.error ?? "");
        assert.equal(run.provider_calls, run.calls.length);
        const user = await ensureSnaptradeUser(env.deps, alice);
        const api = env.deps.providers.snaptrade.client;
        const rows = await connectionRows(env, st.id);
        assert.ok(rows.accounts.length >= 1);
        const rawAccounts = (await api.accountInformation.listUserAccounts(user)).data;
        assert.deepEqual(
          rows.accounts.map((a) => key(a.external_id, a.currency)).sort(),
          rawAccounts.map((a) => key(a.id, a.balance?.total?.currency)).sort(),
        );
        assert.ok(rows.accounts.some((a) => a.currency === "CAD"));
        for (const a of rows.accounts) {
          const raw = (await api.accountInformation.getAllAccountPositions({
            ...user,
            accountId: a.external_id,
          })).data;
          const want = (raw.results ?? []).map((p) =>
            // deno-lint-ignore no-explicit-any
            key((p.instrument as any).symbol, d(p.units), d(p.price), d(p.cost_basis))
          ).sort();
          const got = rows.positions.filter((p) => p.account_id === a.id)
            .map((p) => key(p.symbol, d(p.quantity), d(p.price), d(p.cost_basis))).sort();
          assert.deepEqual(got, want);
          const bal = (await api.accountInformation.getUserAccountBalance({
            ...user,
            accountId: a.external_id,
          })).data;
          assert.deepEqual(
            rows.balances.filter((b) => b.account_id === a.id).map((b) =>
              key(b.currency, d(b.cash))
            ),
            bal.map((b) => key(b.currency?.code, d(b.cash))),
          );
          const acts = (await api.accountInformation.getAccountActivities({
            ...user,
            accountId: a.external_id,
          })).data;
          const wantT = (acts.data ?? []).map((x) => key(x.id, d(x.amount), d(x.units), d(x.price)))
            .sort();
          const gotT = rows.transactions.filter((x) => x.account_id === a.id)
            .map((x) => key(x.external_id, d(x.amount), d(x.quantity), d(x.price))).sort();
          assert.deepEqual(gotT, wantT);
        }
      },
    );

    await t.step(
      "Plaid: Hosted Link, exchange, initial sync equals the sandbox exactly",
      async () => {
        pl = await connectPlaid(env, alice);
        const [run] = await settled(env, pl.id, 1);
        assert.equal(run.status, "succeeded", run.error ?? "");
        const [conn] = await sql`select * from connections where id = ${pl.id}`;
        const creds = await env.deps.providers.plaid.credentials(env.deps, conn as never);
        assert.equal(creds.itemId, conn.external_id);
        const raw = (await env.deps.providers.plaid.client.investmentsHoldingsGet({
          access_token: creds.accessToken,
        })).data;
        const cashIds = new Set(
          raw.securities.filter((s: { type: string | null }) => s.type === "cash").map((
            s: { security_id: string },
          ) => s.security_id),
        );
        const rows = await connectionRows(env, pl.id);
        const ext = new Map(rows.accounts.map((a) => [a.id, a.external_id]));
        const want = raw.holdings.filter((h: { security_id: string }) =>
          !cashIds.has(h.security_id)
        )
          // deno-lint-ignore no-explicit-any
          .map((h: any) => {
            const sec = raw.securities.find((s: { security_id: string }) =>
              s.security_id === h.security_id
            );
            // The previous close is the security's close_price, never a cash equivalent's.
            const close = sec?.is_cash_equivalent ? null : d(sec?.close_price);
            return key(
              h.account_id,
              h.security_id,
              d(h.quantity),
              d(h.institution_price),
              close,
              d(h.cost_basis),
            );
          }).sort();
        const got = rows.positions.map((p) =>
          key(
            ext.get(p.account_id),
            p.provider_security_id,
            d(p.quantity),
            d(p.price),
            d(p.previous_close),
            d(p.cost_basis),
          )
        ).sort();
        assert.ok(rows.positions.some((p) => p.previous_close !== null));
        assert.deepEqual(got, want);
        assert.equal(rows.accounts.length, raw.accounts.length);
      },
    );

    await t.step("Alpaca: keys validated, sync equals the sandbox exactly", async () => {
      await assert.rejects(
        connectAlpaca(env.deps, alice, { keyId: "PKWRONG", secret: "nope-nope-nope", paper: true }),
        ConnectionFlowError,
      );
      const [{ n }] =
        await sql`select count(*)::int as n from connections where provider = 'alpaca'`;
      assert.equal(n, 0);
      al = await connectAlpaca(env.deps, alice, {
        keyId: TEST_ALPACA_KEY_ID,
        secret: TEST_ALPACA_SECRET,
        paper: true,
      });
      const [run] = await settled(env, al.id, 1);
      assert.equal(run.status, "succeeded", run.error ?? "");
      const apis = alpacaApis(env.deps.config, TEST_ALPACA_KEY_ID, TEST_ALPACA_SECRET, true);
      const raw = await apis.positions.getAllOpenPositions();
      const rows = await connectionRows(env, al.id);
      assert.deepEqual(
        rows.positions.map((p) =>
          key(p.symbol, d(p.quantity), d(p.price), d(p.previous_close), d(p.cost_basis))
        ).sort(),
        raw.map((p) =>
          key(p.symbol, d(p.qty), d(p.currentPrice), d(p.lastdayPrice), d(p.costBasis))
        ).sort(),
      );
      const acts = await apis.activities.getAccountActivities({ direction: "asc", pageSize: 100 });
      assert.deepEqual(
        rows.transactions.map((t) => t.external_id).sort(),
        acts.map((a) => String(a.id)).sort(),
      );
      const acct = await apis.accounts.getAccount();
      assert.equal(d(rows.balances[0].cash), d(acct.cash));
    });

    await t.step("one instrument per security, however each provider spells it", async () => {
      const [stConn] = await sql`select external_id from connections where id = ${st.id}`;
      const [usd] = await sql`select external_id from accounts
        where connection_id = ${st.id} and currency = 'USD'`;
      const hold = (provider: string, connection: string, symbol: string, quantity: string) =>
        env.admin("/holdings", {
          provider,
          connection,
          symbol,
          quantity,
          account: usd.external_id,
        });
      // Robinhood-style BTC through SnapTrade and Alpaca's BTCUSD; a holding with only a CUSIP.
      await hold("snaptrade", stConn.external_id, "BTC", "0.0523");
      await hold("snaptrade", stConn.external_id, "037833100", "2");
      await env.admin("/holdings", {
        provider: "alpaca",
        connection: TEST_ALPACA_KEY_ID,
        symbol: "BTC/USD",
        quantity: "0.25",
      });
      for (const id of [st.id, al.id]) {
        const out = await env.worker.syncConnection(alice, id, {
          requestId: crypto.randomUUID(),
          reason: "manual",
          requestedAt: new Date().toISOString(),
        });
        assert.equal(out.phase, "succeeded", out.detail);
      }
      const coins = await sql`
        select p.provider, p.symbol, p.instrument_id, i.symbol as instrument, i.kind,
               i.snaptrade_symbol_id, i.alpaca_asset_id
          from positions p join instruments i on i.id = p.instrument_id
         where p.user_id = ${alice} and p.security_type = 'crypto' order by p.provider`;
      assert.deepEqual(coins.map((c) => [c.provider, c.symbol, c.instrument, c.kind]), [
        ["alpaca", "BTCUSD", "BTC/USD", "crypto"],
        ["snaptrade", "BTC", "BTC/USD", "crypto"],
      ]);
      assert.equal(coins[0].instrument_id, coins[1].instrument_id);
      assert.ok(coins[0].snaptrade_symbol_id && coins[0].alpaca_asset_id, "both providers' ids");

      const v = HoldingsView.parse(await readHoldings(sql, alice));
      const btc = v.positions.filter((p) => p.symbol === "BTC/USD");
      assert.equal(btc.length, 1);
      assert.equal(btc[0].instrument_id, coins[0].instrument_id);
      assert.equal(btc[0].quantity, "0.3023");
      assert.deepEqual(btc[0].providers, ["snaptrade", "alpaca"]);
      // AAPL through SnapTrade, Plaid and Alpaca: one row, its quantity the sum of theirs.
      const aapl = await sql`select quantity::text as q, instrument_id from positions
        where user_id = ${alice} and symbol = 'AAPL'`;
      assert.equal(new Set(aapl.map((r) => r.instrument_id)).size, 1);
      const row = v.positions.filter((p) => p.symbol === "AAPL");
      assert.equal(row.length, 1);
      assert.deepEqual(row[0].providers, ["snaptrade", "plaid", "alpaca"]);
      assert.equal(
        row[0].quantity,
        aapl.reduce((sum, r) => sum.plus(r.q), new Decimal(0)).toFixed(),
      );
      // No ticker, no instrument: the position keeps its provider's price and says why.
      const [raw] = await sql`select price::text as price from positions
        where connection_id = ${st.id} and symbol = '037833100'`;
      const cusip = v.positions.find((p) => p.symbol === "037833100")!;
      assert.equal(cusip.instrument_id, null);
      assert.match(cusip.unresolved_reason!, /no ticker/);
      assert.equal(cusip.price, toDecimalString(raw.price));
      assert.equal(cusip.value, new Decimal(raw.price).times(2).toFixed());

      // A security new to the master, synced through two connections at once: one instrument.
      const [plAcct] = await sql`select external_id from accounts where connection_id = ${pl.id}
        order by external_id limit 1`;
      const [plConn] = await sql`select external_id from connections where id = ${pl.id}`;
      await hold("snaptrade", stConn.external_id, "ZZZQ/A", "1");
      await env.admin("/holdings", {
        provider: "plaid",
        connection: plConn.external_id,
        account: plAcct.external_id,
        symbol: "ZZZQ.A",
        quantity: "2",
      });
      const both = await Promise.all(
        [st.id, pl.id].map((id) =>
          env.worker.syncConnection(alice, id, {
            requestId: crypto.randomUUID(),
            reason: "manual",
            requestedAt: new Date().toISOString(),
          })
        ),
      );
      assert.deepEqual(both.map((o) => o.phase), ["succeeded", "succeeded"]);
      const zzz = await sql`select distinct instrument_id from positions
        where user_id = ${alice} and symbol in ('ZZZQ/A', 'ZZZQ.A')`;
      assert.equal(zzz.length, 1);
      const [{ n }] = await sql`select count(*)::int as n from instruments where symbol = 'ZZZQ.A'`;
      assert.equal(n, 1);
    });

    await t.step("another user's connection id is not found", async () => {
      await assert.rejects(removeConnection(env.deps, bob, st.id), NotFoundError);
      await assert.rejects(
        reconnect(env.deps, bob, pl.id, { callbackUrl: () => REDIRECT }),
        NotFoundError,
      );
      await assert.rejects(
        snaptradePortalUrl(env.deps, bob, { redirectUrl: REDIRECT, reconnectConnectionId: st.id }),
        NotFoundError,
      );
      const out = await env.worker.syncConnection(bob, st.id, {
        requestId: crypto.randomUUID(),
        reason: "manual",
        requestedAt: new Date().toISOString(),
      });
      assert.equal(out.phase, "skipped");
    });

    await t.step("syncing connection A never changes connection B's rows", async () => {
      const bobSt = await connectSnaptrade(env, bob, "INTERACTIVE-BROKERS");
      assert.equal((await settled(env, bobSt.id, 1))[0].status, "succeeded");
      const ib = await connectionRows(env, bobSt.id);
      assert.ok(ib.positions.length >= 200);
      const option = ib.positions.find((p) => p.security_type === "option");
      assert.ok(option);
      assert.equal(option.option_details.underlying, "AAPL");
      assert.equal(option.option_details.option_type, "call");
      assert.equal(toDecimalString(option.option_details.strike), "250");
      assert.equal(option.option_details.expiration, "2027-01-15");
      const before = {
        pl: await connectionRows(env, pl.id),
        al: await connectionRows(env, al.id),
        bob: await connectionRows(env, bobSt.id),
      };
      const [stConn] = await sql`select external_id from connections where id = ${st.id}`;
      const [acct] =
        await sql`select external_id from accounts where connection_id = ${st.id} limit 1`;
      await env.admin("/holdings", {
        provider: "snaptrade",
        connection: stConn.external_id,
        account: acct.external_id,
        symbol: "AAPL",
        quantity: "123.456789",
      });
      await sql`insert into pending_updates (connection_id, user_id, reason)
        values (${st.id}, ${alice}, 'webhook')`;
      const [{ v0 }] = await sql`select holdings_version::int as v0 from users where id = ${alice}`;
      const n = (await runs(env, st.id)).length;
      // Clearing the flag is announced, as ingress announces setting it.
      const announced = env.deps.nc.subscribe(subjects.portfolioPending(alice), { max: 1 });
      await requestSync(env, alice, "snaptrade", [st.id]);
      const r = await settled(env, st.id, n + 1);
      assert.equal(r.at(-1)!.status, "succeeded");
      const [{ pending }] =
        await sql`select count(*)::int as pending from pending_updates where connection_id = ${st.id}`;
      assert.equal(pending, 0, "the pending flag is cleared");
      for await (const m of announced) {
        const msg = decode(PortfolioPending, m.data);
        assert.ok(!msg.connections.some((c) => c.connection_id === st.id));
      }
      const [{ v1 }] = await sql`select holdings_version::int as v1 from users where id = ${alice}`;
      assert.equal(v1, v0 + 1);
      const [aapl] =
        await sql`select quantity::text as q from positions where connection_id = ${st.id} and symbol = 'AAPL'`;
      assert.equal(aapl.q, "123.456789");
      assert.deepEqual(await connectionRows(env, pl.id), before.pl);
      assert.deepEqual(await connectionRows(env, al.id), before.al);
      assert.deepEqual(await connectionRows(env, bobSt.id), before.bob);
    });

    await t.step(
      "a sync that fails midway leaves the old rows and records the failure",
      async () => {
        const before = await connectionRows(env, st.id);
        class Failing extends SnaptradeProvider {
          override session(...args: Parameters<SnaptradeProvider["session"]>): ProviderSession {
            const s = super.session(...args);
            return {
              ...s,
              transactions: () =>
                Promise.reject(
                  new ProviderError(
                    "snaptrade",
                    "getAccountActivities",
                    503,
                    "3002",
                    "brokerage down",
                    false,
                  ),
                ),
            };
          }
        }
        const worker = new SyncWorker({
          ...env.deps,
          providers: new ProviderRegistry(env.deps.config, {
            snaptrade: new Failing(env.deps.config),
          }),
        });
        // "stale" fetches transactions (a manual refresh of fresh ones would not).
        const out = await worker.syncConnection(alice, st.id, {
          requestId: crypto.randomUUID(),
          reason: "stale",
          requestedAt: new Date().toISOString(),
        });
        assert.equal(out.phase, "failed");
        assert.deepEqual(await connectionRows(env, st.id), before);
        const last = (await runs(env, st.id)).at(-1)!;
        assert.equal(last.status, "failed");
        assert.match(last.error!, /brokerage down/);
        assert.ok(last.provider_calls >= 2, "the calls made before the failure are counted");
        const [c] = await sql`select status from connections where id = ${st.id}`;
        assert.equal(c.status, "active");
      },
    );

    await t.step("50 concurrent refresh requests make one set of provider calls", async () => {
      const done = new Set<string>();
      const sub = env.deps.nc.subscribe(subjects.syncProgress(alice));
      const requestIds: string[] = [];
      (async () => {
        for await (const m of sub) {
          const p = SyncProgress.parse(JSON.parse(new TextDecoder().decode(m.data)));
          if (p.connection_id === st.id && (p.phase === "succeeded" || p.phase === "failed")) {
            done.add(p.request_id);
          }
        }
      })();
      const n = (await runs(env, st.id)).length;
      await env.admin("/calls/reset", {});
      await Promise.all(Array.from({ length: 50 }, async () => {
        requestIds.push(await requestSync(env, alice, "snaptrade", [st.id]));
      }));
      await eventually(() => requestIds.every((id) => done.has(id)), {
        timeoutMs: 60_000,
        what: "all 50 requests to finish",
      });
      sub.unsubscribe();
      const after = await runs(env, st.id);
      assert.equal(after.length, n + 1, "one sync run");
      const calls = await env.admin("/calls") as { by_provider: { snaptrade: number } };
      assert.equal(calls.by_provider.snaptrade, after.at(-1)!.provider_calls);
      const [{ accounts }] =
        await sql`select count(*)::int as accounts from accounts where connection_id = ${st.id}`;
      // Accounts, then positions and balances per account; transactions were fetched
      // recently and no transactions event flagged them, so they are not fetched again.
      assert.equal(calls.by_provider.snaptrade, 1 + 2 * accounts);
    });

    await t.step("two sync instances make one set of provider calls between them", async () => {
      // Each running sync holds a pooled connection for its lease: a pool too small refuses.
      assert.throws(
        () => new SyncWorker(env.deps, { concurrency: env.deps.sql.options.max - 1 }),
        /needs a database pool of at least/,
      );
      const other = new SyncWorker(env.deps);
      const n = (await runs(env, st.id)).length;
      await env.admin("/calls/reset", {});
      const trigger = () => ({
        requestId: crypto.randomUUID(),
        reason: "manual" as const,
        requestedAt: new Date().toISOString(),
      });
      const [a, b] = await Promise.all([
        env.worker.syncConnection(alice, st.id, trigger()),
        other.syncConnection(alice, st.id, trigger()),
      ]);
      assert.equal(a.phase, "succeeded");
      assert.equal(b.phase, "succeeded");
      assert.equal(a.runId, b.runId);
      assert.equal((await runs(env, st.id)).length, n + 1);
      const calls = await env.admin("/calls") as { by_provider: { snaptrade: number } };
      assert.equal(calls.by_provider.snaptrade, (await runs(env, st.id)).at(-1)!.provider_calls);
    });

    await t.step(
      "transactions are fetched when flagged or stale; a holdings-only sync keeps the stored ones",
      async () => {
        // A connection of its own, so the other steps' run counts stay as they are.
        const pl = await connectPlaid(env, bob);
        assert.equal((await settled(env, pl.id, 1))[0].status, "succeeded");
        const HOLDINGS = "plaid POST /investments/holdings/get";
        const TXNS = "plaid POST /investments/transactions/get";
        const sync = async (reason: "manual" | "stale", pendingTransactions?: boolean) => {
          if (pendingTransactions !== undefined) {
            await sql`insert into pending_updates (connection_id, user_id, reason, transactions)
              values (${pl.id}, ${bob}, 'test', ${pendingTransactions})`;
          }
          await env.admin("/calls/reset", {});
          const out = await env.worker.syncConnection(bob, pl.id, {
            requestId: crypto.randomUUID(),
            reason,
            requestedAt: new Date().toISOString(),
          });
          assert.equal(out.phase, "succeeded", out.detail);
          const calls = await env.admin("/calls") as { by_route: Record<string, number> };
          const [run] = await sql`select calls from sync_runs where id = ${out.runId}`;
          const [c] = await sql`select transactions_synced_at as at from connections
            where id = ${pl.id}`;
          const [{ pending }] = await sql`select count(*)::int as pending from pending_updates
            where connection_id = ${pl.id}`;
          return {
            holdings: calls.by_route[HOLDINGS] ?? 0,
            txns: calls.by_route[TXNS] ?? 0,
            recorded: (run.calls as { operation: string }[]).map((x) => x.operation).sort(),
            syncedAt: c.at as Date | null,
            pending,
          };
        };
        const txRows = async () =>
          (await connectionRows(env, pl.id)).transactions.map((x) => ({ ...x }));
        const ext = (rows: Record<string, unknown>[]) =>
          rows.map((x) => String(x.external_id)).sort();

        const initial = await txRows();
        assert.ok(initial.length > 0, "the initial sync stored Plaid transactions");
        const [c0] = await sql`select transactions_synced_at as at from connections
          where id = ${pl.id}`;
        assert.ok(c0.at, "the initial sync stamps transactions_synced_at");

        // A holdings webhook then a refresh: one holdings call, no transactions call, and the
        // stored transactions rows are the very same rows.
        const holdingsOnly = await sync("manual", false);
        assert.equal(holdingsOnly.holdings, 1);
        assert.equal(holdingsOnly.txns, 0);
        assert.deepEqual(holdingsOnly.recorded, ["investmentsHoldingsGet"]);
        assert.equal(holdingsOnly.pending, 0, "the pending flag is cleared");
        assert.equal(holdingsOnly.syncedAt!.getTime(), (c0.at as Date).getTime());
        assert.deepEqual(await txRows(), initial);

        // A transactions webhook then a refresh fetches them.
        const flagged = await sync("manual", true);
        assert.equal(flagged.holdings, 1);
        assert.ok(flagged.txns >= 1);
        assert.deepEqual(
          flagged.recorded,
          ["investmentsHoldingsGet", ...Array(flagged.txns).fill("investmentsTransactionsGet")],
        );
        assert.equal(flagged.pending, 0);
        assert.ok(flagged.syncedAt!.getTime() > (c0.at as Date).getTime());
        assert.deepEqual(ext(await txRows()), ext(initial));

        // A stale sync fetches them too.
        const stale = await sync("stale");
        assert.ok(stale.txns >= 1);
        assert.ok(stale.syncedAt!.getTime() > flagged.syncedAt!.getTime());

        // Transactions older than HOLDINGS_TTL_H are fetched on a plain refresh.
        await sql`update connections set transactions_synced_at = now() - interval '25 hours'
          where id = ${pl.id}`;
        assert.ok((await sync("manual")).txns >= 1);
        assert.equal((await sync("manual")).txns, 0);

        // A transactions event that arrives while a holdings-only run is under way stays
        // pending (the next refresh fetches them); a holdings event's row is cleared.
        const conn = (await loadConnection(sql, bob, pl.id))!;
        for (const transactions of [false, true]) {
          const claim = await claimRun(sql, conn, null, "manual");
          assert.equal(claim.kind, "claimed");
          if (claim.kind !== "claimed") return;
          await sql`insert into pending_updates (connection_id, user_id, reason, transactions)
            values (${pl.id}, ${bob}, 'late', ${transactions})`;
          const snap = await fetchSnapshot(env.deps, conn, new CallRecorder(), () => false);
          assert.equal(snap.transactions, null);
          const w = await replaceConnectionData(sql, conn, snap, {
            runId: claim.runId,
            startedAt: claim.startedAt,
            calls: [],
          });
          assert.equal(w.kind, "written");
          await claim.release();
          const left = await sql`select 1 from pending_updates where connection_id = ${pl.id}`;
          assert.equal(left.length, transactions ? 1 : 0);
          assert.deepEqual(ext(await txRows()), ext(initial));
        }
        const last = await sync("manual");
        assert.ok(last.txns >= 1, "the flag left pending is honoured");
        assert.equal(last.pending, 0);
      },
    );
  } finally {
    await env.close();
  }
});
