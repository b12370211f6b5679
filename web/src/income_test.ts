import assert from "node:assert/strict";
import { incomePath, incomeTotals, isoDay, monthText } from "./income.ts";

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
