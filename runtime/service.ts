/**
 * What every service's `main.ts` calls: configuration, logger, ops endpoints, NATS (with
 * provisioning), PostgreSQL (with migrations), readiness and graceful shutdown, wired once.
 * @module
 */
import { Hono } from "hono";
import { type Config, loadConfig, SECRET_VARIABLES } from "./config.ts";
import { connectDb, pingDb, type Sql } from "./db.ts";
import { createLogger, type Logger, registerSecret } from "./log.ts";
import { migrate, MigrationError } from "./migrate.ts";
import { connectNats, type NatsHandle, provisionAll } from "./nats.ts";
import { opsRoutes, Readiness, startingRoutes } from "./ops.ts";
import { Shutdown } from "./shutdown.ts";

/** Everything a service's start function receives. */
export interface ServiceContext {
  name: string;
  config: Config;
  log: Logger;
  nats: NatsHandle;
  /** Present when the service was declared with `database: true`. */
  sql: Sql | undefined;
  readiness: Readiness;
  shutdown: Shutdown;
}

/** What a service that reaches NATS in the background gets: everything but NATS. */
export type BackgroundServiceContext = Omit<ServiceContext, "nats">;

interface CommonSpec {
  name: string;
  /** Connect to PostgreSQL (a pool of `max`, default 10) and apply migrations before `start`. */
  database?: boolean | { max: number };
  /**
   * The port of the service's own (public) HTTP app, which also serves `/healthz` and
   * `/readyz`; `/metrics` stays on the private `METRICS_PORT` listener.
   */
  port?: (config: Config) => number;
  /** NATS credentials, when the service runs with its own NATS user. */
  natsAuth?: (config: Config) => { user?: string; pass?: string };
}

/** How a service is declared: it starts once NATS is connected (and provisioned). */
export interface ServiceSpec extends CommonSpec {
  nats?: "required";
  /** Builds the service's HTTP app, if it has one; runs after `start`. */
  http?: (ctx: ServiceContext) => Hono;
  /** Starts the service's work; returns when it is running. */
  start?: (ctx: ServiceContext) => Promise<void> | void;
}

/**
 * A service that must serve while NATS is down (the relay): `start` and `http` run without
 * NATS, there is no NATS readiness check, and `onNats` is called once NATS is connected (and,
 * without restricted credentials, provisioned). On shutdown its HTTP intake stops first, then
 * what `onNats` returned, then NATS drains, then the steps `start` registered.
 */
export interface BackgroundServiceSpec extends CommonSpec {
  nats: "background";
  http?: (ctx: BackgroundServiceContext) => Hono;
  start?: (ctx: BackgroundServiceContext) => Promise<void> | void;
  /** Called once, when NATS is connected; may return a stop function for shutdown. */
  onNats?: (
    ctx: BackgroundServiceContext,
    nats: NatsHandle,
  ) => void | (() => unknown) | Promise<void | (() => unknown)>;
}

const DEFAULT_METRICS_PORTS: Record<string, number> = {
  ingress: 9101,
  sync: 9102,
  symbols: 9103,
  prices: 9104,
  valuation: 9105,
  api: 9106,
  relay: 9107,
};

