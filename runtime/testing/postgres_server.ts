/**
 * A throwaway PostgreSQL cluster (initdb in a temporary directory, on a free port), shared by
 * the test files of one test process, with a fresh migrated database per caller.
 * @module
 */
import { connectDb, type Sql } from "../db.ts";
import { migrate } from "../migrate.ts";
import { findExecutable, freePort, run, stopAtExit, whenTestProcessGone } from "./processes.ts";

/** A running test cluster. */
export interface TestPostgres {
  port: number;
  dir: string;
  /** The URL of database `name` on this cluster. */
  url(name: string): string;
}

const PG_DIRS = (() => {
  const dirs: string[] = [];
  try {
    for (const e of Deno.readDirSync("/usr/lib/postgresql")) {
      dirs.push(`/usr/lib/postgresql/${e.name}/bin`);
    }
  } catch {
    // no Debian layout
  }
  return dirs.sort().reverse();
})();

let cluster: Promise<TestPostgres> | undefined;

async function asPostgresUser(cmd: string, args: string[]): Promise<string> {
  if (Deno.uid() === 0) return await run("runuser", ["-u", "postgres", "--", cmd, ...args]);
  return await run(cmd, args);
}

async function startCluster(): Promise<TestPostgres> {
  const initdb = findExecutable("initdb", PG_DIRS);
  const pgCtl = findExecutable("pg_ctl", PG_DIRS);
  const dir = await Deno.makeTempDir({ prefix: "meridian-pg-" });
  if (Deno.uid() === 0) await run("chown", ["postgres:postgres", dir]);
  const data = `${dir}/data`;
  const port = freePort();
  await asPostgresUser(initdb, [
    "-D",
    data,
    "-A",
    "trust",
    "-U",
    "postgres",
    "--no-sync",
    "-E",
    "UTF8",
  ]);
  const opts =
    `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off ` +
    `-c synchronous_commit=off -c max_connections=300`;
  await asPostgresUser(pgCtl, ["-D", data, "-o", opts, "-l", `${dir}/pg.log`, "-w", "start"]);
  const asOwner = Deno.uid() === 0 ? "runuser -u postgres -- " : "";
  await whenTestProcessGone(
    `${asOwner}"${pgCtl}" -D "${data}" -m immediate stop; rm -rf "${dir}"`,
  );
  stopAtExit(() => {
    const stop = Deno.uid() === 0
      ? new Deno.Command("runuser", {
        args: ["-u", "postgres", "--", pgCtl, "-D", data, "-m", "immediate", "stop"],
      })
      : new Deno.Command(pgCtl, { args: ["-D", data, "-m", "immediate", "stop"] });
    stop.outputSync();
    Deno.removeSync(dir, { recursive: true });
  });
  return { port, dir, url: (name) => `postgres://postgres@127.0.0.1:${port}/${name}` };
}

/** The test process's cluster, started on first use. */
export function testCluster(): Promise<TestPostgres> {
  cluster ??= startCluster();
  return cluster;
}

/** A fresh database with every migration applied. */
export interface TestDatabase {
  url: string;
  name: string;
  sql: Sql;
  /** Closes the pool and drops the database. */
  close(): Promise<void>;
}

/** Creates a fresh, migrated database on the shared test cluster. */
export async function testDatabase(opts: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const pg = await testCluster();
  const name = `t_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
  const admin = connectDb(pg.url("postgres"), { max: 1 });
  try {
    await admin.unsafe(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = pg.url(name);
  const sql = connectDb(url, { max: 20, name: "test" });
  if (opts.migrate ?? true) await migrate(sql);
  return {
    url,
    name,
    sql,
    close: async () => {
      await sql.end({ timeout: 5 });
      const drop = connectDb(pg.url("postgres"), { max: 1 });
      try {
        await drop.unsafe(`drop database if exists ${name} with (force)`);
      } finally {
        await drop.end();
      }
    },
  };
}
