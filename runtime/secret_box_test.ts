import assert from "node:assert/strict";
import { Keyring, SecretError } from "./secret_box.ts";

const ctx = { table: "connections", column: "secret", rowId: "row-a", userId: "user-a" };

Deno.test("a sealed secret opens only for its own row and user", async () => {
  const ring = await Keyring.parse(Keyring.generateSpec("k1"));
  const sealed = await ring.seal("access-sandbox-123", ctx);
  assert.equal(sealed.keyId, "k1");
  assert.equal(new TextDecoder().decode(sealed.ciphertext).includes("access-sandbox"), false);
  assert.equal(await ring.open(sealed, ctx), "access-sandbox-123");
  await assert.rejects(() => ring.open(sealed, { ...ctx, rowId: "row-b" }), SecretError);
  await assert.rejects(() => ring.open(sealed, { ...ctx, userId: "user-b" }), SecretError);
});

Deno.test("rotation: old key ids still open, new secrets use the first key", async () => {
  const oldSpec = Keyring.generateSpec("old");
  const old = await Keyring.parse(oldSpec);
  const sealed = await old.seal("s3cret-value", ctx);
  const rotated = await Keyring.parse(`${Keyring.generateSpec("new")},${oldSpec}`);
  assert.equal(await rotated.open(sealed, ctx), "s3cret-value");
  assert.equal((await rotated.seal("x-value-1", ctx)).keyId, "new");
  const withoutOld = await Keyring.parse(Keyring.generateSpec("new2"));
  await assert.rejects(() => withoutOld.open(sealed, ctx), /unknown key id/);
});
