/**
 * `make up`: starts the whole stack in demo mode, every log line prefixed by its service,
 * restarts a crashed service with backoff, and stops everything on Ctrl-C.
 *
 * Uses NATS_URL / DATABASE_URL when they answer; when they are unset and nothing answers at
 * the defaults, runs local ones with data under `.data/`. An explicitly set URL that does not
 * answer is a configuration error (exit 2).
 * @module
 */
import { type Config, ConfigError, Keyring, natsServers, parseConfig } from "@meridian/runtime";
import {
  answers,
  ensureDatabase,
  hostPort,
  type LocalProcess,
  startLocalNats,
  startLocalPostgres,
} from "./infra.ts";
import { LinePrefixer, RestartPolicy, shouldRestart } from "./supervisor.ts";

const SERVICES = [
  "sandbox",
  "relay",
  "ingress",
  "sync",
  "symbols",
  "prices",
  "valuation",
  "api",
] as const;
type ServiceName = typeof SERVICES[number];
const DATA_DIR = ".data";

/** One process `make up` runs: a service, and which of its instances (1 for most). */
interface Instance {
  service: ServiceName;
  /** 1-based; `prices` and `valuation` may run more than one (`PRICES_INSTANCES`, …). */
  n: number;
  /** Its log prefix and name in messages: `prices`, `prices-2`, … */
  label: string;
}
const READY_REMINDER_MS = 15_000;

function fail(message: string): never {
  console.error(message);
  Deno.exit(2);
}

const env = Deno.env.toObject();
function readConfig(): Config {
  try {
    return parseConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) fail(e.message);
    throw e;
  }
}
let config = readConfig();

/** A whole number from 1 to 16 read from `name` (default 1). */
function instancesOf(name: string): number {
  const n = Number(env[name] ?? "1");
  if (!Number.isInteger(n) || n < 1 || n > 16) {
    fail(`invalid configuration: ${name}: expected a whole number from 1 to 16`);
  }
  return n;
}

/**
 * How many processes of the services that scale out: each `prices` streams one market-data
 * key (the rest stand by); `valuation` instances share the users.
 */
const SCALED: Partial<Record<ServiceName, number>> = {
  prices: instancesOf("PRICES_INSTANCES"),
  valuation: instancesOf("VALUATION_INSTANCES"),
};

const INSTANCES: Instance[] = SERVICES.flatMap((service) =>
  Array.from({ length: SCALED[service] ?? 1 }, (_, k) => ({
    service,
    n: k + 1,
    label: k === 0 ? service : `${service}-${k + 1}`,
  }))
);

const local: LocalProcess[] = [];
const out = (line: string) => console.log(line);
const note = (msg: string) => out(`[up] ${msg}`);

async function resolveNats(): Promise<string> {
  // A cluster's list answers when any of its servers does: the services move between them.
  const servers = natsServers(config.NATS_URL).servers;
  for (const server of servers) {
    const { hostname, port } = hostPort(`nats://${server}`, 4222);
    if (await answers(hostname, port)) return config.NATS_URL;
  }
  if (env.NATS_URL) {
    fail(`invalid configuration: NATS_URL: nothing answers at ${servers.join(", ")}`);
  }
  const { hostname, port } = hostPort(config.NATS_URL, 4222);
  note(`no NATS at ${hostname}:${port}; starting a local nats-server (data in ${DATA_DIR}/nats)`);
  local.push(await startLocalNats(`${DATA_DIR}/nats`, port));
  return config.NATS_URL;
}

async function resolveDatabase(): Promise<string> {
  const { hostname, port } = hostPort(config.DATABASE_URL, 5432);
  if (!await answers(hostname, port)) {
    if (env.DATABASE_URL) {
      fail(`invalid configuration: DATABASE_URL: nothing answers at ${hostname}:${port}`);
    }
    note(
      `no PostgreSQL at ${hostname}:${port}; starting a local one (data in ${DATA_DIR}/postgres)`,
    );
    local.push(await startLocalPostgres(`${Deno.cwd()}/${DATA_DIR}/postgres`, port));
  }
  try {
    await ensureDatabase(config.DATABASE_URL);
  } catch (e) {
    fail(`invalid configuration: DATABASE_URL: ${(e as Error).message.split("\n")[0]}`);
  }
  return config.DATABASE_URL;
}

async function resolveKeyring(): Promise<string> {
  if (config.SECRETS_KEYRING) return config.SECRETS_KEYRING;
  if (config.PROVIDERS === "live") {
    fail("invalid configuration: SECRETS_KEYRING: required in live mode");
  }
  const file = `${DATA_DIR}/secrets_keyring`;
  try {
    return (await Deno.readTextFile(file)).trim();
  } catch {
    const spec = Keyring.generateSpec("demo1");
    await Deno.mkdir(DATA_DIR, { recursive: true });
    await Deno.writeTextFile(file, spec + "\n", { mode: 0o600 });
    note(`generated a development keyring in ${file}`);
    return spec;
  }
}

/** Where this machine reaches the services: their listen address, or loopback for a wildcard. */
function reachableHost(): string {
  const h = config.LISTEN_HOST;
  if (h === "0.0.0.0" || h === "::") return "127.0.0.1";
  return h.includes(":") ? `[${h}]` : h;
}

function opsPort(i: Instance): number {
  switch (i.service) {
    case "api":
      return config.API_PORT;
    case "relay":
      return config.RELAY_PORT;
    case "sandbox":
      return config.SANDBOX_PORT;
    default:
      return metricsPort(i);
  }
}

/**
 * The private `/metrics` listener of each process: the base plus 1 to 7 (the first instance of
 * each service), plus 10 + n for the further `prices` instances and 30 + n for the further
 * `valuation` ones; any for the sandbox.
 */