async function retry<T>(
  log: Logger,
  what: string,
  signal: AbortSignal,
  fn: () => Promise<T>,
): Promise<T> {
  for (let delay = 250;; delay = Math.min(delay * 2, 5_000)) {
    try {
      return await fn();
    } catch (e) {
      if (signal.aborted || e instanceof MigrationError) throw e;
      log.warn(`${what} failed; retrying`, { error: e, retry_ms: delay });
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

/** Runs a service until SIGINT/SIGTERM. */
export function runService(spec: ServiceSpec): Promise<ServiceContext>;
/** Runs a service that serves before NATS is reachable, until SIGINT/SIGTERM. */
export function runService(spec: BackgroundServiceSpec): Promise<BackgroundServiceContext>;
export async function runService(
  spec: ServiceSpec | BackgroundServiceSpec,
): Promise<ServiceContext | BackgroundServiceContext> {
  const config = loadConfig();
  for (const name of SECRET_VARIABLES) registerSecret(config[name]);
  const log = createLogger(spec.name, config.LOG_LEVEL);
  const shutdown = new Shutdown(log);
  shutdown.installSignalHandlers();
  if (config.STOP_ON_STDIN_EOF) void shutdown.stopWhenStdinCloses();
  const readiness = new Readiness();
  const background = spec.nats === "background";

  // The private ops listener: /metrics with /healthz and /readyz. A service with a public port
  // of its own serves only /healthz and /readyz there, and a 503 until its routes are mounted.
  const opsServer = Deno.serve(
    {
      port: config.METRICS_PORT ?? DEFAULT_METRICS_PORTS[spec.name] ?? 0,
      hostname: config.LISTEN_HOST,
      onListen: () => {},
    },
    opsRoutes(readiness, spec.name).fetch,
  );
  shutdown.add("ops listener", () => opsServer.shutdown());
  const port = spec.port?.(config);
  // Hono reads the client address from the connection info it gets as its `env` argument.
  let handler: (req: Request, info: Deno.ServeHandlerInfo) => Response | Promise<Response> =
    startingRoutes(readiness, spec.name).fetch;
  const server = port === undefined ? undefined : Deno.serve(
    { port, hostname: config.LISTEN_HOST, onListen: () => {} },
    (req, info) => handler(req, info),
  );
  const stopHttp = () => server?.shutdown();
  // In the background mode HTTP intake is registered last (so it stops first): what `start`
  // opened must outlive the requests in flight.
  if (!background) shutdown.add("http", stopHttp);
  log.info("listening", { port: server?.addr.port ?? null, metrics_port: opsServer.addr.port });

  const auth = spec.natsAuth?.(config) ?? {};
  const connect = async () => {
    const nats = await connectNats({ url: config.NATS_URL, name: spec.name, log, ...auth });
    if (!auth.user) {
      await retry(log, "provisioning JetStream", shutdown.signal, () => provisionAll(nats));
    }
    return nats;
  };
  let nats: NatsHandle | undefined;
  if (!background) {
    nats = await connect();
    shutdown.add("nats", () => nats!.nc.drain());
    readiness.add("nats", () => nats!.connected());
  }

  let sql: Sql | undefined;
  if (spec.database) {
    const max = typeof spec.database === "object" ? spec.database.max : undefined;
    const db = connectDb(config.DATABASE_URL, { name: spec.name, max });
    sql = db;
    shutdown.add("database", () => db.end({ timeout: 5 }));
    readiness.add("database", () => pingDb(db));
    const applied = await retry(log, "migrating the database", shutdown.signal, () => migrate(db))
      .catch((e) => {
        log.error("cannot start", { error: e });
        Deno.exit(1);
      });
    if (applied.length) log.info("migrations applied", { versions: applied });
  }

  const base = { name: spec.name, config, log, sql, readiness, shutdown };
  const ctx: ServiceContext | BackgroundServiceContext = background
    ? base
    : { ...base, nats: nats! };
  // deno-lint-ignore no-explicit-any -- `ctx` matches the spec's own mode (checked above)
  await spec.start?.(ctx as any);
  if (spec.http) {
    // deno-lint-ignore no-explicit-any
    const own = spec.http(ctx as any);
    const combined = new Hono();
    combined.route("/", opsRoutes(readiness, spec.name, { metrics: false }));
    combined.route("/", own);
    handler = combined.fetch;
  }

  if (background) {
    const bg = spec as BackgroundServiceSpec;
    let stop: (() => unknown) | void;
    shutdown.add("nats", () => nats?.nc.drain());
    shutdown.add("nats work", () => stop?.());
    shutdown.add("http", stopHttp);
    connect().then(async (handle) => {
      if (shutdown.signal.aborted) return void handle.nc.close();
      nats = handle;
      stop = await bg.onNats?.(ctx, handle);
    }).catch((e) => log.error("nats connection failed", { error: e }));
  }
  readiness.markStarted();
  log.info("ready");
  return ctx;
}
