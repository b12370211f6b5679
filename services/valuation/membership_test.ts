import assert from "node:assert/strict";
import { ownerOf } from "./membership.ts";

const users = Array.from({ length: 3_000 }, (_, i) => `user-${i}`);

Deno.test("every user has one owner; a member leaving moves only its own users", () => {
  const three = ["valuation-a", "valuation-b", "valuation-c"];
  const before = new Map(users.map((u) => [u, ownerOf(u, three)]));
  const counts = new Map<string, number>();
  for (const o of before.values()) counts.set(o!, (counts.get(o!) ?? 0) + 1);
  for (const m of three) assert.ok(counts.get(m)! > 800, `${m} has a fair share`);
  const two = ["valuation-a", "valuation-c"];
  for (const u of users) {
    const now = ownerOf(u, two);
    if (before.get(u) !== "valuation-b") assert.equal(now, before.get(u), u);
    else assert.ok(now === "valuation-a" || now === "valuation-c");
  }
});

Deno.test("a member joining takes users only for itself; order of members does not matter", () => {
  const two = ["valuation-a", "valuation-b"];
  const three = ["valuation-c", "valuation-a", "valuation-b"];
  for (const u of users) {
    const was = ownerOf(u, two);
    const now = ownerOf(u, three);
    assert.ok(now === was || now === "valuation-c", u);
    assert.equal(ownerOf(u, [...three].reverse()), now);
  }
  assert.equal(ownerOf("x", []), null);
});
