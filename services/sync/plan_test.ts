import assert from "node:assert/strict";
import { type TransactionsInput, transactionsNeeded } from "./plan.ts";

const now = new Date("2025-06-02T12:00:00Z");
const hoursAgo = (h: number) => new Date(now.getTime() - h * 3_600_000);
const base: TransactionsInput = {
  activityWebhooks: true,
  reason: "manual",
  transactionsSyncedAt: hoursAgo(1),
  pendingTransactions: false,
  newAccount: false,
  ttlH: 24,
  now,
};

Deno.test("a holdings-only refresh of recently synced transactions does not fetch them", () => {
  for (const reason of ["manual", "webhook", "auto"] as const) {
    assert.equal(transactionsNeeded({ ...base, reason }), null);
  }
  assert.equal(transactionsNeeded({ ...base, transactionsSyncedAt: hoursAgo(23.9) }), null);
});

Deno.test("transactions are fetched when needed", () => {
  assert.equal(transactionsNeeded({ ...base, transactionsSyncedAt: null }), "never_synced");
  assert.equal(transactionsNeeded({ ...base, transactionsSyncedAt: hoursAgo(24) }), "expired");
  assert.equal(
    transactionsNeeded({ ...base, transactionsSyncedAt: hoursAgo(3), ttlH: 2 }),
    "expired",
  );
  assert.equal(transactionsNeeded({ ...base, pendingTransactions: true }), "flagged");
  assert.equal(transactionsNeeded({ ...base, newAccount: true }), "new_account");
  assert.equal(transactionsNeeded({ ...base, reason: "initial" }), "initial");
  assert.equal(transactionsNeeded({ ...base, reason: "stale" }), "stale");
});

Deno.test("a provider without activity webhooks fetches activity on every refresh", () => {
  assert.equal(transactionsNeeded({ ...base, activityWebhooks: false }), "no_webhooks");
  assert.equal(transactionsNeeded({ ...base, activityWebhooks: true }), null);
});
