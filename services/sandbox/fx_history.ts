/**
 * The European Central Bank's historical euro reference rates, `eurofxref-hist-90d.xml` (the last
 * 90 days) and `eurofxref-hist.xml` (every publication since 1999-01-04), served offline in the
 * ECB's layout for those files: one line per publication, newest first, double-quoted attributes,
 * rates without trailing zeros.
 *
 * The newest publication is the daily document's ({@link ecbReferenceDate}, with
 * {@link SANDBOX_FX_RATES}), so live and historical rates agree. Each earlier weekday undoes the
 * next publication's move of −0.5 % … +0.5 % per currency, seeded by currency and date
 * (`fx:CUR:DAY`) and kept at the places the currency's daily rate has: a day's rates depend only
 * on the day and the newest publication's date. Holidays are not modelled (weekdays only), as
 * in the daily document.
 * @module
 */

import { ecbReferenceDate, SANDBOX_FX_RATES } from "./fx.ts";
import { prng } from "./prng.ts";

/** The first publication of the euro reference rates. */
export const ECB_FIRST_DAY = "1999-01-04";
/** Calendar days `eurofxref-hist-90d.xml` reaches back, its newest day included. */
export const ECB_90D_DAYS = 90;

const DAY_MS = 86_400_000;

/** One publication: its date and each currency's units per 1 EUR, in the ECB's order. */
export interface EcbPublication {
  date: string;
  rates: [currency: string, rate: string][];
}

const dayNumber = (day: string): number => Date.parse(`${day}T00:00:00Z`) / DAY_MS;
const dayString = (n: number): string => new Date(n * DAY_MS).toISOString().slice(0, 10);
const isWeekday = (n: number): boolean => (n + 4) % 7 !== 0 && (n + 4) % 7 !== 6; // 1970-01-01 was a Thursday

/** A rate as an integer count of its smallest place, and how many places that is. */
function scaled(rate: string): { units: bigint; places: number } {
  const [whole, frac = ""] = rate.split(".");
  return { units: BigInt(whole + frac), places: frac.length };
}

/** `units` at `places`, without trailing zeros (as the history files write rates). */
function rateString(units: bigint, places: number): string {
  const digits = units.toString().padStart(places + 1, "0");
  const whole = digits.slice(0, digits.length - places);
  const frac = digits.slice(digits.length - places).replace(/0+$/, "");
  return frac ? `${whole}.${frac}` : whole;
}

/**
 * The publications from `newest` back to `oldest` (`YYYY-MM-DD`, both included, weekdays only),
 * newest first. `newest` carries {@link SANDBOX_FX_RATES}; see the module comment for the rest.
 */
export function ecbHistory(newest: string, oldest: string): EcbPublication[] {
  const walks = SANDBOX_FX_RATES.map(([currency, rate]) => ({ currency, ...scaled(rate) }));
  const out: EcbPublication[] = [];
  const first = Math.max(dayNumber(oldest), dayNumber(ECB_FIRST_DAY));
  for (let d = dayNumber(newest); d >= first; d--) {
    if (!isWeekday(d)) continue;
    const date = dayString(d);
    out.push({ date, rates: walks.map((w) => [w.currency, rateString(w.units, w.places)]) });
    for (const w of walks) {
      // This day's move undone, half up at the currency's places, never below one unit.
      const den = 10_000n + BigInt(Math.floor(prng(`fx:${w.currency}:${date}`)() * 101) - 50);
      const back = (2n * w.units * 10_000n + den) / (2n * den);
      w.units = back > 0n ? back : 1n;
    }
  }
  return out;
}

/** Publications as the ECB writes its history files. */
export function ecbHistoryXml(publications: readonly EcbPublication[]): string {
  const days = publications.map((p) =>
    `<Cube time="${p.date}">${
      p.rates.map(([c, r]) => `<Cube currency="${c}" rate="${r}"/>`).join("")
    }</Cube>`
  );
  return `<?xml version="1.0" encoding="UTF-8"?><gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01" xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref"><gesmes:subject>Reference rates</gesmes:subject><gesmes:Sender><gesmes:name>European Central Bank</gesmes:name></gesmes:Sender><Cube>${
    days.join("\n")
  }</Cube></gesmes:Envelope>\n`;
}

// The full file is about 8 MB and changes once a day: it is built once per newest date.
let full: { newest: string; xml: string } | null = null;

/**
 * `GET /fx/eurofxref-hist-90d.xml` (`"90d"`) or `GET /fx/eurofxref-hist.xml` (`"full"`) at
 * `now`, as `text/xml`.
 */
export function ecbHistoryResponse(now: number, file: "90d" | "full"): Response {
  const newest = ecbReferenceDate(now);
  let xml: string;
  if (file === "90d") {
    xml = ecbHistoryXml(ecbHistory(newest, dayString(dayNumber(newest) - ECB_90D_DAYS + 1)));
  } else {
    if (full?.newest !== newest) {
      full = { newest, xml: ecbHistoryXml(ecbHistory(newest, ECB_FIRST_DAY)) };
    }
    xml = full.xml;
  }
  return new Response(xml, { headers: { "content-type": "text/xml" } });
}
