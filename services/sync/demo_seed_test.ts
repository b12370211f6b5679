import assert from "node:assert/strict";
import { consumers, HoldingsChanged, streams } from "@meridian/proto";
import { verifyPassword } from "@meridian/runtime";
import { DEMO_EMAIL, DEMO_PASSWORD, seedDemo, seedDemoOnce } from "./demo_seed.ts";
import { startSyncEnv } from "./testing/env.ts";

Deno.test("demo seeding connects and syncs all three providers, idempotently", async () => {
  const env = await startSyncEnv();
  const sql = env.deps.sql;
  try {
    const first = await seedDemoOnce(env.deps);
    const [u] =
      await sql`select id, role, password_hash, holdings_version from users where email = ${DEMO_EMAIL}`;
    assert.equal(u.role, "owner");
    assert.ok(await verifyPassword(DEMO_PASSWORD, u.password_hash));
    const conns =
      await sql`select provider, status, last_synced_at from connections where user_id = ${u.id} order by provider`;
    assert.deepEqual(conns.map((c) => c.provider), ["alpaca", "plaid", "snaptrade"]);
    assert.ok(conns.every((c) => c.status === "active" && c.last_synced_at));
    const [{ n }] = await sql`select count(*)::int as n from positions where user_id = ${u.id}`;
    assert.ok(n > 5);

    // Holdings were announced on JetStream with a per-user version.
    const c = await env.deps.js.consumers.get(streams.holdings.name);
    const m = await c.next({ expires: 2000 });
    assert.ok(m);
    const msg = HoldingsChanged.parse(JSON.parse(new TextDecoder().decode(m.data)));
    assert.equal(msg.user_id, u.id);
    void consumers;

    const second = await seedDemoOnce(env.deps);
    assert.deepEqual(second.connections, first.connections, "the same connections are kept");
    const [{ users }] = await sql`select count(*)::int as users from users`;
    assert.equal(users, 1);

    // Live mode creates no demo user.
    const live = { ...env.deps, config: { ...env.deps.config, PROVIDERS: "live" as const } };
    await sql`delete from users`;
    await seedDemo(live);
    const [{ none }] = await sql`select count(*)::int as none from users`;
    assert.equal(none, 0);
  } finally {
    await env.close();
  }
});
