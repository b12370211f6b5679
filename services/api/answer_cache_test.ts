import assert from "node:assert/strict";
import { AnswerCache } from "./answer_cache.ts";

Deno.test("AnswerCache: shared while fresh, served stale while refreshed, waited for when old", async () => {
  let now = 0, computed = 0;
  const cache = new AnswerCache<number>({
    freshMs: 10_000,
    staleMs: 60_000,
    maxKeys: 10,
    now: () => now,
  });
  const compute = () => Promise.resolve(++computed);

  // Concurrent first requests share one computation.
  const [a, b] = await Promise.all([cache.get("k", "f1", compute), cache.get("k", "f1", compute)]);
  assert.deepEqual([a, b, computed], [1, 1, 1]);

  // Stale: the old answer at once, one new one computed behind it, served once it is there.
  now = 15_000;
  let finish!: (n: number) => void;
  const slow = () => {
    computed++;
    return new Promise<number>((r) => finish = r);
  };
  assert.equal(await cache.get("k", "f1", slow), 1);
  assert.equal(await cache.get("k", "f1", slow), 1);
  assert.equal(computed, 2); // one refresh, not two
  finish(2);
  await Promise.resolve();
  assert.equal(await cache.get("k", "f1", compute), 2);

  // Too old, or another fingerprint: the request waits for a new answer.
  now = 100_000;
  assert.equal(await cache.get("k", "f1", compute), 3);
  assert.equal(await cache.get("k", "f2", compute), 4);

  // A failed computation is not kept.
  await assert.rejects(cache.get("x", "f1", () => Promise.reject(new Error("down"))));
  assert.equal(await cache.get("x", "f1", compute), 5);
});
