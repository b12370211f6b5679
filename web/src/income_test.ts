import assert from "node:assert/strict";
import { everyMonth, incomePath, incomeTotals, isoDay, monthText } from "./income.ts";

const ACCOUNT = "00000000-0000-4000-8000-000000000001";

Deno.test("income periods become the api's dates; the last 12 months are its default", () => {
  const today = new Date(2026, 4, 7);
  assert.equal(isoDay(today), "2026-05-07");
  assert.equal(incomePath("12m", null, today), "/api/income");
  assert.equal(incomePath("ytd", null, today), "/api/income?from=2026-01-01&to=2026-05-07");
  assert.equal(
    incomePath("last_year", ACCOUNT, today),
    `/api/income?from=2025-01-01&to=2025-12-31&account_id=${ACCOUNT}`,
  );
  assert.equal(incomePath("12m", ACCOUNT, today), `/api/income?account_id=${ACCOUNT}`);
});

Deno.test("months read as words; column totals are exact", () => {
  assert.match(monthText("2026-05"), /May/);
  assert.match(monthText("2026-05"), /2026/);
  assert.match(monthText("2026-01"), /Jan/, "the first of the month in any time zone");
  assert.deepEqual(
    incomeTotals([
      { dividends: "0.1", interest: "0.2" },
      { dividends: "0.2", interest: "0.01" },
    ]),
    { dividends: "0.3", interest: "0.21" },
  );
  assert.deepEqual(incomeTotals([]), { dividends: "0", interest: "0" });
});

Deno.test("months without income are there as zeros, in order", () => {
  const may = { month: "2026-05", dividends: "1", interest: "0", total: "1" };
  const filled = everyMonth("2026-03-15", "2026-06-02", [may]);
  assert.deepEqual(filled.map((m) => m.month), ["2026-03", "2026-04", "2026-05", "2026-06"]);
  assert.deepEqual(filled[2], may);
  assert.deepEqual(filled[0], { month: "2026-03", dividends: "0", interest: "0", total: "0" });
  assert.deepEqual(
    everyMonth("2025-11-01", "2026-02-28", []).map((m) => m.month),
    ["2025-11", "2025-12", "2026-01", "2026-02"],
  );
  assert.deepEqual(
    everyMonth("2026-05-01", "2026-05-31", [may, { ...may, month: "2026-07" }])
      .map((m) => m.month),
    ["2026-05", "2026-07"],
  );
});
