import assert from "node:assert/strict";
import { connectDb } from "./db.ts";
import { migrate, MigrationError, readMigrations } from "./migrate.ts";
import { MIGRATIONS_DIR } from "./migrate.ts";
import { testDatabase } from "./testing/mod.ts";

Deno.test("concurrent starts migrate exactly once", async () => {
  const db = await testDatabase({ migrate: false });
  const pools = Array.from({ length: 4 }, () => connectDb(db.url, { max: 1 }));
  try {
    const results = await Promise.all(pools.map((p) => migrate(p)));
    const applied = results.flat();
    const all = await readMigrations(MIGRATIONS_DIR);
    assert.deepEqual(applied.sort(), all.map((m) => m.version).sort());
    const rows = await db.sql`select version from schema_migrations`;
    assert.equal(rows.length, all.length);
  } finally {
    await Promise.all(pools.map((p) => p.end()));
    await db.close();
  }
});

Deno.test("a changed applied migration refuses to start", async () => {
  const db = await testDatabase();
  try {
    const all = await readMigrations(MIGRATIONS_DIR);
    const tampered = all.map((m, i) => i === 0 ? { ...m, checksum: "0".repeat(64) } : m);
    await assert.rejects(() => migrate(db.sql, tampered), MigrationError);
  } finally {
    await db.close();
  }
});

Deno.test("schema refuses bad states", async () => {
  const db = await testDatabase();
  const { sql } = db;
  try {
    const [a] = await sql`insert into users (email, password_hash) values ('a@example.com', ${
      "x".repeat(30)
    }) returning id`;
    const [b] = await sql`insert into users (email, password_hash) values ('b@example.com', ${
      "x".repeat(30)
    }) returning id`;
    await assert.rejects(() =>
      sql`insert into users (email, password_hash) values ('UPPER@example.com', ${"x".repeat(30)})`
    );
    await assert.rejects(
      () =>
        sql`insert into connections (user_id, provider, external_id, institution) values (${a.id}, 'plaid', 'item-1', 'Bank')`,
      /check/i,
    );
    const [conn] =
      await sql`insert into connections (user_id, provider, external_id, institution) values (${a.id}, 'snaptrade', 'auth-1', 'Broker') returning id`;
    await assert.rejects(
      () =>
        sql`insert into accounts (user_id, connection_id, provider, external_id, name, type, currency, synced_at)
        values (${b.id}, ${conn.id}, 'snaptrade', 'acc-1', 'x', 'brokerage', 'USD', now())`,
      /foreign key/i,
      "an account cannot belong to another user's connection",
    );
    await assert.rejects(
      () =>
        sql`insert into accounts (user_id, connection_id, provider, external_id, name, type, currency, synced_at)
        values (${a.id}, ${conn.id}, 'snaptrade', 'acc-1', 'x', 'brokerage', 'usd', now())`,
      /check/i,
    );
  } finally {
    await db.close();
  }
});
