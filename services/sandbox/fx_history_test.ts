import assert from "node:assert/strict";
import { ecbDailyXml, ecbReferenceDate, SANDBOX_FX_RATES } from "./fx.ts";
import { ECB_FIRST_DAY, ecbHistory, ecbHistoryXml } from "./fx_history.ts";
import { startSandbox } from "./mod.ts";

// 16:30 CET on Friday 2026-11-27: the newest publication is that day's.
const NOW = Date.parse("2026-11-27T15:30:00Z");
const HEAD =
  `<?xml version="1.0" encoding="UTF-8"?><gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01" xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref"><gesmes:subject>Reference rates</gesmes:subject><gesmes:Sender><gesmes:name>European Central Bank</gesmes:name></gesmes:Sender><Cube>`;

const weekday = (day: string) => ![0, 6].includes(new Date(`${day}T12:00:00Z`).getUTCDay());
/** A decimal string without trailing zeros. */
const trimmed = (rate: string) => rate.includes(".") ? rate.replace(/\.?0+$/, "") : rate;

Deno.test("ecbHistory: the newest publication is the daily document's, earlier ones walk back", () => {
  const pubs = ecbHistory("2026-11-27", "2026-08-01");
  assert.equal(pubs[0].date, "2026-11-27");
  assert.deepEqual(pubs[0].rates, SANDBOX_FX_RATES.map(([c, r]) => [c, trimmed(r)]));
  assert.equal(pubs.at(-1)?.date, "2026-08-03"); // Aug 1 and 2 are a weekend
  for (let i = 1; i < pubs.length; i++) {
    assert.ok(pubs[i].date < pubs[i - 1].date);
    assert.ok(weekday(pubs[i].date), pubs[i].date);
    assert.deepEqual(pubs[i].rates.map(([c]) => c), SANDBOX_FX_RATES.map(([c]) => c));
    for (const [j, [c, r]] of pubs[i].rates.entries()) {
      assert.match(r, /^\d+(\.\d*[1-9])?$/);
      const places = SANDBOX_FX_RATES[j][1].split(".")[1]?.length ?? 0;
      assert.ok((r.split(".")[1]?.length ?? 0) <= places, `${c} ${r}`);
      const move = Number(pubs[i - 1].rates[j][1]) / Number(r) - 1;
      assert.ok(Math.abs(move) < 0.0051 + 10 ** -places / Number(r), `${c} ${pubs[i].date}`);
    }
  }
  // A day's rates depend on the day and the newest date only: a shorter file agrees.
  assert.deepEqual(
    ecbHistory("2026-11-27", "2026-11-01"),
    pubs.slice(0, pubs.findIndex((p) => p.date < "2026-11-01")),
  );
  assert.equal(ecbHistory("2026-11-27", "1990-01-01").at(-1)?.date, ECB_FIRST_DAY);
});

Deno.test("ecbHistoryXml: the ECB's history layout, one line per publication", () => {
  const xml = ecbHistoryXml(ecbHistory("2026-11-27", "2026-11-26"));
  const lines = xml.split("\n");
  assert.equal(lines.length, 3);
  assert.ok(
    lines[0].startsWith(`${HEAD}<Cube time="2026-11-27"><Cube currency="USD" rate="1.055"/>`),
  );
  assert.ok(lines[0].endsWith(`<Cube currency="ZAR" rate="19.1235"/></Cube>`));
  assert.ok(lines[1].startsWith(`<Cube time="2026-11-26"><Cube currency="USD" rate="`));
  assert.ok(lines[1].endsWith(`"/></Cube></Cube></gesmes:Envelope>`));
  assert.equal(lines[2], "");
  assert.equal(xml.match(/<Cube currency=/g)?.length, 2 * SANDBOX_FX_RATES.length);
});

Deno.test("GET /fx/eurofxref-hist-90d.xml and /fx/eurofxref-hist.xml agree with the daily rates", async () => {
  const sb = await startSandbox({
    port: 0,
    mode: "test",
    snaptrade: { clientId: "X", consumerKey: "Y" },
    plaid: { clientId: "p", secret: "s" },
    alpaca: false,
    log: () => {},
    now: () => NOW,
  });
  try {
    const get = async (file: string) => {
      const res = await fetch(`${sb.url}/fx/${file}`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("content-type"), "text/xml");
      return await res.text();
    };
    const daily = await get("eurofxref-daily.xml");
    assert.equal(daily, ecbDailyXml(ecbReferenceDate(NOW)));
    const d90 = await get("eurofxref-hist-90d.xml");
    assert.equal(d90, ecbHistoryXml(ecbHistory("2026-11-27", "2026-08-30")));
    const d90Days = [...d90.matchAll(/time="([\d-]+)"/g)].map((m) => m[1]);
    assert.equal(d90Days[0], "2026-11-27");
    assert.equal(d90Days.at(-1), "2026-08-31");
    assert.equal(d90Days.length, 65);
    // The daily document's rates are the newest publication's.
    for (const [c, r] of SANDBOX_FX_RATES) {
      assert.ok(daily.includes(`<Cube currency='${c}' rate='${r}'/>`));
      assert.ok(d90.split("\n")[0].includes(`<Cube currency="${c}" rate="${trimmed(r)}"/>`), c);
    }
    const hist = await get("eurofxref-hist.xml");
    const lines = hist.split("\n");
    assert.ok(hist.startsWith(d90.split("\n").slice(0, -2).join("\n")));
    assert.match(
      lines.at(-2) ?? "",
      /^<Cube time="1999-01-04">.*<\/Cube><\/Cube><\/gesmes:Envelope>$/,
    );
    assert.equal(lines.length - 1, ecbHistory("2026-11-27", ECB_FIRST_DAY).length);
    assert.equal(await get("eurofxref-hist.xml"), hist); // built once a day, served alike
  } finally {
    await sb.close();
  }
});
