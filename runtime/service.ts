/**
 * What every service's `main.ts` calls: configuration, logger, ops endpoints, NATS (with
 * provisioning), PostgreSQL (with migrations), readiness and graceful shutdown, wired once.
 * `start` builds the service's state and returns it; `http` and `onNats` receive it, so a
 * `main.ts` holds no module-level variables.
 * @module
 */
import { Hono } from "hono";
import { type Config, loadConfig, secretValues } from "./config.ts";
import { connectDb, pingDb, type Sql } from "./db.ts";
import { type HttpHandler, serveDeno, serveNodeHttp } from "./http_server.ts";
import { createLogger, type Logger, registerSecret } from "./log.ts";
import { migrate, MigrationError } from "./migrate.ts";
import { connectNats, type NatsHandle, provisionAll, ReplicaCountError } from "./nats.ts";
import { opsRoutes, Readiness, startingRoutes } from "./ops.ts";
import { Shutdown } from "./shutdown.ts";

/**
 * How a service uses NATS: `required` (connected and provisioned before `start`), `background`
 * (the relay: it serves while NATS is down, and `onNats` runs once NATS is there) or `none`.
 */
export type NatsMode = "required" | "background" | "none";

/** A service's database: none, or a pool (of `max`, default 10) with migrations applied. */
export type DatabaseMode = false | true | { max: number };

/** What every service gets. */
export interface ServiceBase {
  name: string;
  config: Config;
  log: Logger;
  readiness: Readiness;
  shutdown: Shutdown;
}

/** What `start` and `http` receive: `sql` with a database, `nats` when NATS is required. */
export type ServiceContext<D extends DatabaseMode = false, N extends NatsMode = "required"> =
  & ServiceBase
  & (D extends false ? unknown : { sql: Sql })
  & (N extends "required" ? { nats: NatsHandle } : unknown);

/** How a service is declared. */
export interface ServiceSpec<S, D extends DatabaseMode, N extends NatsMode> {
  name: string;
  /** Connect to PostgreSQL and apply migrations before `start`. */
  database?: D;
  /** Default `required`. */
  nats?: N;
  /**
   * The port of the service's own (public) HTTP app, which also serves `/healthz` and
   * `/readyz`; `/metrics` stays on the private `METRICS_PORT` listener.
   */
  port?: (config: Config) => number;
  /**
   * The app holds many responses open (event streams): it is served by node:http, which
   * holds one for half the memory Deno.serve does, but cannot upgrade to WebSocket.
   */
  eventStreams?: boolean;
  /** NATS credentials, when the service runs with its own NATS user. */
  natsAuth?: (config: Config) => { user?: string; pass?: string };
  /** Starts the service's work and returns its state. */
  start?: (ctx: ServiceContext<D, N>) => S | Promise<S>;
  /** Builds the service's HTTP app (served on `port`) from its state; runs after `start`. */
  http?: (ctx: ServiceContext<D, N>, state: S) => Hono;
  /**
   * With `nats: "background"`: called once NATS is connected (and, without restricted
   * credentials, provisioned); may return a stop function. On shutdown HTTP intake stops
   * first, then what `onNats` returned, then NATS drains, then the steps `start` registered.
   */
  onNats?: (
    ctx: ServiceContext<D, N>,
    nats: NatsHandle,
    state: S,
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
      if (signal.aborted || e instanceof MigrationError || e instanceof ReplicaCountError) throw e;
      log.warn(`${what} failed; retrying`, { error: e, retry_ms: delay });
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

/** Runs a service until SIGINT/SIGTERM; resolves once it is started, with its context and state. */
export async function runService<
  S = void,
  D extends DatabaseMode = false,
  N extends NatsMode = "required",
>(spec: ServiceSpec<S, D, N>): Promise<{ ctx: ServiceContext<D, N>; state: S }> {
  const config = loadConfig();
  for (const secret of secretValues(config)) registerSecret(secret);
  const log = createLogger(spec.name, config.LOG_LEVEL);
  const shutdown = new Shutdown(log);
  shutdown.installSignalHandlers();
  if (config.STOP_ON_STDIN_EOF) void shutdown.stopWhenStdinCloses();
  const readiness = new Readiness();
  const mode: NatsMode = spec.nats ?? "required";

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
  let handler: HttpHandler = startingRoutes(readiness, spec.name).fetch;
  const serve = spec.eventStreams ? serveNodeHttp : serveDeno;
  const server = port === undefined
    ? undefined
    : await serve({ port, hostname: config.LISTEN_HOST }, (req, info) => handler(req, info));
  const stopHttp = () => server?.shutdown();
  // In the background mode HTTP intake is registered last (so it stops first): what `start`
  // opened must outlive the requests in flight.
  if (mode !== "background") shutdown.add("http", stopHttp);
  log.info("listening", { port: server?.port ?? null, metrics_port: opsServer.addr.port });

  const auth = spec.natsAuth?.(config) ?? {};
  const connect = async () => {
    const nats = await connectNats({ url: config.NATS_URL, name: spec.name, log, ...auth });
    if (!auth.user) {
      await retry(
        log,
        "provisioning JetStream",
        shutdown.signal,
        () => provisionAll(nats, { replicas: config.NATS_REPLICAS }),
      ).catch((e) => {
        if (!(e instanceof ReplicaCountError)) throw e;
        log.error("cannot start", { error: e.message });
        Deno.exit(2);
      });
    }
    return nats;
  };
  let nats: NatsHandle | undefined;
  if (mode === "required") {
    const handle = nats = await connect();
    shutdown.add("nats", () => handle.nc.drain());
    readiness.add("nats", () => handle.connected());
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

  // What the declared modes promise (`sql` with a database, `nats` when required) is there.
  const ctx = {
    name: spec.name,
    config,
    log,
    readiness,
    shutdown,
    ...(sql ? { sql } : {}),
    ...(mode === "required" ? { nats } : {}),
  } as ServiceContext<D, N>;
  const state = await spec.start?.(ctx) as S;
  if (spec.http) {
    const combined = new Hono();
    combined.route("/", opsRoutes(readiness, spec.name, { metrics: false }));
    combined.route("/", spec.http(ctx, state));
    handler = combined.fetch;
  }

  if (mode === "background") {
    let stop: (() => unknown) | void;
    shutdown.add("nats", () => nats?.nc.drain());
    shutdown.add("nats work", () => stop?.());
    shutdown.add("http", stopHttp);
    connect().then(async (handle) => {
      if (shutdown.signal.aborted) return void handle.nc.close();
      nats = handle;
      stop = await spec.onNats?.(ctx, handle, state);
    }).catch((e) => log.error("nats connection failed", { error: e }));
  }
  readiness.markStarted();
  log.info("ready");
  return { ctx, state };
}
