import assert from "node:assert/strict";
import { examplePortfolioValue } from "@meridian/proto/fixtures";
import type { PortfolioValue } from "@meridian/proto";
import { roundTime, SnapshotPlanner } from "./snapshot_plan.ts";

const USER = "8d3c1f1e-8a4b-4c47-9a0e-0c7d0f5d6a11";
const ACCOUNT = "1b2c3d4e-5f60-4718-8a9b-0c1d2e3f4a5b";

function value(total: string, unconverted: string[] = []): PortfolioValue {
  const v = examplePortfolioValue(USER, 1, total);
  v.accounts = [{ account_id: ACCOUNT, value: total, native: [], day_change: "0" }];
  v.fx = { date: null, unconverted };
  return v;
}

Deno.test("roundTime floors to the interval", () => {
  assert.equal(
    roundTime(Date.parse("2026-12-01T15:07:31Z"), 300_000).toISOString(),
    "2026-12-01T15:05:00.000Z",
  );
});

Deno.test("intraday points only while the total moves; each account too", () => {
  const p = new SnapshotPlanner();
  const at = new Date("2026-12-01T15:05:00Z"); // 10:05 New York: before the close
  const first = p.plan([value("100")], at);
  assert.deepEqual(first.intraday.map((x) => [x.account_id, x.value]), [[null, "100"], [
    ACCOUNT,
    "100",
  ]]);
  assert.equal(first.daily.length, 0);
  p.committed(first);
  assert.equal(p.plan([value("100")], new Date("2026-12-01T15:10:00Z")).intraday.length, 0);
  assert.equal(p.plan([value("101")], new Date("2026-12-01T15:10:00Z")).intraday.length, 2);
});

Deno.test("a round not written is planned again", () => {
  const p = new SnapshotPlanner();
  p.plan([value("100")], new Date("2026-12-01T15:05:00Z"));
  assert.equal(p.plan([value("100")], new Date("2026-12-01T15:10:00Z")).intraday.length, 2);
});

Deno.test("the daily close: once per day after 16:00 New York, stamped at the close", () => {
  const p = new SnapshotPlanner();
  const after = p.plan([value("100")], new Date("2026-12-01T21:05:00Z"));
  assert.deepEqual(after.daily.map((x) => x.at.toISOString()), [
    "2026-12-01T21:00:00.000Z",
    "2026-12-01T21:00:00.000Z",
  ]);
  p.committed(after);
  const later = p.plan([value("100")], new Date("2026-12-01T21:10:00Z"));
  assert.equal(later.daily.length, 0);
  assert.equal(later.intraday.length, 0);
  // Saturday: no close.
  assert.equal(p.plan([value("102")], new Date("2026-12-05T22:00:00Z")).daily.length, 0);
});

Deno.test("a value with unconverted currencies is not recorded", () => {
  const p = new SnapshotPlanner();
  const round = p.plan([value("100", ["CAD"])], new Date("2026-12-01T21:05:00Z"));
  assert.equal(round.intraday.length + round.daily.length, 0);
});