function metricsPort(i: Instance): number {
  const base = Number(env.UP_METRICS_PORT_BASE ?? 9100);
  if (i.n > 1) return base + (i.service === "valuation" ? 30 : 10) + i.n;
  const at = ["ingress", "sync", "symbols", "prices", "valuation", "api", "relay"].indexOf(
    i.service,
  );
  return at < 0 ? 0 : base + at + 1;
}

function serviceEnv(i: Instance, shared: Record<string, string>): Record<string, string> {
  const e: Record<string, string> = { ...env, ...shared };
  e.METRICS_PORT = String(metricsPort(i));
  if (i.service === "relay") delete e.DATABASE_URL;
  e.STOP_ON_STDIN_EOF = "true";
  return e;
}

let shuttingDown = false;
/** Each instance's current process, by label (undefined while it waits to restart). */
const running = new Map<string, Deno.ChildProcess | undefined>();

function spawn(i: Instance, shared: Record<string, string>, policy: RestartPolicy): void {
  const startedAt = Date.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `services/${i.service}/main.ts`],
    env: serviceEnv(i, shared),
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
    // Held open and never written: when this process dies, however it dies, the pipe closes
    // and the service stops (STOP_ON_STDIN_EOF).
    stdin: "piped",
  }).spawn();
  const lifeline = child.stdin.getWriter();
  running.set(i.label, child);
  const prefix = `[${i.label}] `;
  for (const stream of [child.stdout, child.stderr]) {
    const p = new LinePrefixer(prefix, out);
    stream.pipeTo(new WritableStream({ write: (c) => p.push(c), close: () => p.flush() })).catch(
      () => {},
    );
  }
  child.status.then(async (status) => {
    lifeline.close().catch(() => {});
    running.set(i.label, undefined);
    if (!shouldRestart(status.code, shuttingDown)) {
      if (!shuttingDown) {
        note(`${i.label} exited with code ${status.code} (configuration error); stopping`);
        await stopAll(2);
      }
      return;
    }
    const delay = policy.nextDelay(Date.now() - startedAt);
    note(`${i.label} exited with code ${status.code}; restarting in ${delay / 1000} s`);
    await new Promise((r) => setTimeout(r, delay));
    if (!shuttingDown) spawn(i, shared, policy);
  });
}

async function isReady(i: Instance): Promise<boolean> {
  try {
    const res = await fetch(`http://${reachableHost()}:${opsPort(i)}/readyz`, {
      signal: AbortSignal.timeout(1_000),
    });
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false;
  }
}

async function waitUntilReady(startedAt: number): Promise<void> {
  const pending = new Set<Instance>(INSTANCES);
  let nextReminder = startedAt + READY_REMINDER_MS;
  while (pending.size && !shuttingDown) {
    for (const i of [...pending]) if (await isReady(i)) pending.delete(i);
    if (!pending.size) break;
    if (Date.now() > nextReminder) {
      note(`still waiting for: ${[...pending].map((i) => i.label).join(", ")}`);
      nextReminder = Date.now() + READY_REMINDER_MS;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  if (shuttingDown) return;
  const seconds = ((Date.now() - startedAt) / 1000).toFixed(1);
  const scaled = Object.entries(SCALED).filter(([, n]) => n > 1).map(([s, n]) => `${s} × ${n}`);
  note(
    `all ${SERVICES.length} services ready in ${seconds} s` +
      (scaled.length ? ` (${scaled.join(", ")})` : ""),
  );
  note(`dashboard: ${config.PUBLIC_URL}`);
  if (config.PROVIDERS === "sandbox") note("demo login: demo@example.com / meridian-demo");
  note("press Ctrl-C to stop");
}

let stopping: Promise<never> | undefined;
function stopAll(code: number): Promise<never> {
  stopping ??= (async () => {
    shuttingDown = true;
    note("stopping…");
    const children = [...running.values()].filter((c): c is Deno.ChildProcess => !!c);
    for (const c of children) {
      try {
        c.kill("SIGTERM");
      } catch {
        // already exited
      }
    }
    const deadline = new Promise((r) => setTimeout(r, 9_000));
    await Promise.race([Promise.all(children.map((c) => c.status)), deadline]);
    for (const c of children) {
      try {
        c.kill("SIGKILL");
      } catch {
        // exited in time
      }
    }
    for (const p of local.reverse()) await p.stop().catch(() => {});
    note("stopped");
    Deno.exit(code);
  })();
  return stopping;
}

Deno.addSignalListener("SIGINT", () => void stopAll(0));
Deno.addSignalListener("SIGTERM", () => void stopAll(0));

const startedAt = Date.now();
const shared: Record<string, string> = {
  NATS_URL: await resolveNats(),
  DATABASE_URL: await resolveDatabase(),
  SECRETS_KEYRING: await resolveKeyring(),
  PROVIDERS: config.PROVIDERS,
  SANDBOX_URL: env.SANDBOX_URL ?? `http://${reachableHost()}:${config.SANDBOX_PORT}`,
  RELAY_PUBLIC_URL: env.RELAY_PUBLIC_URL ?? `http://${reachableHost()}:${config.RELAY_PORT}`,
  PUBLIC_URL: env.PUBLIC_URL ?? `http://${reachableHost()}:${config.API_PORT}`,
  RELAY_OUTBOX_PATH: env.RELAY_OUTBOX_PATH ?? `${DATA_DIR}/relay/outbox.sqlite`,
};
config = { ...config, PUBLIC_URL: shared.PUBLIC_URL };
for (const i of INSTANCES) spawn(i, shared, new RestartPolicy());
await waitUntilReady(startedAt);
