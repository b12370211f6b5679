import assert from "node:assert/strict";
import { TRANSACTION_TYPES } from "./history_schema.ts";
import {
  filterProblem,
  isFiltered,
  NO_FILTER,
  PAGE_SIZE,
  transactionsPath,
  TYPE_LABELS,
} from "./transactions.ts";

const ACCOUNT = "00000000-0000-4000-8000-000000000001";

Deno.test("the filter and the cursor become the transactions query", () => {
  assert.equal(transactionsPath(NO_FILTER, null), `/api/transactions?limit=${PAGE_SIZE}`);
  const filter = { account_id: ACCOUNT, type: "dividend" as const, from: "2026-01-01", to: "" };
  assert.equal(
    transactionsPath(filter, "abc_-1"),
    `/api/transactions?account_id=${ACCOUNT}&type=dividend&from=2026-01-01&limit=${PAGE_SIZE}&cursor=abc_-1`,
  );
});

Deno.test("a start after the end is said before it is sent", () => {
  assert.equal(filterProblem(NO_FILTER), null);
  assert.equal(
    filterProblem({ ...NO_FILTER, from: "2026-02-01", to: "2026-01-31" }),
    "The start date is after the end date.",
  );
  assert.equal(filterProblem({ ...NO_FILTER, from: "2026-02-01", to: "2026-02-01" }), null);
  assert.equal(isFiltered(NO_FILTER), false);
  assert.equal(isFiltered({ ...NO_FILTER, type: "fee" }), true);
});

Deno.test("every transaction type has a label", () => {
  for (const t of TRANSACTION_TYPES) assert.ok(TYPE_LABELS[t], t);
});
