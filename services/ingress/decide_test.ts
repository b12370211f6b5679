import assert from "node:assert/strict";
import { decide, outcomeOf } from "./decide.ts";

const st = (eventType: string, extra: Record<string, unknown> = {}) =>
  decide("snaptrade", { eventType, brokerageAuthorizationId: "auth", userId: "su", ...extra });
const pl = (webhook_type: string, webhook_code: string, extra: Record<string, unknown> = {}) =>
  decide("plaid", { webhook_type, webhook_code, item_id: "item", ...extra });
const ref = (provider: "snaptrade" | "plaid", externalId: string) => ({ provider, externalId });

Deno.test("SnapTrade events", () => {
  for (
    const [t, transactions] of [
      ["ACCOUNT_HOLDINGS_UPDATED", false],
      ["ACCOUNT_TRANSACTIONS_UPDATED", true],
      ["ACCOUNT_TRANSACTIONS_INITIAL_UPDATE", true],
      ["NEW_ACCOUNT_AVAILABLE", false],
      ["ACCOUNT_REMOVED", false],
      ["CONNECTION_UPDATED", false],
    ] as const
  ) {
    assert.deepEqual(st(t).intent, {
      kind: "flag",
      connection: ref("snaptrade", "auth"),
      reason: t,
      transactions,
    });
  }
  const broken = st("CONNECTION_BROKEN").intent;
  assert.equal(broken.kind, "status");
  assert.ok(broken.kind === "status" && broken.status === "error" && broken.reason);
  assert.deepEqual(st("CONNECTION_FIXED").intent, {
    kind: "status",
    connection: ref("snaptrade", "auth"),
    status: "active",
    reason: null,
  });
  assert.deepEqual(st("CONNECTION_DELETED").intent, {
    kind: "remove_connection",
    connection: ref("snaptrade", "auth"),
  });
  assert.deepEqual(st("USER_DELETED").intent, {
    kind: "remove_provider_user",
    provider: "snaptrade",
    externalUserId: "su",
  });
  assert.equal(st("TRADE_UPDATE").intent.kind, "forward");
  assert.equal(st("USER_REGISTERED").intent.kind, "ignore");
  assert.equal(st("SOMETHING_NEW").intent.kind, "unknown_type");
  assert.equal(
    decide("snaptrade", { eventType: "ACCOUNT_HOLDINGS_UPDATED" }).intent.kind,
    "ignore",
  );
});

Deno.test("Plaid events", () => {
  assert.deepEqual(pl("HOLDINGS", "DEFAULT_UPDATE").intent, {
    kind: "flag",
    connection: ref("plaid", "item"),
    reason: "HOLDINGS.DEFAULT_UPDATE",
    transactions: false,
  });
  for (const code of ["DEFAULT_UPDATE", "HISTORICAL_UPDATE"]) {
    assert.deepEqual(pl("INVESTMENTS_TRANSACTIONS", code).intent, {
      kind: "flag",
      connection: ref("plaid", "item"),
      reason: `INVESTMENTS_TRANSACTIONS.${code}`,
      transactions: true,
    });
  }
  const added = pl("ITEM", "NEW_ACCOUNTS_AVAILABLE").intent;
  assert.ok(added.kind === "flag" && added.transactions === false);
  const err = pl("ITEM", "ERROR", { error: { error_code: "ITEM_LOGIN_REQUIRED" } }).intent;
  assert.ok(
    err.kind === "status" && err.status === "error" && err.reason === "ITEM_LOGIN_REQUIRED",
  );
  const warn = pl("ITEM", "PENDING_DISCONNECT", { reason: "INSTITUTION_MIGRATION" }).intent;
  assert.ok(warn.kind === "warning" && warn.warning.startsWith("PENDING_DISCONNECT"));
  assert.equal(pl("ITEM", "PENDING_EXPIRATION").intent.kind, "warning");
  const repaired = pl("ITEM", "LOGIN_REPAIRED").intent;
  assert.ok(repaired.kind === "status" && repaired.status === "active");
  assert.equal(pl("TRANSACTIONS", "SYNC_UPDATES_AVAILABLE").intent.kind, "unknown_type");
  assert.equal(decide("plaid", [1, 2]).intent.kind, "unknown_type");
});

Deno.test("outcomes", () => {
  assert.equal(outcomeOf(pl("HOLDINGS", "DEFAULT_UPDATE").intent, false), "flagged");
  assert.equal(outcomeOf(pl("HOLDINGS", "DEFAULT_UPDATE").intent, true), "synced");
  assert.equal(outcomeOf(st("CONNECTION_DELETED").intent, false), "removed");
});
