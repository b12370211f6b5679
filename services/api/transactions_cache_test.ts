import assert from "node:assert/strict";
import type { Sql } from "@meridian/runtime";
import { TransactionsCache } from "./transactions_cache.ts";

/** A stand-in for PostgreSQL that counts its queries and answers one transaction per query. */
function countingSql() {
  const state = { queries: 0 };
  const sql = (() => {
    state.queries++;
    return Promise.resolve([{ type: "buy", trade_date: `2026-01-0${state.queries}` }]);
  }) as unknown as Sql;
  return { sql, state };
}

Deno.test("TransactionsCache: one read per fingerprint, memos with it, least recently used out", async () => {
  const { sql, state } = countingSql();
  const cache = new TransactionsCache(sql, 2);
  const a = await cache.get("u1", "v1");
  assert.equal(await cache.get("u1", "v1"), a);
  assert.equal(state.queries, 1);
  let computed = 0;
  const twice = () => a.memo("k", () => ++computed);
  assert.equal(twice(), 1);
  assert.equal(twice(), 1);

  // A sync changed the rows: read again, memos start afresh.
  const b = await cache.get("u1", "v2");
  assert.notEqual(b, a);
  assert.equal(state.queries, 2);
  assert.equal(b.memo("k", () => "new"), "new");

  // Bounded: u1 is the least recently used when u3 arrives.
  await cache.get("u2", "v1");
  await cache.get("u3", "v1");
  await cache.get("u1", "v2");
  assert.equal(state.queries, 5);
});
