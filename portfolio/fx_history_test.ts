import assert from "node:assert/strict";
import { testDatabase } from "@meridian/runtime/testing";
import { ecbHistory, ecbHistoryXml } from "../services/sandbox/fx_history.ts";
import { SANDBOX_FX_RATES } from "../services/sandbox/fx.ts";
import { convert, parseEcbHistory } from "./fx.ts";
import { fxHistory, loadFxHistory } from "./fx_history.ts";

const rates = (usd: string, jpy: string) => new Map([["USD", usd], ["JPY", jpy]]);

Deno.test("parseEcbHistory: every publication of a history file, newest first", () => {
  const publications = ecbHistory("2026-11-27", "2026-11-16");
  const parsed = parseEcbHistory(ecbHistoryXml(publications));
  assert.deepEqual(parsed.map((p) => p.date), [
    "2026-11-27",
    "2026-11-26",
    "2026-11-25",
    "2026-11-24",
    "2026-11-23",
    "2026-11-20",
    "2026-11-19",
    "2026-11-18",
    "2026-11-17",
    "2026-11-16",
  ]);
  for (const [i, p] of parsed.entries()) {
    assert.deepEqual([...p.rates], publications[i].rates);
  }
  assert.equal(parsed[0].rates.get("USD"), "1.055");
  assert.equal(parsed[0].rates.size, SANDBOX_FX_RATES.length);
});

Deno.test("parseEcbHistory since a day: from the latest publication on or before it", () => {
  const xml = ecbHistoryXml(ecbHistory("2026-11-27", "2026-01-01"));
  const all = parseEcbHistory(xml);
  const since = parseEcbHistory(xml, "2026-11-15"); // a Sunday: from Friday the 13th
  assert.deepEqual(since, all.filter((p) => p.date >= "2026-11-13"));
  assert.deepEqual(parseEcbHistory(xml, "2025-06-01"), all); // older than the file: all of it
  assert.deepEqual(parseEcbHistory(xml, "2026-11-27").map((p) => p.date), ["2026-11-27"]);
  // Publications in another order than the ECB's are all read, then kept the same way.
  const lines = xml.split("\n");
  const shuffled = [lines[1], lines[0].replace(/^.*?<Cube>(?=<Cube time)/, ""), ...lines.slice(2)];
  const head = lines[0].slice(0, lines[0].indexOf('<Cube time="'));
  const reordered = parseEcbHistory(head + shuffled.join("\n"), "2026-11-15");
  assert.deepEqual(
    reordered.map((p) => p.date).sort(),
    since.map((p) => p.date).sort(),
  );
});

Deno.test("parseEcbHistory: garbage is rejected with a clear error", () => {
  const one = ecbHistoryXml(ecbHistory("2026-11-27", "2026-11-27"));
  const two = ecbHistoryXml(ecbHistory("2026-11-27", "2026-11-26"));
  const bad: [string, RegExp][] = [
    ["<html>down</html>", /no gesmes:Envelope/],
    [one.replace("</gesmes:Envelope>", ""), /malformed/],
    [one.replace(/<Cube time=.*<\/Cube><\/Cube>/, "</Cube>"), /no dated Cube/],
    [two.replace('time="2026-11-26"', 'time="2026-11-27"'), /duplicate date 2026-11-27/],
    [two.replace('time="2026-11-26"', 'time="26.11.2026"'), /invalid date/],
    [
      two.replace(/(time="2026-11-26"><Cube currency="USD" rate=")[^"]+/, "$1-1"),
      /invalid rate for USD/,
    ],
  ];
  for (const [xml, message] of bad) assert.throws(() => parseEcbHistory(xml), message);
});

Deno.test("fxHistory: a day reads the latest publication on or before it", () => {
  const fx = fxHistory([
    { date: "2026-11-27", rates: rates("1.06", "160") },
    { date: "2026-11-25", rates: rates("1.05", "158") },
    { date: "2026-11-26", rates: rates("1.04", "159") },
  ]);
  assert.equal(fx.ratesOn("2026-11-24"), null);
  assert.equal(fx.ratesOn("2026-11-26")?.date, "2026-11-26");
  assert.equal(fx.ratesOn("2026-11-29")?.date, "2026-11-27"); // Sunday: Friday's
  assert.equal(fx.convert("104", "USD", "EUR", "2026-11-26"), "100");
  assert.equal(fx.convert("100", "EUR", "JPY", "2026-11-28"), "16000");
  // Cross rates through EUR, exactly as convert() of today's rates.
  assert.equal(
    fx.convert("123.45", "USD", "JPY", "2026-11-25"),
    convert("123.45", "USD", "JPY", rates("1.05", "158")),
  );
  assert.equal(fx.convert("10", "USD", "GBP", "2026-11-27"), null); // no GBP rate
  assert.equal(fx.convert("10", "USD", "EUR", "2026-11-01"), null); // nothing published yet
  assert.equal(fx.convert("10", "EUR", "EUR", "2026-11-01"), "10");
  assert.throws(() => fx.convert("ten", "USD", "EUR", "2026-11-27"), /not a decimal amount/);
  assert.throws(() => fx.ratesOn("27.11.2026"), RangeError);
  assert.equal(fxHistory([]).convert("1", "USD", "JPY", "2026-11-27"), null);
});

Deno.test("loadFxHistory: the stored publications of the range and the one before it", async () => {
  const db = await testDatabase();
  try {
    await db.sql`
      insert into fx_rates (date, currency, per_eur) values
        ('2026-11-18', 'USD', 1.01), ('2026-11-18', 'JPY', 150),
        ('2026-11-20', 'USD', 1.02), ('2026-11-20', 'JPY', 151),
        ('2026-11-23', 'USD', 1.03), ('2026-11-23', 'JPY', 152),
        ('2026-11-24', 'USD', 1.04), ('2026-11-24', 'JPY', 153),
        ('2026-11-25', 'USD', 1.05)`;
    // From a Saturday: Friday's rates carry the weekend; the 25th is after the range.
    const fx = await loadFxHistory(db.sql, "2026-11-21", "2026-11-24");
    assert.equal(fx.ratesOn("2026-11-18"), null);
    assert.deepEqual(fx.ratesOn("2026-11-22"), { date: "2026-11-20", rates: rates("1.02", "151") });
    assert.equal(fx.ratesOn("2026-11-26")?.date, "2026-11-24");
    assert.equal(fx.convert("102", "USD", "EUR", "2026-11-21"), "100");
    assert.equal(fx.convert("1", "EUR", "JPY", "2026-11-23"), "152");
    // A range before anything was stored reads nothing.
    assert.equal(
      (await loadFxHistory(db.sql, "2026-01-01", "2026-01-31")).ratesOn("2026-01-31"),
      null,
    );
    await assert.rejects(loadFxHistory(db.sql, "2026-1-1", "2026-01-31"), RangeError);
  } finally {
    await db.close();
  }
});
