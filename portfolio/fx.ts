/**
 * Foreign exchange: the European Central Bank's reference rates (`eurofxref-daily.xml` and the
 * history files, units of each currency per 1 EUR) and cross rates through EUR. Pure: no I/O.
 * @module
 */
import { Decimal } from "decimal.js";
import { XMLParser, XMLValidator } from "fast-xml-parser";

export { convert, crossRate } from "./fx_cross.ts";

/** Rates per EUR with their date, as the ECB publishes them. */
export interface EcbDaily {
  /** `YYYY-MM-DD`, the reference date. */
  date: string;
  /** Currency (ISO 4217) → units per 1 EUR, as a decimal string; EUR itself is not listed. */
  rates: Map<string, string>;
}

const DECIMAL = /^[0-9]+(\.[0-9]+)?$/;
const CURRENCY = /^[A-Z]{3}$/;

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: "@_",
  removeNSPrefix: true,
  parseAttributeValue: false,
  parseTagValue: false,
  processEntities: false,
  isArray: (name) => name === "Cube",
});

function validDate(s: unknown): s is string {
  if (typeof s !== "string" || !/^\d{4}-\d{2}-\d{2}$/.test(s)) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}

type Node = Record<string, unknown>;
const isNode = (v: unknown): v is Node => typeof v === "object" && v !== null;

/**
 * Parses the ECB's daily document. Throws an Error naming the problem for malformed XML,
 * anything but one dated set of rates, an invalid date, a currency that is not three capital
 * letters (or is EUR, or repeats), or a rate that is not a positive decimal.
 */
export function parseEcbDaily(xml: string): EcbDaily {
  const days = datedCubes(xml);
  if (days.length !== 1) throw new Error("ECB rates: expected exactly one dated Cube element");
  return parseDay(days[0]);
}

/**
 * Parses one of the ECB's history files (`eurofxref-hist-90d.xml`, `eurofxref-hist.xml`): its
 * publications in the file's order (newest first); with `since` (`YYYY-MM-DD`), only those from
 * the latest one on or before `since` on (all of them when none is that old). Throws as
 * {@link parseEcbDaily} does, and for a file without publications or with a date twice.
 */
export function parseEcbHistory(xml: string, since?: string): EcbDaily[] {
  const days = datedCubes(since === undefined ? xml : withoutOlder(xml, since)).map(parseDay);
  if (days.length === 0) throw new Error("ECB rates: no dated Cube element");
  const dates = new Set<string>();
  for (const { date } of days) {
    if (dates.has(date)) throw new Error(`ECB rates: duplicate date ${date}`);
    dates.add(date);
  }
  if (since === undefined) return days;
  const anchor = days.reduce<string | null>(
    (a, { date }) => date <= since && (a === null || date > a) ? date : a,
    null,
  );
  return anchor === null ? days : days.filter((d) => d.date >= anchor);
}

const DATED_CUBE = /<Cube\s+time=(["'])(\d{4}-\d{2}-\d{2})\1/g;

/**
 * `xml` cut after the latest publication on or before `since` (the envelope closed again):
 * parsing the full history (25 years, 8 MB) takes seconds, the part a backfill needs far less.
 * The ECB lists publications newest first; a document in any other order is returned whole.
 */
function withoutOlder(xml: string, since: string): string {
  const found = [...xml.matchAll(DATED_CUBE)];
  for (let i = 1; i < found.length; i++) if (found[i][2] >= found[i - 1][2]) return xml;
  const anchor = found.findIndex((m) => m[2] <= since);
  if (anchor < 0 || anchor === found.length - 1) return xml;
  return `${xml.slice(0, found[anchor + 1].index)}</Cube></gesmes:Envelope>`;
}

/** The dated Cube elements of a well-formed ECB document. */
function datedCubes(xml: string): Node[] {
  const valid = XMLValidator.validate(xml);
  if (valid !== true) {
    throw new Error(`ECB rates: malformed XML: ${valid.err.msg} (line ${valid.err.line})`);
  }
  const doc = parser.parse(xml) as Node;
  const envelope = doc.Envelope;
  if (!isNode(envelope)) throw new Error("ECB rates: no gesmes:Envelope root element");
  const outer = envelope.Cube;
  // An empty outer Cube (no publications) parses as "".
  if (!Array.isArray(outer) || outer.length !== 1 || !(isNode(outer[0]) || outer[0] === "")) {
    throw new Error("ECB rates: expected one outer Cube element");
  }
  const days = isNode(outer[0]) ? outer[0].Cube ?? [] : [];
  if (!Array.isArray(days) || !days.every(isNode)) {
    throw new Error("ECB rates: malformed dated Cube elements");
  }
  return days;
}

/** One dated Cube: its date and rates, checked. */
function parseDay(day: Node): EcbDaily {
  const date = day["@_time"];
  if (!validDate(date)) {
    throw new Error(`ECB rates: missing or invalid date ${JSON.stringify(date ?? null)}`);
  }
  const entries = day.Cube;
  if (!Array.isArray(entries) || entries.length === 0) {
    throw new Error(`ECB rates: no rates for ${date}`);
  }
  const rates = new Map<string, string>();
  for (const entry of entries) {
    const currency = isNode(entry) ? entry["@_currency"] : undefined;
    const rate = isNode(entry) ? entry["@_rate"] : undefined;
    if (typeof currency !== "string" || !CURRENCY.test(currency) || currency === "EUR") {
      throw new Error(`ECB rates: invalid currency ${JSON.stringify(currency ?? null)}`);
    }
    if (rates.has(currency)) throw new Error(`ECB rates: duplicate currency ${currency}`);
    if (typeof rate !== "string" || !DECIMAL.test(rate) || new Decimal(rate).lte(0)) {
      throw new Error(`ECB rates: invalid rate for ${currency}: ${JSON.stringify(rate ?? null)}`);
    }
    rates.set(currency, rate);
  }
  return { date, rates };
}
