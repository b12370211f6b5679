/**
 * An api wired to a throwaway PostgreSQL and NATS and to the real connection flows
 * (`@meridian/sync/connections`, official SDKs) against an in-process provider sandbox, with
 * request helpers and helpers that make connections through those flows over HTTP.
 * @module
 */
import type { JetStreamClient } from "@nats-io/jetstream";
import {
  type Config,
  connectNats,
  createLogger,
  Keyring,
  keyringFromConfig,
  type NatsHandle,
  parseConfig,
  provisionAll,
  type Sql,
} from "@meridian/runtime";
import {
  startNats,
  type TestDatabase,
  testDatabase,
  type TestNats,
} from "@meridian/runtime/testing";
import { type RunningSandbox, startSandbox } from "../../sandbox/mod.ts";
import { submitHostedForm } from "../../sandbox/html_form.ts";
import { type ApiDeps, createApp } from "../app.ts";
import { connectionsPortFrom } from "../connections.ts";
import { createSyncDeps, type SyncDeps } from "@meridian/sync/connections";
import { DEFAULT_POLICY, type ThrottlePolicy } from "../login_throttle.ts";

/** Provider credentials the harness's sandbox accepts. */
export const SANDBOX_CREDENTIALS = {
  snaptrade: { clientId: "MERIDIAN-API-TEST", consumerKey: "api-test-consumer-key-0123456789" },
  plaid: { clientId: "meridian-api-test", secret: "api-test-plaid-secret-0123456789" },
} as const;

/** A running test api. */
export interface Harness {
  app: ReturnType<typeof createApp>;
  sql: Sql;
  db: TestDatabase;
  natsServer: TestNats;
  nats: NatsHandle;
  js: JetStreamClient;
  /** The providers' stand-in the connection flows talk to. */
  sandbox: RunningSandbox;
  /** The configuration the connection flows were built from (as in `main.ts`). */
  config: Config;
  /** The flows' dependencies (providers, keyring), as the app has them. */
  sync: SyncDeps;
  clock: { now: number };
  /** The app's PUBLIC_URL origin, which a same-origin browser sends as `Origin`. */
  origin: string;
  close(): Promise<void>;
}

/** Starts PostgreSQL, NATS, the sandbox and the app. */
export async function startHarness(
  opts: {
    config?: Partial<ApiDeps["config"]>;
    /** Sign-in throttle; by default the real one with a per-address limit tests never reach. */
    throttle?: ThrottlePolicy;
    /** How long placing an order may take before its outcome is unknown. */
    placeTimeoutMs?: number;
    /** Configuration of the flows (as environment variables). */
    env?: Record<string, string>;
  } = {},
): Promise<Harness> {
  const sandbox = await startSandbox({
    port: 0,
    mode: "test",
    snaptrade: { ...SANDBOX_CREDENTIALS.snaptrade },
    plaid: { ...SANDBOX_CREDENTIALS.plaid },
    log: () => {},
  });
  const db = await testDatabase();
  const natsServer = await startNats();
  const log = createLogger("api-test", "error");
  const nats = await connectNats({ url: natsServer.url, name: "api-test", log });
  await provisionAll(nats);
  const js = nats.js;
  const clock = { now: Date.now() };
  const config = parseConfig({
    PROVIDERS: "sandbox",
    SANDBOX_URL: sandbox.url,
    SNAPTRADE_CLIENT_ID: SANDBOX_CREDENTIALS.snaptrade.clientId,
    SNAPTRADE_CONSUMER_KEY: SANDBOX_CREDENTIALS.snaptrade.consumerKey,
    PLAID_CLIENT_ID: SANDBOX_CREDENTIALS.plaid.clientId,
    PLAID_SECRET: SANDBOX_CREDENTIALS.plaid.secret,
    SECRETS_KEYRING: Keyring.generateSpec("t1"),
    // No relay in these tests: Plaid item webhooks point nowhere.
    RELAY_PUBLIC_URL: "http://127.0.0.1:1",
    ...opts.env,
  });
  // Wired as main.ts wires it.
  const sync = createSyncDeps({
    sql: db.sql,
    nc: nats.nc,
    config,
    log,
    keyring: await keyringFromConfig(config),
  });
  const connections = connectionsPortFrom(sync, config.RELAY_PUBLIC_URL);
  const app = createApp({
    sql: db.sql,
    js,
    nc: nats.nc,
    log,
    config: {
      PUBLIC_URL: "http://127.0.0.1:8080",
      ALLOW_SIGNUP: true,
      REFRESH_COOLDOWN_S: 60,
      HOLDINGS_TTL_H: 24,
      ...opts.config,
    },
    connections,
    trading: { sync, placeTimeoutMs: opts.placeTimeoutMs },
    natsConnected: nats.connected,
    throttle: opts.throttle ?? { ...DEFAULT_POLICY, addressMax: 10_000 },
    webDist: "/nonexistent",
    now: () => new Date(clock.now),
  });
  return {
    app,
    sql: db.sql,
    db,
    natsServer,
    nats,
    js,
    sandbox,
    config,
    sync,
    clock,
    origin: new URL(opts.config?.PUBLIC_URL ?? "http://127.0.0.1:8080").origin,
    close: async () => {
      await app.hub.close();
      await nats.nc.close();
      await natsServer.close();
      await db.close();
      await sandbox.close();
    },
  };
}

