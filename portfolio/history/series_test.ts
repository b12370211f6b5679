import assert from "node:assert/strict";
import { drawSeries, type HistoryWindow, resolveRange } from "./series.ts";
import type { StoredPoint } from "./store.ts";

const NOW = new Date("2026-12-01T18:00:00Z"); // 13:00 New York, a Tuesday

function win(range: string): HistoryWindow {
  const w = resolveRange(range, NOW);
  if ("error" in w) throw new Error(w.error);
  return w;
}

Deno.test("resolveRange: named ranges, custom spans and their resolutions", () => {
  assert.equal(win("1d").from.toISOString(), "2026-11-30T18:00:00.000Z");
  assert.equal(win("1M").from.toISOString(), "2026-11-01T18:00:00.000Z");
  assert.equal(win("YTD").from.toISOString(), "2026-01-01T05:00:00.000Z");
  assert.equal(win("1Y").from.toISOString(), "2025-12-01T18:00:00.000Z");
  assert.deepEqual(
    [win("1D"), win("1W"), win("1M"), win("3M"), win("ALL")].map((w) => w.resolution),
    ["5m", "30m", "1h", "1d", "1d"],
  );
  const custom = win("2026-11-02..2026-11-03");
  assert.equal(custom.from.toISOString(), "2026-11-02T05:00:00.000Z");
  assert.equal(custom.to.toISOString(), "2026-11-04T04:59:59.999Z");
  assert.equal(custom.resolution, "5m");
  assert.equal(win("2026-11-20..2026-12-31").to, NOW);
  for (
    const bad of [
      "5Y",
      "2026-02-30..2026-03-01",
      "2026-03-01..2026-02-01",
      "2027-01-01..2027-01-02",
    ]
  ) {
    assert.ok("error" in resolveRange(bad, NOW), bad);
  }
});

Deno.test("drawSeries: recorded close over reconstructed, intraday days, newest point last", () => {
  const p = (at: string, value: string, kind: StoredPoint["kind"]): StoredPoint => ({
    at: new Date(at),
    value,
    currency: "USD",
    kind,
  });
  const points = [
    p("2026-11-27T21:00:00Z", "90", "reconstructed"),
    p("2026-11-30T21:00:00Z", "95", "reconstructed"),
    p("2026-11-30T21:00:00Z", "96", "daily"),
    p("2026-12-01T15:00:00Z", "97", "intraday"),
    p("2026-12-01T15:05:00Z", "98", "intraday"),
    p("2026-12-01T15:35:00Z", "99", "intraday"),
  ];
  assert.deepEqual(
    drawSeries(points, win("1Y")).map((x) => [x.value, x.reconstructed]),
    [["90", true], ["96", false], ["99", false]],
  );
  // 30-minute buckets: the last point of each; days with intraday points drawn from them.
  assert.deepEqual(
    drawSeries(points, win("1W")).map((x) => x.value),
    ["90", "96", "98", "99"],
  );
  assert.deepEqual(drawSeries(points, win("1D")).map((x) => x.value), ["96", "97", "98", "99"]);
});
