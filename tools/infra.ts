/**
 * NATS and PostgreSQL for `make up`: use the configured ones when they answer, otherwise run
 * local ones with their data under `.data/`.
 * @module
 */
import { connectDb } from "@meridian/runtime";

/** A dependency the supervisor started and must stop. */
export interface LocalProcess {
  name: string;
  stop(): Promise<void>;
}

/** True when something accepts TCP connections at host:port within `timeoutMs`. */
export async function answers(hostname: string, port: number, timeoutMs = 1_500): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const conn = await Promise.race([
      Deno.connect({ hostname, port }),
      new Promise<never>((
        _,
        reject,
      ) => (timer = setTimeout(() => reject(new Error("timeout")), timeoutMs))),
    ]);
    conn.close();
    return true;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/** Host and port of a nats:// or postgres:// URL. */
export function hostPort(url: string, defaultPort: number): { hostname: string; port: number } {
  const u = new URL(url);
  return { hostname: u.hostname, port: Number(u.port || defaultPort) };
}

async function waitFor(hostname: string, port: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await answers(hostname, port, 500)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

function findBinary(name: string, dirs: string[]): string | undefined {
  for (const dir of [...(Deno.env.get("PATH") ?? "").split(":"), ...dirs]) {
    try {
      if (Deno.statSync(`${dir}/${name}`).isFile) return `${dir}/${name}`;
    } catch {
      // keep looking
    }
  }
  return undefined;
}

function pgBinDirs(): string[] {
  try {
    return [...Deno.readDirSync("/usr/lib/postgresql")].map((e) =>
      `/usr/lib/postgresql/${e.name}/bin`
    ).sort()
      .reverse();
  } catch {
    return [];
  }
}

async function run(cmd: string, args: string[]): Promise<void> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")}: ${new TextDecoder().decode(out.stderr).trim()}`);
  }
}

/** Starts nats-server with JetStream on `port`, data in `dir`. */
export async function startLocalNats(dir: string, port: number): Promise<LocalProcess> {
  const bin = findBinary("nats-server", ["/usr/sbin"]);
  if (!bin) throw new Error("nats-server is not installed (apt-get install nats-server)");
  await Deno.mkdir(dir, { recursive: true });
  const child = new Deno.Command(bin, {
    args: ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", dir],
    stdout: "null",
    stderr: "null",
  }).spawn();
  if (!await waitFor("127.0.0.1", port, 10_000)) throw new Error("local nats-server did not start");
  return {
    name: "nats-server",
    stop: async () => {
      try {
        child.kill("SIGTERM");
      } catch {
        // already gone
      }
      await child.status;
    },
  };
}

/** Starts a PostgreSQL cluster in `dir` (created on first use) on `port`. */
export async function startLocalPostgres(dir: string, port: number): Promise<LocalProcess> {
  const dirs = pgBinDirs();
  const initdb = findBinary("initdb", dirs);
  const pgCtl = findBinary("pg_ctl", dirs);
  if (!initdb || !pgCtl) {
    throw new Error("PostgreSQL is not installed (apt-get install postgresql)");
  }
  const root = Deno.uid() === 0;
  const asPostgres = (cmd: string, args: string[]) =>
    root ? run("runuser", ["-u", "postgres", "--", cmd, ...args]) : run(cmd, args);
  const data = `${dir}/data`;
  await Deno.mkdir(dir, { recursive: true });
  if (root) await run("chown", ["-R", "postgres:postgres", dir]);
  try {
    Deno.statSync(`${data}/PG_VERSION`);
  } catch {
    await asPostgres(initdb, ["-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8"]);
  }
  await asPostgres(pgCtl, [
    "-D",
    data,
    "-o",
    `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`,
    "-l",
    `${dir}/postgres.log`,
    "-w",
    "start",
  ]);
  return {
    name: "postgres",
    stop: () => asPostgres(pgCtl, ["-D", data, "-m", "fast", "-w", "stop"]),
  };
}

/** Creates the database named in `url` when the server answers but the database is missing. */
export async function ensureDatabase(url: string): Promise<void> {
  const u = new URL(url);
  const name = decodeURIComponent(u.pathname.slice(1)) || "postgres";
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) {
    throw new Error(`database name ${JSON.stringify(name)} is not a simple identifier`);
  }
  const admin = new URL(url);
  admin.pathname = "/postgres";
  const sql = connectDb(admin.toString(), { max: 1, name: "meridian-up" });
  try {
    const rows = await sql`select 1 from pg_database where datname = ${name}`;
    if (rows.length === 0) await sql.unsafe(`create database ${name}`);
  } finally {
    await sql.end();
  }
}
