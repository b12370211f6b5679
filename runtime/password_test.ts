import assert from "node:assert/strict";
import { hashPassword, verifyPassword } from "./password.ts";

Deno.test("argon2id hashes verify and differ per salt", async () => {
  const a = await hashPassword("meridian-demo");
  const b = await hashPassword("meridian-demo");
  assert.match(a, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  assert.notEqual(a, b);
  assert.equal(await verifyPassword("meridian-demo", a), true);
  assert.equal(await verifyPassword("wrong", a), false);
  assert.equal(await verifyPassword("x", "not-a-hash"), false);
});
