import assert from "node:assert/strict";
import { createLogger, fxUrl, type Logger, parseConfig } from "@meridian/runtime";
import { testDatabase } from "@meridian/runtime/testing";
import { convert, crossRate } from "@meridian/portfolio";
import { startSandbox } from "@meridian/sandbox";
import { latestFxRates } from "@meridian/portfolio";
import { refreshFxRates, scheduleFxRefresh } from "./fx_rates.ts";

const log = createLogger("valuation", "error");
// 16:30 CET on Friday 2026-11-27: the sandbox serves that day's rates.
const NOW = Date.parse("2026-11-27T15:30:00Z");

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
  return {
    db,
    sandbox,
    url,
    [Symbol.asyncDispose]: async () => {
      await sandbox.close();
      await db.close();
    },
  };
}

const count = async (h: Awaited<ReturnType<typeof setup>>) =>
  Number((await h.db.sql`select count(*) from fx_rates`)[0].count);

Deno.test("refreshFxRates stores the day's rates, idempotently", async () => {
  await using h = await setup();
  assert.equal(await latestFxRates(h.db.sql), null);
  const first = await refreshFxRates({ sql: h.db.sql, url: h.url, log });
  assert.equal(first.date, "2026-11-27");
  assert.ok(first.currencies >= 29, `${first.currencies}`);
  assert.equal(await count(h), first.currencies);
  const usd = await h.db.sql`
    select to_char(date, 'YYYY-MM-DD') as date, per_eur::text as per_eur
    from fx_rates where currency = 'USD'`;
  assert.deepEqual([...usd], [{ date: "2026-11-27", per_eur: "1.0550" }]);

  const second = await refreshFxRates({ sql: h.db.sql, url: h.url, log });
  assert.deepEqual(second, first);
  assert.equal(await count(h), first.currencies);

  const latest = await latestFxRates(h.db.sql);
  assert.ok(latest);
  assert.equal(latest.date, "2026-11-27");
  assert.equal(latest.rates.size, first.currencies);
  assert.equal(latest.rates.get("JPY"), "161.23");
  assert.equal(crossRate(latest.rates, "EUR", "USD")?.toString(), "1.055");
  // 161.23 / 1.0550
  assert.equal(crossRate(latest.rates, "USD", "JPY")?.toString(), "152.82464454976303318");
  assert.equal(convert("1055", "USD", "EUR", latest.rates), "1000");
  assert.equal(crossRate(latest.rates, "USD", "XXX"), null);
});

Deno.test("latestFxRates: the newest date wins", async () => {
  await using h = await setup();
  await h.db.sql`
    insert into fx_rates (date, currency, per_eur)
    values ('2026-11-20', 'USD', 1.01), ('2026-11-20', 'BGN', 1.95583)`;
  await refreshFxRates({ sql: h.db.sql, url: h.url, log });
  const latest = await latestFxRates(h.db.sql);
  assert.equal(latest?.date, "2026-11-27");
  assert.equal(latest?.rates.has("BGN"), false);
  assert.equal(latest?.rates.get("USD"), "1.0550");
});

Deno.test("refreshFxRates: failures throw and write nothing", async () => {
  await using h = await setup();
  const garbage = (body: string, status = 200): typeof fetch => () =>
    Promise.resolve(new Response(body, { status, headers: { "content-type": "text/xml" } }));
  const broken = `${h.sandbox.url}/fx/nothing-here.xml`;
  await assert.rejects(refreshFxRates({ sql: h.db.sql, url: broken, log }), /HTTP 404/);
  await assert.rejects(
    refreshFxRates({ sql: h.db.sql, url: "http://127.0.0.1:1/eurofxref-daily.xml", log }),
  );
  await assert.rejects(
    refreshFxRates({ sql: h.db.sql, url: h.url, log, fetch: garbage("oops", 500) }),
    /HTTP 500/,
  );
  await assert.rejects(
    refreshFxRates({ sql: h.db.sql, url: h.url, log, fetch: garbage("<html>down</html>") }),
    /ECB rates/,
  );
  const bad = await (await fetch(h.url)).text();
  await assert.rejects(
    refreshFxRates({
      sql: h.db.sql,
      url: h.url,
      log,
      fetch: garbage(bad.replace("rate='161.23'", "rate='-1'")),
    }),
    /invalid rate for JPY/,
  );
  assert.equal(await count(h), 0);
  assert.equal(await latestFxRates(h.db.sql), null);
});

Deno.test("scheduleFxRefresh: warns, retries with backoff, then refreshes", async () => {
  await using h = await setup();
  const warnings: unknown[] = [];
  const quiet: Logger = { ...log, warn: (_m, f) => void warnings.push(f?.retry_ms) };
  let calls = 0;
  const flaky: typeof fetch = (input, init) =>
    ++calls <= 2 ? Promise.reject(new Error("down")) : fetch(input, init);
  const stop = scheduleFxRefresh(
    { sql: h.db.sql, url: h.url, log: quiet, fetch: flaky },
    { retryMs: 20, maxRetryMs: 30, intervalMs: 60_000 },
  );
  try {
    for (let i = 0; i < 200 && (await count(h)) === 0; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.ok((await count(h)) > 0);
    assert.deepEqual(warnings, [20, 30]);
    assert.equal(calls, 3);
  } finally {
    await stop();
  }
});

Deno.test("fxUrl: FX_URL, else the sandbox's, else the ECB's", () => {
  assert.equal(
    fxUrl(parseConfig({ SANDBOX_URL: "http://sandbox:8082/" })),
    "http://sandbox:8082/fx/eurofxref-daily.xml",
  );
  assert.equal(
    fxUrl(parseConfig({ PROVIDERS: "live" })),
    "https://www.ecb.europa.eu/stats/eurofxref/eurofxref-daily.xml",
  );
  assert.equal(
    fxUrl(parseConfig({ PROVIDERS: "live", FX_URL: "https://fx.example/daily.xml" })),
    "https://fx.example/daily.xml",
  );
  assert.throws(() => parseConfig({ FX_URL: "ftp://fx.example/x.xml" }), /FX_URL/);
});