/** Options of {@link call}. */
export interface CallOptions {
  method?: string;
  cookie?: string;
  body?: unknown;
  headers?: Record<string, string>;
  /** The socket peer's address, as `Deno.serve` would report it. */
  peer?: string;
}

/** One request against the app, as a same-origin browser would send it. */
export function call(h: Harness, path: string, opts: CallOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { origin: h.origin, ...opts.headers };
  if (opts.cookie) headers.cookie = opts.cookie;
  let body: string | undefined;
  if (opts.body !== undefined) {
    body = typeof opts.body === "string" ? opts.body : JSON.stringify(opts.body);
    headers["content-type"] ??= "application/json";
  }
  const env = opts.peer ? { remoteAddr: { hostname: opts.peer } } : undefined;
  return Promise.resolve(
    h.app.request(path, { method: opts.method ?? "GET", headers, body }, env),
  );
}

/** The `name=value` part of the session cookie a response set. */
export function sessionFrom(res: Response): string {
  const set = res.headers.get("set-cookie") ?? "";
  const m = /((?:__Host-)?meridian_session=[^;]+)/.exec(set);
  if (!m) throw new Error(`no session cookie in ${JSON.stringify(set)}`);
  return m[1];
}

/** Signs in and returns the cookie. */
export async function login(h: Harness, email: string, password: string): Promise<string> {
  const res = await call(h, "/api/auth/login", { method: "POST", body: { email, password } });
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${await res.text()}`);
  return sessionFrom(res);
}

/** The connection id in the `/?connected=…&connection=<id>` redirect a callback answered. */
function connectedId(res: Response): string {
  const location = res.headers.get("location") ?? "";
  const id = new URL(location, "http://x").searchParams.get("connection");
  if (res.status !== 303 || !id) throw new Error(`not connected: ${res.status} ${location}`);
  return id;
}

/**
 * Connects a SnapTrade brokerage the way a browser does: the api's portal URL, the sandbox
 * portal's form, back to the api's callback. Returns the new connection's id.
 */
export async function connectSnaptrade(
  h: Harness,
  cookie: string,
  opts: { broker?: string; access?: "read" | "trade" } = {},
): Promise<string> {
  const portal = await call(h, "/api/connections/snaptrade/portal", {
    method: "POST",
    cookie,
    body: { access: opts.access ?? "read" },
  });
  if (portal.status !== 200) throw new Error(`portal: ${portal.status} ${await portal.text()}`);
  const { url } = await portal.json();
  const back = new URL(await submitHostedForm(url, { broker: opts.broker ?? "SANDBOX" }));
  return connectedId(await call(h, back.pathname + back.search, { cookie }));
}

/** A Plaid public token for a new sandbox item (Plaid's `/sandbox/public_token/create`). */
export async function plaidPublicToken(h: Harness, institution = "ins_109508"): Promise<string> {
  const res = await fetch(`${h.sandbox.url}/plaid/sandbox/public_token/create`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      client_id: SANDBOX_CREDENTIALS.plaid.clientId,
      secret: SANDBOX_CREDENTIALS.plaid.secret,
      institution_id: institution,
      initial_products: ["investments"],
    }),
  });
  const body = await res.json();
  if (!res.ok || typeof body.public_token !== "string") {
    throw new Error(`public token: ${res.status} ${JSON.stringify(body)}`);
  }
  return body.public_token;
}

/** Connects a Plaid item through the api's exchange route. Returns the connection id. */
export async function connectPlaid(
  h: Harness,
  cookie: string,
  institution?: string,
): Promise<string> {
  const res = await call(h, "/api/connections/plaid/exchange", {
    method: "POST",
    cookie,
    body: { public_token: await plaidPublicToken(h, institution) },
  });
  if (res.status !== 201) throw new Error(`exchange: ${res.status} ${await res.text()}`);
  return (await res.json()).connection_id;
}

/** Connects an Alpaca account by API keys through the api. Returns the connection id. */
export async function connectAlpaca(
  h: Harness,
  cookie: string,
  keys: { keyId: string; secret: string },
): Promise<string> {
  const res = await call(h, "/api/connections/alpaca", {
    method: "POST",
    cookie,
    body: { key_id: keys.keyId, secret_key: keys.secret, paper: true },
  });
  if (res.status !== 201) throw new Error(`alpaca: ${res.status} ${await res.text()}`);
  return (await res.json()).connection_id;
}

/** A response's JSON body. */
export async function json(res: Response) {
  return JSON.parse(await res.text());
}

/** Runs `fn` against a fresh harness, closed afterwards whatever happens. */
export async function withHarness(
  fn: (h: Harness) => Promise<void>,
  opts?: Parameters<typeof startHarness>[0],
) {
  const h = await startHarness(opts);
  try {
    await fn(h);
  } finally {
    await h.close();
  }
}

/** Harness tests keep servers and timers of their own between steps. */
export const sanitize = { sanitizeOps: false, sanitizeResources: false };
