/**
 * The European Central Bank's daily euro foreign exchange reference rates
 * (`eurofxref-daily.xml`), served offline in the ECB's own format: fixed, plausible rates dated
 * the latest weekday the ECB would have published on by now (around 16:00 CET, so before
 * 16:00 Europe/Berlin the previous weekday's).
 * @module
 */

/** Units of each currency per 1 EUR, in the ECB's order (EUR itself is not listed). */
export const SANDBOX_FX_RATES: ReadonlyArray<readonly [string, string]> = [
  ["USD", "1.0550"],
  ["JPY", "161.23"],
  ["CZK", "25.112"],
  ["DKK", "7.4589"],
  ["GBP", "0.83345"],
  ["HUF", "410.65"],
  ["PLN", "4.3125"],
  ["RON", "4.9763"],
  ["SEK", "11.5230"],
  ["CHF", "0.9312"],
  ["ISK", "145.10"],
  ["NOK", "11.6840"],
  ["TRY", "36.612"],
  ["AUD", "1.6234"],
  ["BRL", "6.1287"],
  ["CAD", "1.4781"],
  ["CNY", "7.6412"],
  ["HKD", "8.2095"],
  ["IDR", "16745.32"],
  ["ILS", "3.8921"],
  ["INR", "89.0515"],
  ["KRW", "1475.86"],
  ["MXN", "21.4512"],
  ["MYR", "4.7123"],
  ["NZD", "1.7923"],
  ["PHP", "61.982"],
  ["SGD", "1.4135"],
  ["THB", "36.271"],
  ["ZAR", "19.1235"],
];

const berlin = new Intl.DateTimeFormat("en-CA", {
  timeZone: "Europe/Berlin",
  year: "numeric",
  month: "2-digit",
  day: "2-digit",
  hour: "2-digit",
  hourCycle: "h23",
});

/**
 * The date (`YYYY-MM-DD`) of the latest ECB publication at `now` (ms since the epoch): today in
 * Berlin from 16:00 on a weekday, otherwise the weekday before. Holidays are not modelled.
 */
export function ecbReferenceDate(now: number): string {
  const parts = Object.fromEntries(berlin.formatToParts(now).map((p) => [p.type, p.value]));
  const day = new Date(Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day)));
  if (Number(parts.hour) < 16) day.setUTCDate(day.getUTCDate() - 1);
  while (day.getUTCDay() === 0 || day.getUTCDay() === 6) day.setUTCDate(day.getUTCDate() - 1);
  return day.toISOString().slice(0, 10);
}

/** The daily document, byte for byte in the ECB's layout (tabs, single-quoted attributes). */
export function ecbDailyXml(date: string): string {
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01" xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref">`,
    `\t<gesmes:subject>Reference rates</gesmes:subject>`,
    `\t<gesmes:Sender>`,
    `\t\t<gesmes:name>European Central Bank</gesmes:name>`,
    `\t</gesmes:Sender>`,
    `\t<Cube>`,
    `\t\t<Cube time='${date}'>`,
    ...SANDBOX_FX_RATES.map(([c, r]) => `\t\t\t<Cube currency='${c}' rate='${r}'/>`),
    `\t\t</Cube>`,
    `\t</Cube>`,
    `</gesmes:Envelope>`,
    ``,
  ].join("\n");
}

/** `GET /fx/eurofxref-daily.xml`: the document for `now`, as `text/xml`. */
export function ecbDailyResponse(now: number): Response {
  return new Response(ecbDailyXml(ecbReferenceDate(now)), {
    headers: { "content-type": "text/xml" },
  });
}
