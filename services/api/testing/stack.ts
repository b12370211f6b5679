/**
 * What the browser end-to-end tests share: the services as real processes (spawned, stopped,
 * waited for), the environment every process of a stack gets, the demo stack as `make up` runs
 * it, and Chromium launched as the tests need it.
 * @module
 */
import { chromium } from "playwright-core";
import { parseEcbDaily } from "@meridian/portfolio";
import { Keyring } from "@meridian/runtime";
import {
  eventually,
  freePort,
  processEnv,
  startNats,
  type TestDatabase,
  testDatabase,
  type TestNats,
} from "@meridian/runtime/testing";

export const ROOT = new URL("../../../", import.meta.url).pathname;
/** Where the tests save their screenshots. */
export const ARTIFACTS = `${ROOT}test-artifacts`;
export const CHROMIUM = "/usr/bin/chromium";
/**
 * The demo user's connections once sync has seeded them: SnapTrade read-only and
 * trade-enabled, Plaid and Alpaca.
 */
export const DEMO_CONNECTIONS = 4;

export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/** True when web/dist is missing or older than a source file (make test builds it first). */
export async function stale(): Promise<boolean> {
  let built: number;
  try {
    built = (await Deno.stat(`${ROOT}web/dist/index.html`)).mtime!.getTime();
  } catch {
    return true;
  }
  for await (const e of Deno.readDir(`${ROOT}web/src`)) {
    if ((await Deno.stat(`${ROOT}web/src/${e.name}`)).mtime!.getTime() > built) return true;
  }
  return (await Deno.stat(`${ROOT}web/build.ts`)).mtime!.getTime() > built;
}

/** One service running as its own process, with the tail of its output. */
export interface Proc {
  name: string;
  child: Deno.ChildProcess;
  log: string[];
  /** How it ended, once it has. */
  exited: Deno.CommandStatus | null;
}

/** Starts `services/<name>/main.ts` with exactly `env` (plus a free metrics port). */
export function spawn(name: string, env: Record<string, string>): Proc {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `services/${name}/main.ts`],
    cwd: ROOT,
    // Any free port for the private metrics listener unless the test picks one.
    env: processEnv({ METRICS_PORT: "0", ...env }),
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const log: string[] = [];
  const drain = async (s: ReadableStream<Uint8Array>) => {
    const dec = new TextDecoder();
    for await (const chunk of s) {
      log.push(dec.decode(chunk));
      if (log.length > 400) log.shift();
    }
  };
  void drain(child.stdout).catch(() => {});
  void drain(child.stderr).catch(() => {});
  const proc: Proc = { name, child, log, exited: null };
  void child.status.then((s) => (proc.exited = s));
  return proc;
}

/** Each process's name and the tail of its output. */
export function logsOf(procs: Proc[], chars = 2000): string {
  return procs.map((p) => `--- ${p.name}\n${p.log.join("").slice(-chars)}`).join("\n");
}

/** SIGTERM, then SIGKILL after 5 s; resolves once the process is gone. */
export async function stop(p: Proc): Promise<void> {
  try {
    p.child.kill("SIGTERM");
  } catch {
    // already gone
  }
  const t = setTimeout(() => {
    try {
      p.child.kill("SIGKILL");
    } catch {
      // gone
    }
  }, 5000);
  await p.child.status;
  clearTimeout(t);
}

/** Waits for `url` to answer 2xx; on time-out, throws with every process's last output. */
export async function waitReady(url: string, procs: Proc[], timeoutMs = 120_000): Promise<void> {
  await eventually(async () => {
    const res = await fetch(url);
    await res.body?.cancel();
    return res.ok;
  }, { timeoutMs, intervalMs: 300, what: url }).catch((e) => {
    throw new Error(`${e.message}:\n${logsOf(procs)}`);
  });
}

/** The environment every process of an e2e stack gets, plus `extra`. */
export function stackEnv(
  databaseUrl: string,
  natsUrl: string,
  ports: { api: number; relay: number; sandbox: number },
  dir: string,
  keyId: string,
  extra: Record<string, string>,
): Record<string, string> {
  const env: Record<string, string> = {
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    HOME: Deno.env.get("HOME") ?? "/tmp",
    DENO_DIR: Deno.env.get("DENO_DIR") ?? "",
    NATS_URL: natsUrl,
    DATABASE_URL: databaseUrl,
    PROVIDERS: "sandbox",
    SECRETS_KEYRING: Keyring.generateSpec(keyId),
    LOG_LEVEL: Deno.env.get("E2E_LOG_LEVEL") ?? "warn",
    API_PORT: String(ports.api),
    RELAY_PORT: String(ports.relay),
    SANDBOX_PORT: String(ports.sandbox),
    SANDBOX_URL: `http://127.0.0.1:${ports.sandbox}`,
    RELAY_PUBLIC_URL: `http://127.0.0.1:${ports.relay}`,
    PUBLIC_URL: `http://127.0.0.1:${ports.api}`,
    RELAY_OUTBOX_PATH: `${dir}/outbox.sqlite`,
    ...extra,
  };
  if (!env.DENO_DIR) delete env.DENO_DIR;
  return env;
}

