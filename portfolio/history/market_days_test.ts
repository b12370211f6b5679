import assert from "node:assert/strict";
import {
  addDays,
  closeDue,
  isWeekday,
  marketClose,
  monthStart,
  nyDay,
  weekdaysBetween,
} from "./market_days.ts";

Deno.test("nyDay follows New York, across daylight saving", () => {
  assert.equal(nyDay(Date.parse("2026-07-15T03:59:00Z")), "2026-07-14"); // EDT, UTC−4
  assert.equal(nyDay(Date.parse("2026-07-15T04:00:00Z")), "2026-07-15");
  assert.equal(nyDay(Date.parse("2026-12-01T04:59:00Z")), "2026-11-30"); // EST, UTC−5
  assert.equal(nyDay(Date.parse("2026-12-01T05:00:00Z")), "2026-12-01");
});

Deno.test("marketClose is 16:00 New York in summer and winter", () => {
  assert.equal(marketClose("2026-07-15").toISOString(), "2026-07-15T20:00:00.000Z");
  assert.equal(marketClose("2026-12-01").toISOString(), "2026-12-01T21:00:00.000Z");
});

Deno.test("closeDue: a weekday after 16:00 New York, never a weekend", () => {
  assert.equal(closeDue(new Date("2026-12-01T20:59:59Z")), null);
  assert.equal(closeDue(new Date("2026-12-01T21:00:00Z")), "2026-12-01");
  assert.equal(closeDue(new Date("2026-12-05T22:00:00Z")), null); // Saturday
});

Deno.test("calendar helpers", () => {
  assert.equal(isWeekday("2026-11-28"), false);
  assert.equal(addDays("2026-02-28", 1), "2026-03-01");
  assert.deepEqual(weekdaysBetween("2026-11-27", "2026-12-01"), [
    "2026-11-27",
    "2026-11-30",
    "2026-12-01",
  ]);
  assert.equal(monthStart("2026-11-27"), "2026-11-01");
});

Deno.test("nyDay agrees with Intl on every hour around both 2026 clock changes", () => {
  const fmt = new Intl.DateTimeFormat("en-CA", { timeZone: "America/New_York" });
  for (const start of [Date.parse("2026-03-07T00:00:00Z"), Date.parse("2026-10-31T00:00:00Z")]) {
    for (let ms = start; ms < start + 4 * 86_400_000; ms += 15 * 60_000) {
      assert.equal(nyDay(ms), fmt.format(ms), new Date(ms).toISOString());
    }
  }
});
