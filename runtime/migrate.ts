/**
 * Versioned SQL migrations: files named `NNN_name.sql`, applied in order inside one
 * transaction under an advisory lock, so concurrent starts migrate exactly once. A changed
 * checksum of an applied migration refuses to start.
 * @module
 */
import type { Sql } from "./db.ts";

/** One migration file. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

/** Raised when the database disagrees with the migration files. */
export class MigrationError extends Error {
  override name = "MigrationError";
}

const LOCK_KEY = 727_3741_001;
const FILE = /^(\d{3,})_([a-z0-9_]+)\.sql$/;

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Reads the migrations in `dir`, sorted by version; rejects duplicate versions. */
export async function readMigrations(dir: URL): Promise<Migration[]> {
  const out: Migration[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const m = FILE.exec(entry.name);
    if (!entry.isFile || !m) continue;
    const sql = await Deno.readTextFile(new URL(entry.name, dir));
    out.push({ version: Number(m[1]), name: m[2], sql, checksum: await sha256Hex(sql) });
  }
  out.sort((a, b) => a.version - b.version);
  for (let i = 1; i < out.length; i++) {
    if (out[i].version === out[i - 1].version) {
      throw new MigrationError(`duplicate migration version ${out[i].version}`);
    }
  }
  return out;
}

/** The schema's own migrations. */
export const MIGRATIONS_DIR = new URL("./db/migrations/", import.meta.url);

/** Applies pending migrations; returns the versions applied by this call. */
export async function migrate(sql: Sql, migrations?: Migration[]): Promise<number[]> {
  const all = migrations ?? await readMigrations(MIGRATIONS_DIR);
  const applied: number[] = [];
  await sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(${LOCK_KEY})`;
    await tx`create table if not exists schema_migrations (
      version integer primary key,
      name text not null,
      checksum text not null,
      applied_at timestamptz not null default now())`;
    const rows = await tx<{ version: number; name: string; checksum: string }[]>`
      select version, name, checksum from schema_migrations order by version`;
    const known = new Map(rows.map((r) => [r.version, r]));
    for (const m of all) {
      const done = known.get(m.version);
      if (done) {
        if (done.checksum !== m.checksum) {
          throw new MigrationError(
            `migration ${m.version}_${m.name} changed after it was applied (checksum mismatch); refusing to start`,
          );
        }
        continue;
      }
      await tx.unsafe(m.sql);
      await tx`insert into schema_migrations (version, name, checksum) values (${m.version}, ${m.name}, ${m.checksum})`;
      applied.push(m.version);
    }
    for (const version of known.keys()) {
      if (!all.some((m) => m.version === version)) {
        throw new MigrationError(
          `database has migration ${version}, which this build does not know; refusing to start`,
        );
      }
    }
  });
  return applied;
}
