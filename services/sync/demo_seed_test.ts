import assert from "node:assert/strict";
import { consumers, HoldingsChanged, streams } from "@meridian/proto";
import { verifyPassword } from "@meridian/runtime";
import { DEMO_EMAIL, DEMO_PASSWORD, seedDemo, seedDemoOnce } from "./demo_seed.ts";
import { startSyncEnv } from "./testing/env.ts";

/** The demo user's connections: one per provider, and SnapTrade's read-only and trade ones. */
const DEMO_SHAPE = [
  ["alpaca", "*", "*"],
  ["plaid", "*", "*"],
  ["snaptrade", "Questrade", "read"],
  ["snaptrade", "Robinhood", "trade"],
];

function demoShape(rows: { provider: string; institution: string; access: string }[]) {
  return rows.map((c) =>
    c.provider === "snaptrade" ? [c.provider, c.institution, c.access] : [c.provider, "*", "*"]
  );
}

Deno.test("demo seeding connects and syncs all three providers (SnapTrade read-only and trade), idempotently", async () => {
  const env = await startSyncEnv();
  const sql = env.deps.sql;
  try {
    const first = await seedDemoOnce(env.deps);
    const [u] =
      await sql`select id, role, password_hash, holdings_version from users where email = ${DEMO_EMAIL}`;
    assert.equal(u.role, "owner");
    assert.ok(await verifyPassword(DEMO_PASSWORD, u.password_hash));
    const connections = () =>
      sql<
        {
          id: string;
          provider: string;
          institution: string;
          access: string;
          status: string;
          last_synced_at: Date | null;
        }[]
      >`
        select id, provider, institution, access, status, last_synced_at from connections
         where user_id = ${u.id} order by provider, institution`;
    const conns = await connections();
    assert.deepEqual(demoShape(conns), DEMO_SHAPE);
    assert.ok(conns.every((c) => c.status === "active" && c.last_synced_at));
    assert.deepEqual(Object.keys(first.connections).sort(), [
      "alpaca",
      "plaid",
      "snaptrade",
      "snaptrade-trade",
    ]);
    assert.equal(first.connections["snaptrade-trade"], conns[3].id);
    const [{ n }] = await sql`select count(*)::int as n from positions where user_id = ${u.id}`;
    assert.ok(n > 5);
    // The trade connection's account can trade; the read-only one's cannot.
    const accounts = await sql<{ institution: string; can_trade: boolean }[]>`
      select c.institution, a.can_trade from accounts a join connections c
          on c.id = a.connection_id
       where a.user_id = ${u.id} and a.provider = 'snaptrade'`;
    assert.ok(accounts.some((a) => a.institution === "Robinhood" && a.can_trade));
    assert.ok(accounts.some((a) => a.institution === "Questrade"));
    assert.ok(accounts.every((a) => a.institution === "Robinhood" || !a.can_trade));

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

    // A demo connection the sandbox no longer serves is replaced; the others are kept, and so
    // is the SnapTrade registration they use.
    await env.admin("/connections/break", {
      provider: "snaptrade",
      connection: (await sql`select external_id from connections
        where id = ${first.connections["snaptrade-trade"]}`)[0].external_id,
    });
    const third = await seedDemoOnce(env.deps);
    assert.notEqual(third.connections["snaptrade-trade"], first.connections["snaptrade-trade"]);
    assert.deepEqual({ ...third.connections, "snaptrade-trade": "" }, {
      ...first.connections,
      "snaptrade-trade": "",
    });
    const after = await connections();
    assert.deepEqual(demoShape(after), DEMO_SHAPE);
    const [{ registrations }] = await sql`select count(*)::int as registrations
      from provider_users where user_id = ${u.id} and provider = 'snaptrade'`;
    assert.equal(registrations, 1);

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