/** Chromium launched as the browser tests need it. */
export function launchChromium(): ReturnType<typeof chromium.launch> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-quic",
      "--no-first-run",
    ],
  });
}

/** The whole demo stack, running. */
export interface DemoStack {
  db: TestDatabase;
  nats: TestNats;
  procs: Proc[];
  ports: { api: number; relay: number; sandbox: number };
  /** The dashboard's origin. */
  api: string;
  sandbox: string;
  /** Stops every process and removes what the stack made. */
  close(): Promise<void>;
}

/**
 * The whole demo stack as `make up` runs it: the sandbox in demo mode (it ticks Alpaca prices
 * every second, market open), sync seeding demo@example.com (and following orders), and the
 * market-data path symbols → prices → valuation → api stream. Resolves once the demo user's
 * {@link DEMO_CONNECTIONS} connections have synced. `extraEnv` is added to every process's.
 */
export async function startDemoStack(
  keyId: string,
  extraEnv: Record<string, string> = {},
): Promise<DemoStack> {
  const db = await testDatabase({ migrate: false });
  const nats = await startNats();
  const dir = await Deno.makeTempDir({ prefix: "meridian-e2e-demo-" });
  const ports = { api: freePort(), relay: freePort(), sandbox: freePort() };
  const env = stackEnv(db.url, nats.url, ports, dir, keyId, {
    SANDBOX_MODE: "demo",
    SANDBOX_STATE_PATH: `${dir}/sandbox.json`,
    ...extraEnv,
  });
  const procs: Proc[] = [];
  const close = async () => {
    await Promise.all(procs.map(stop));
    await nats.close();
    await db.close();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  const stack: DemoStack = {
    db,
    nats,
    procs,
    ports,
    api: `http://127.0.0.1:${ports.api}`,
    sandbox: `http://127.0.0.1:${ports.sandbox}`,
    close,
  };
  try {
    procs.push(spawn("api", env));
    procs.push(spawn("sandbox", env));
    await waitReady(`${stack.api}/readyz`, procs);
    await waitReady(`${stack.sandbox}/readyz`, procs);
    // The FX rates an installation that ran before has stored. valuation reads the stored
    // rates when it starts and then every 10 minutes; its own first fetch, at the same
    // moment, would be seen only 10 minutes later (reported on #11).
    const ecb = parseEcbDaily(
      await (await fetch(`${stack.sandbox}/fx/eurofxref-daily.xml`)).text(),
    );
    for (const [currency, perEur] of ecb.rates) {
      await db.sql`insert into fx_rates (date, currency, per_eur)
        values (${ecb.date}, ${currency}, ${perEur})`;
    }
    procs.push(spawn("relay", env));
    const metrics: Record<string, number> = {};
    for (const name of ["ingress", "sync", "symbols", "prices", "valuation"]) {
      metrics[name] = freePort();
      procs.push(spawn(name, { ...env, METRICS_PORT: String(metrics[name]) }));
    }
    await waitReady(`http://127.0.0.1:${ports.relay}/readyz`, procs);
    for (const port of Object.values(metrics)) {
      await waitReady(`http://127.0.0.1:${port}/readyz`, procs);
    }
    // The demo user is seeded by sync: every connection synced once. A service that stopped
    // meanwhile (say, its port was taken) ends the wait at once.
    const waited = await eventually(async () => {
      const gone = procs.find((p) => p.exited !== null);
      if (gone) return { gone };
      const [r] = await db.sql<{ synced: number }[]>`
        select count(*)::int as synced from connections c join users u on u.id = c.user_id
         where u.email = 'demo@example.com' and c.last_synced_at is not null`;
      return r.synced >= DEMO_CONNECTIONS && { gone: null };
    }, {
      timeoutMs: 180_000,
      intervalMs: 500,
      what: `the demo user's ${DEMO_CONNECTIONS} connections synced`,
    }).catch((e) => {
      throw new Error(`${e.message}:\n${logsOf(procs, 1500)}`);
    });
    if (waited.gone) {
      throw new Error(
        `${waited.gone.name} exited (code ${waited.gone.exited!.code}) before the demo user's ` +
          `connections synced:\n${logsOf(procs, 1500)}`,
      );
    }
    return stack;
  } catch (e) {
    await close();
    throw e;
  }
}
