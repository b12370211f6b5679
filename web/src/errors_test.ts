import assert from "node:assert/strict";
import { errorText, fieldLabel, isSentence, issueText } from "./errors.ts";

Deno.test("the api's sentences are shown as they are, each once", () => {
  assert.equal(
    errorText(400, {
      error: "Enter your Alpaca API key ID. Enter your Alpaca secret key.",
      issues: [
        { path: ["key_id"], message: "Enter your Alpaca API key ID." },
        { path: ["secret_key"], message: "Enter your Alpaca secret key." },
        { path: ["secret_key"], message: "Enter your Alpaca secret key." },
      ],
    }),
    "Enter your Alpaca API key ID. Enter your Alpaca secret key.",
  );
  assert.equal(
    errorText(409, { error: "This Alpaca key is already connected as Alpaca (paper)." }),
    "This Alpaca key is already connected as Alpaca (paper).",
  );
});

Deno.test("raw zod paths and codes become a sentence about the field", () => {
  assert.equal(
    errorText(400, {
      error: "invalid request",
      issues: [
        { path: ["key_id"], message: "Too small: expected string to have >=8 characters" },
        { path: ["connection_ids", 0], message: "Invalid UUID" },
        { path: [], message: "Invalid input: expected object, received null" },
      ],
    }),
    "Check your Alpaca API key ID. Check the connection ids. Check the form.",
  );
  assert.equal(issueText({ message: 42 }), "Check the form.");
  assert.equal(fieldLabel(["base_currency"]), "the base currency");
});

Deno.test("an error that is not a sentence is made one; no body says what the status means", () => {
  assert.equal(errorText(404, { error: "not found" }), "Not found.");
  assert.equal(errorText(502, null), "Meridian could not answer. Try again in a moment.");
  assert.equal(errorText(429, {}), "Too many requests. Try again in a moment.");
  assert.equal(errorText(418, {}), "The request was refused (418).");
  assert.ok(isSentence("Wrong email or password."));
  assert.ok(!isSentence("Invalid email address."));
});
