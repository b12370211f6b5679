import assert from "node:assert/strict";
import { z } from "zod";
import { invalid } from "./http.ts";
import * as S from "./schemas.ts";
import { asSentence, fieldName, isSentence, issueSentence, issuesSummary } from "./sentences.ts";

/** The sentences a schema's refusal of `input` becomes. */
function said(schema: z.ZodType, input: unknown): string[] {
  const r = schema.safeParse(input);
  assert.ok(!r.success, "expected a refusal");
  return r.error.issues.map(issueSentence);
}

Deno.test("a missing or empty Alpaca key asks for it, once", () => {
  assert.deepEqual(said(S.AlpacaBody, {}), [
    "Enter your Alpaca API key ID.",
    "Enter your Alpaca secret key.",
  ]);
  assert.deepEqual(said(S.AlpacaBody, { key_id: "  ", secret_key: "" }), [
    "Enter your Alpaca API key ID.",
    "Enter your Alpaca secret key.",
  ]);
  assert.deepEqual(said(S.AlpacaBody, { key_id: "A".repeat(65), secret_key: "s".repeat(20) }), [
    "The API key ID must be 64 characters or fewer.",
  ]);
});

Deno.test("zod's own messages become sentences naming the field", () => {
  assert.deepEqual(said(S.SignupBody, { email: "not-an-email", password: "short" }), [
    "Your email address must be a valid email address.",
    "Use a password of at least 10 characters.",
  ]);
  assert.deepEqual(said(S.SnapTradePortalBody, { access: "write" }), [
    "The access level must be “read” or “trade”.",
  ]);
  assert.deepEqual(said(S.RefreshBody, { connection_ids: ["x"] }), [
    "Item 1 of the connections must be a valid id.",
  ]);
  assert.deepEqual(said(S.TransactionsQuery, { limit: "500", from: "2026-13-45" }), [
    "The start date must be a date like 2026-01-31.",
    "The limit must be at most 200.",
  ]);
  assert.deepEqual(said(S.AlpacaBody, null), ["The request body must be a JSON object."]);
  assert.deepEqual(said(S.AlpacaBody, { key_id: 5, secret_key: "s".repeat(20) }), [
    "Your Alpaca API key ID must be text.",
  ]);
  assert.deepEqual(
    said(S.AlpacaBody, { key_id: "PKTEST0000000001", secret_key: "s".repeat(20), x: 1 }),
    ["This request does not take the field “x”."],
  );
  assert.deepEqual(said(S.TransactionsQuery, { symbol: "A\u0000" }), [
    "The symbol must not contain control characters.",
  ]);
});

Deno.test("sentences are kept, fragments are completed, unknown fields still read", () => {
  assert.ok(isSentence("Enter your Alpaca API key ID."));
  assert.ok(!isSentence("Invalid email address"));
  assert.ok(!isSentence("Invalid input."));
  assert.ok(!isSentence("use at least 10 characters"));
  assert.equal(
    issueSentence({ path: ["key_id"], message: "new Alpaca keys are required to reconnect" }),
    "New Alpaca keys are required to reconnect.",
  );
  assert.equal(
    issueSentence({ path: ["key_id"], code: "custom", message: "bad" }),
    "Your Alpaca API key ID is not valid.",
  );
  assert.equal(asSentence(" keys rejected: check paper/live"), "Keys rejected: check paper/live.");
  assert.equal(asSentence("Done!"), "Done!");
  assert.equal(
    issueSentence({ path: ["note_text"], message: "may hold at most one line" }),
    "The note text field may hold at most one line.",
  );
  assert.equal(fieldName([]), "the request");
  assert.equal(fieldName(["connection_ids", 2]), "item 3 of the connections");
});

Deno.test("a 400's error is its issues' sentences, a few at most", () => {
  assert.equal(issuesSummary([]), "The request is not valid.");
  assert.equal(issuesSummary(["A.", "A.", "B."]), "A. B.");
  assert.equal(
    issuesSummary(["A.", "B.", "C.", "D.", "E."]),
    "A. B. C. There are 2 more problems.",
  );
  const err = invalid(S.AlpacaBody.safeParse({}).error!.issues);
  assert.equal(err.status, 400);
  assert.equal(err.message, "Enter your Alpaca API key ID. Enter your Alpaca secret key.");
  assert.deepEqual(err.extra.issues, [
    { path: ["key_id"], message: "Enter your Alpaca API key ID." },
    { path: ["secret_key"], message: "Enter your Alpaca secret key." },
  ]);
});
