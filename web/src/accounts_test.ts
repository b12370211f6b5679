import assert from "node:assert/strict";
import { accountLabels, labelOf, shortName } from "./accounts.ts";

const acct = (
  id: string,
  institution: string,
  name: string,
  number_mask: string | null,
  type = "brokerage",
) => ({ id, institution, name, number_mask, type });

Deno.test("institution, name and mask, without the institution said twice", () => {
  const labels = accountLabels([
    acct("a", "Robinhood", "Robinhood Individual", "1234"),
    acct("b", "Questrade", "Questrade TFSA", "4567", "retirement"),
    acct("c", "First Platypus Bank", "Plaid IRA (First Platypus Bank)", "6666", "retirement"),
    acct("d", "Alpaca (paper)", "Alpaca PA3DEMO0001", "0001"),
    acct("e", "Schwab", "Brokerage", null),
  ]);
  assert.deepEqual(labels.get("a"), {
    full: "Robinhood · Individual ···1234",
    short: "Individual ···1234",
  });
  assert.equal(labelOf(labels, "b"), "Questrade · TFSA ···4567");
  assert.equal(labelOf(labels, "c"), "First Platypus Bank · Plaid IRA ···6666");
  // The mask is already the end of the name.
  assert.equal(labelOf(labels, "d"), "Alpaca (paper) · PA3DEMO0001");
  assert.equal(labelOf(labels, "e", "short"), "Brokerage");
  assert.equal(labelOf(labels, "gone"), "An account no longer connected");
});

Deno.test("two accounts of one provider never read alike", () => {
  const masks = accountLabels([
    acct("a", "Robinhood", "Individual", "1234"),
    acct("b", "Robinhood", "Individual", "9876"),
  ]);
  assert.notEqual(labelOf(masks, "a"), labelOf(masks, "b"));

  const byType = accountLabels([
    acct("a", "Robinhood", "Individual", null, "brokerage"),
    acct("b", "Robinhood", "Individual", null, "retirement"),
  ]);
  assert.equal(labelOf(byType, "a"), "Robinhood · Individual (brokerage)");
  assert.equal(labelOf(byType, "b"), "Robinhood · Individual (retirement)");
  assert.equal(labelOf(byType, "b", "short"), "Individual (retirement)");

  const numbered = accountLabels([
    acct("a", "Robinhood", "Individual", "1234"),
    acct("b", "Robinhood", "individual", "1234"),
    acct("c", "Robinhood", "Individual", "1234", "retirement"),
  ]);
  assert.deepEqual(
    ["a", "b", "c"].map((id) => labelOf(numbered, id)),
    [
      "Robinhood · Individual ···1234 (1)",
      "Robinhood · individual ···1234 (2)",
      "Robinhood · Individual ···1234 (3)",
    ],
  );
});

Deno.test("a name that is only the institution is kept", () => {
  assert.equal(shortName("Robinhood", "Robinhood"), "Robinhood");
  assert.equal(shortName("Robinhood", "  "), "Account");
  assert.equal(shortName("Alpaca (paper)", "Alpaca: Main"), "Main");
});
