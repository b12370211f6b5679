import assert from "node:assert/strict";
import { ecbDailyXml, ecbReferenceDate, SANDBOX_FX_RATES } from "./fx.ts";
import { startSandbox } from "./mod.ts";

Deno.test("ecbReferenceDate: the latest weekday published by 16:00 Berlin", () => {
  // Friday 2026-11-27: 14:59 UTC is 15:59 CET (Thursday's rates), 15:00 UTC is 16:00 CET.
  assert.equal(ecbReferenceDate(Date.parse("2026-11-27T14:59:00Z")), "2026-11-26");
  assert.equal(ecbReferenceDate(Date.parse("2026-11-27T15:00:00Z")), "2026-11-27");
  // The weekend and Monday morning: Friday's.
  assert.equal(ecbReferenceDate(Date.parse("2026-11-28T12:00:00Z")), "2026-11-27");
  assert.equal(ecbReferenceDate(Date.parse("2026-11-29T23:30:00Z")), "2026-11-27"); // Mon 00:30 CET
  assert.equal(ecbReferenceDate(Date.parse("2026-11-30T10:00:00Z")), "2026-11-27");
  assert.equal(ecbReferenceDate(Date.parse("2026-11-30T16:00:00Z")), "2026-11-30");
  // Summer time: 16:00 CEST is 14:00 UTC.
  assert.equal(ecbReferenceDate(Date.parse("2026-07-01T13:59:00Z")), "2026-06-30");
  assert.equal(ecbReferenceDate(Date.parse("2026-07-01T14:00:00Z")), "2026-07-01");
});

Deno.test("ecbDailyXml: the ECB's layout", () => {
  const xml = ecbDailyXml("2026-11-27");
  assert(xml.startsWith(
    `<?xml version="1.0" encoding="UTF-8"?>\n<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01" xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref">\n\t<gesmes:subject>Reference rates</gesmes:subject>\n\t<gesmes:Sender>\n\t\t<gesmes:name>European Central Bank</gesmes:name>\n\t</gesmes:Sender>\n\t<Cube>\n\t\t<Cube time='2026-11-27'>\n\t\t\t<Cube currency='USD' rate='1.0550'/>\n\t\t\t<Cube currency='JPY' rate='161.23'/>\n`,
  ));
  assert(xml.endsWith("\t\t</Cube>\n\t</Cube>\n</gesmes:Envelope>\n"));
  assert.equal(xml.match(/<Cube currency=/g)?.length, SANDBOX_FX_RATES.length);
  assert.equal(new Set(SANDBOX_FX_RATES.map(([c]) => c)).size, SANDBOX_FX_RATES.length);
  for (const c of ["USD", "JPY", "GBP", "CHF", "CAD", "AUD", "SEK", "INR", "ZAR", "THB"]) {
    assert(SANDBOX_FX_RATES.some(([k]) => k === c), c);
  }
});

Deno.test("GET /fx/eurofxref-daily.xml serves the document as text/xml", async () => {
  const sb = await startSandbox({
    port: 0,
    mode: "test",
    snaptrade: { clientId: "X", consumerKey: "Y" },
    plaid: { clientId: "p", secret: "s" },
    alpaca: false,
    log: () => {},
    now: () => Date.parse("2026-11-27T15:30:00Z"),
  });
  try {
    const res = await fetch(`${sb.url}/fx/eurofxref-daily.xml`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "text/xml");
    const body = await res.text();
    assert.equal(body, ecbDailyXml("2026-11-27"));
  } finally {
    await sb.close();
  }
});
