import assert from "node:assert/strict";
import { createLogger } from "@meridian/runtime";
import { testDatabase } from "@meridian/runtime/testing";
import { loadFxHistory } from "@meridian/portfolio/fx_history";
import { startSandbox } from "@meridian/sandbox";
import { ecbHistory, ecbHistoryXml } from "../sandbox/fx_history.ts";
import { SANDBOX_FX_RATES } from "../sandbox/fx.ts";
import { backfillFxHistory, ecbHistoryUrl } from "./fx_history.ts";
import { refreshFxRates } from "./fx_rates.ts";

const log = createLogger("valuation", "error");
// 16:30 CET on Friday 2026-11-27: the sandbox's newest publication is that day's.
const NOW = Date.parse("2026-11-27T15:30:00Z");
const CURRENCIES = SANDBOX_FX_RATES.length;

async function setup() {
  const db = await testDatabase();
  const sandbox = await startSandbox({
    port: 0,
    mode: "test",
    snaptrade: { clientId: "X", consumerKey: "Y" },
    plaid: { clientId: "p", secret: "s" },
    alpaca: false,
    log: () => {},
    now: () => NOW,
  });
  const url = `${sandbox.url}/fx/eurofxref-daily.xml`;
  const fetched: string[] = [];
  const counting: typeof fetch = (input, init) => {
    fetched.push(new URL(String(input)).pathname);
    return fetch(input, init);
  };
  return {
    db,
    sandbox,
    fetched,
    deps: { sql: db.sql, url, log, fetch: counting, now: () => NOW },
    [Symbol.asyncDispose]: async () => {
      await sandbox.close();
      await db.close();
    },
  };
}

type Setup = Awaited<ReturnType<typeof setup>>;

const stored = async (h: Setup) =>
  await h.db.sql<{ date: string; n: number }[]>`
    select to_char(date, 'YYYY-MM-DD') as date, count(*)::int as n
    from fx_rates group by date order by date`;

Deno.test("ecbHistoryUrl: the history files beside the daily document", () => {
  assert.equal(
    ecbHistoryUrl("https://www.ecb.europa.eu/stats/eurofxref/eurofxref-daily.xml", "90d"),
    "https://www.ecb.europa.eu/stats/eurofxref/eurofxref-hist-90d.xml",
  );
  assert.equal(
    ecbHistoryUrl("http://127.0.0.1:8082/fx/eurofxref-daily.xml?x=1", "full"),
    "http://127.0.0.1:8082/fx/eurofxref-hist.xml",
  );
  assert.throws(() => ecbHistoryUrl("http://rates.example/latest.xml", "90d"), /FX_URL must end/);
});

Deno.test("backfillFxHistory: recent days from the 90-day file, idempotently", async () => {
  await using h = await setup();
  const first = await backfillFxHistory(h.deps, "2026-11-01"); // a Sunday
  // Friday 2026-10-30 carries the weekend; then the 20 weekdays of November to the 27th.
  assert.deepEqual(first, {
    file: "90d",
    from: "2026-10-30",
    to: "2026-11-27",
    days: 21,
    rows: 21 * CURRENCIES,
  });
  assert.deepEqual(h.fetched, ["/fx/eurofxref-hist-90d.xml"]);
  const rows = await stored(h);
  assert.equal(rows.length, 21);
  assert.ok(rows.every((r) => r.n === CURRENCIES));

  const before = await h.db
    .sql`select date, currency, per_eur, fetched_at from fx_rates order by 1, 2`;
  assert.deepEqual(await backfillFxHistory(h.deps, "2026-11-01"), first);
  assert.deepEqual(
    [...await h.db.sql`select date, currency, per_eur, fetched_at from fx_rates order by 1, 2`],
    [...before],
    "a second backfill changes nothing",
  );

  // The daily refresh and the history agree on the newest day: nothing changes either.
  await refreshFxRates({ sql: h.db.sql, url: h.deps.url, log });
  const fx = await loadFxHistory(h.db.sql, "2026-11-01", "2026-11-27");
  const publications = ecbHistory("2026-11-27", "2026-10-30");
  for (const p of publications) {
    const usd = new Map(p.rates).get("USD")!;
    assert.equal(fx.convert("1", "EUR", "USD", p.date), usd, p.date);
  }
  assert.equal(fx.ratesOn("2026-11-01")?.date, "2026-10-30");
  assert.equal(fx.convert("1055", "USD", "EUR", "2026-11-28"), "1000");
});

Deno.test("backfillFxHistory: older rates from the full history file", async () => {
  await using h = await setup();
  const r = await backfillFxHistory(h.deps, "2026-03-01");
  assert.equal(r.file, "full");
  assert.equal(r.from, "2026-02-27"); // the Friday before a Sunday
  assert.equal(r.to, "2026-11-27");
  assert.deepEqual(h.fetched, ["/fx/eurofxref-hist.xml"]);
  const rows = await stored(h);
  assert.equal(rows.length, r.days);
  assert.equal(Number((await h.db.sql`select count(*) from fx_rates`)[0].count), r.rows);
  assert.equal(rows[0].date, "2026-02-27");
});

Deno.test("backfillFxHistory: a 90-day file that falls short is followed by the full one", async () => {
  await using h = await setup();
  // A 90-day file covering only ten days.
  const short: typeof fetch = (input, init) =>
    new URL(String(input)).pathname.endsWith("-90d.xml")
      ? Promise.resolve(
        new Response(ecbHistoryXml(ecbHistory("2026-11-27", "2026-11-17")), {
          headers: { "content-type": "text/xml" },
        }),
      )
      : h.deps.fetch(input, init);
  const r = await backfillFxHistory({ ...h.deps, fetch: short }, "2026-11-02");
  assert.equal(r.file, "full");
  assert.equal(r.from, "2026-11-02");
  assert.deepEqual(h.fetched, ["/fx/eurofxref-hist.xml"]);
});

Deno.test("backfillFxHistory: failures throw and write nothing", async () => {
  await using h = await setup();
  const answer = (body: string, status = 200): typeof fetch => () =>
    Promise.resolve(new Response(body, { status, headers: { "content-type": "text/xml" } }));
  await assert.rejects(
    backfillFxHistory({ ...h.deps, fetch: answer("busy", 503) }, "2026-11-02"),
    /answered HTTP 503/,
  );
  await assert.rejects(
    backfillFxHistory({ ...h.deps, fetch: answer("<html>oops</html>") }, "2026-11-02"),
    /ECB rates/,
  );
  const bad = ecbHistoryXml(ecbHistory("2026-11-27", "2026-11-02"))
    .replace(/(time="2026-11-05"><Cube currency="USD" rate=")[^"]+/, "$1abc");
  await assert.rejects(
    backfillFxHistory({ ...h.deps, fetch: answer(bad) }, "2026-11-02"),
    /invalid rate for USD/,
  );
  await assert.rejects(
    backfillFxHistory({ ...h.deps, url: `${h.sandbox.url}/fx/rates.xml` }, "2026-11-02"),
    /FX_URL must end/,
  );
  await assert.rejects(backfillFxHistory(h.deps, "2 Nov 2026"), RangeError);
  assert.equal((await stored(h)).length, 0);
});
