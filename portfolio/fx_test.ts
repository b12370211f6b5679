import assert from "node:assert/strict";
import { ecbDailyXml, SANDBOX_FX_RATES } from "../services/sandbox/fx.ts";
import { convert, crossRate, parseEcbDaily } from "./fx.ts";

const SAMPLE = `<?xml version="1.0" encoding="UTF-8"?>
<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01" xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref">
	<gesmes:subject>Reference rates</gesmes:subject>
	<gesmes:Sender>
		<gesmes:name>European Central Bank</gesmes:name>
	</gesmes:Sender>
	<Cube>
		<Cube time='2024-03-15'>
			<Cube currency='USD' rate='1.0890'/>
			<Cube currency='JPY' rate='162.04'/>
			<Cube currency='GBP' rate='0.85480'/>
		</Cube>
	</Cube>
</gesmes:Envelope>`;

const withCubes = (cubes: string, time = "2024-03-15") =>
  SAMPLE.replace(/<Cube time='[^']*'>[\s\S]*?\t\t<\/Cube>/, `<Cube time='${time}'>${cubes}</Cube>`);

Deno.test("parseEcbDaily: the sandbox's document", () => {
  const { date, rates } = parseEcbDaily(ecbDailyXml("2026-11-27"));
  assert.equal(date, "2026-11-27");
  assert.deepEqual([...rates], SANDBOX_FX_RATES.map(([c, r]) => [c, r]));
  assert.equal(rates.get("USD"), "1.0550");
  assert.equal(rates.has("EUR"), false);
});

Deno.test("parseEcbDaily: a hand-written sample", () => {
  const { date, rates } = parseEcbDaily(SAMPLE);
  assert.equal(date, "2024-03-15");
  assert.deepEqual(
    [...rates],
    [["USD", "1.0890"], ["JPY", "162.04"], ["GBP", "0.85480"]],
  );
  // Double quotes and no XML declaration are XML too.
  const plain = parseEcbDaily(
    `<Envelope><Cube><Cube time="2024-01-02"><Cube currency="CHF" rate="0.93"/></Cube></Cube></Envelope>`,
  );
  assert.deepEqual(plain, { date: "2024-01-02", rates: new Map([["CHF", "0.93"]]) });
});

Deno.test("parseEcbDaily: garbage is rejected with a clear error", () => {
  const bad: [string, RegExp][] = [
    ["", /malformed|no gesmes/],
    ["not xml at all", /malformed|no gesmes/],
    ["<html><body>Service Unavailable</body></html>", /no gesmes:Envelope/],
    [SAMPLE.replace("</gesmes:Envelope>", ""), /malformed/],
    [
      SAMPLE.replace("<Cube currency='USD' rate='1.0890'/>", "<Cube currency='USD' rate='1.0890'>"),
      /malformed/,
    ],
    [withCubes(""), /no rates/],
    [withCubes("<Cube currency='USD' rate='1'/>", ""), /invalid date/],
    [withCubes("<Cube currency='USD' rate='1'/>", "2024-02-30"), /invalid date/],
    [withCubes("<Cube currency='USD' rate='1'/>", "15.03.2024"), /invalid date/],
    [SAMPLE.replace(" time='2024-03-15'", ""), /invalid date/],
    [withCubes("<Cube currency='USD' rate='abc'/>"), /invalid rate for USD/],
    [withCubes("<Cube currency='USD' rate='-1.2'/>"), /invalid rate for USD/],
    [withCubes("<Cube currency='USD' rate='0'/>"), /invalid rate for USD/],
    [withCubes("<Cube currency='USD' rate='0.000'/>"), /invalid rate for USD/],
    [withCubes("<Cube currency='USD' rate='1e3'/>"), /invalid rate for USD/],
    [withCubes("<Cube currency='USD'/>"), /invalid rate for USD/],
    [withCubes("<Cube currency='usd' rate='1.1'/>"), /invalid currency "usd"/],
    [withCubes("<Cube currency='DOLLAR' rate='1.1'/>"), /invalid currency/],
    [withCubes("<Cube rate='1.1'/>"), /invalid currency null/],
    [withCubes("<Cube currency='EUR' rate='1'/>"), /invalid currency "EUR"/],
    [
      withCubes("<Cube currency='USD' rate='1.1'/><Cube currency='USD' rate='1.2'/>"),
      /duplicate currency USD/,
    ],
    [
      SAMPLE.replace("</Cube>\n\t</Cube>", "</Cube><Cube time='2024-03-14'></Cube>\n\t</Cube>"),
      /exactly one dated Cube/,
    ],
  ];
  for (const [xml, message] of bad) {
    assert.throws(() => parseEcbDaily(xml), message, xml);
  }
});

const rates = parseEcbDaily(SAMPLE).rates;

Deno.test("crossRate: through EUR, 20 significant digits", () => {
  assert.equal(crossRate(rates, "EUR", "USD")?.toString(), "1.089");
  assert.equal(crossRate(rates, "EUR", "GBP")?.toFixed(), "0.8548");
  assert.equal(crossRate(rates, "USD", "EUR")?.toString(), "0.9182736455463728191");
  // 162.04 / 1.089
  assert.equal(crossRate(rates, "USD", "JPY")?.toString(), "148.79706152433425161");
  // 1.089 / 162.04
  assert.equal(crossRate(rates, "JPY", "USD")?.toString(), "0.0067205628239940755369");
  assert.equal(crossRate(rates, "USD", "USD")?.toString(), "1");
  assert.equal(crossRate(rates, "EUR", "EUR")?.toString(), "1");
  assert.equal(crossRate(rates, "USD", "XYZ"), null);
  assert.equal(crossRate(rates, "XYZ", "USD"), null);
  assert.equal(crossRate(rates, "XYZ", "XYZ"), null);
  // Round trip stays within the precision.
  const there = crossRate(rates, "USD", "JPY")!;
  const back = crossRate(rates, "JPY", "USD")!;
  assert.ok(there.times(back).minus(1).abs().lt("1e-18"));
});

Deno.test("convert: a decimal string, not rounded for display", () => {
  assert.equal(convert("100", "EUR", "USD", rates), "108.9");
  assert.equal(convert("108.9", "USD", "EUR", rates), "100");
  assert.equal(convert("10", "USD", "JPY", rates), "1487.9706152433425161");
  assert.equal(convert("-2.50", "GBP", "GBP", rates), "-2.5");
  assert.throws(() => convert("1e9", "USD", "EUR", rates), /not a decimal amount/);
  assert.equal(convert("1", "USD", "XYZ", rates), null);
  assert.throws(() => convert("abc", "USD", "EUR", rates), /not a decimal amount/);
});
