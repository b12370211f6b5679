import assert from "node:assert/strict";
import { isStale, pickConnections, retryAfterS } from "./refresh_plan.ts";

const now = new Date("2026-01-02T00:00:00Z");
const hoursAgo = (h: number) => new Date(now.getTime() - h * 3_600_000);

Deno.test("staleness: never synced or older than the TTL", () => {
  assert.equal(isStale(null, 24, now), true);
  assert.equal(isStale(hoursAgo(25), 24, now), true);
  assert.equal(isStale(hoursAgo(23), 24, now), false);
});

Deno.test("picks flagged or stale active connections, or the named ones", () => {
  const c = [
    {
      id: "a",
      provider: "plaid" as const,
      status: "active" as const,
      last_synced_at: hoursAgo(1),
      pending: true,
    },
    {
      id: "b",
      provider: "plaid" as const,
      status: "active" as const,
      last_synced_at: hoursAgo(1),
      pending: false,
    },
    {
      id: "c",
      provider: "snaptrade" as const,
      status: "active" as const,
      last_synced_at: null,
      pending: false,
    },
    {
      id: "d",
      provider: "snaptrade" as const,
      status: "error" as const,
      last_synced_at: null,
      pending: true,
    },
    {
      id: "e",
      provider: "alpaca" as const,
      status: "disabled" as const,
      last_synced_at: null,
      pending: true,
    },
  ];
  assert.deepEqual(pickConnections(c, { ttlH: 24, now }).map((x) => x.id), ["a", "c"]);
  assert.deepEqual(
    pickConnections(c, { ttlH: 24, now, connectionIds: ["b", "d", "e"] }).map((x) => x.id),
    ["b", "d"],
  );
});

Deno.test("cooldown arithmetic rounds up and never exceeds the cooldown", () => {
  assert.equal(retryAfterS(null, 60, now), 0);
  assert.equal(retryAfterS(new Date(now.getTime() - 60_000), 60, now), 0);
  assert.equal(retryAfterS(new Date(now.getTime() - 59_001), 60, now), 1);
  assert.equal(retryAfterS(new Date(now.getTime() - 500), 60, now), 60);
  assert.equal(retryAfterS(new Date(now.getTime() + 10_000), 60, now), 60);
  assert.equal(retryAfterS(now, 0, now), 0);
});
