/**
 * The provider sandbox: SnapTrade (`/snaptrade`, `/snaptrade/api/v1`), Plaid (`/plaid`),
 * Alpaca (`/alpaca`, `/alpaca/stream`, `/alpaca-data/v2/:feed`, `/alpaca-data/v1beta3/crypto/us`),
 * the ECB's FX reference rates (`/fx/eurofxref-daily.xml`, `/fx/eurofxref-hist-90d.xml`,
 * `/fx/eurofxref-hist.xml`) and the admin API (`/_admin`)
 * on one port. See README.md beside this file.
 * @module
 */
import { Hono } from "hono";
import { createLogger } from "@meridian/runtime";
import { adminRoutes, type SandboxMode } from "./admin.ts";
import { type AlpacaSandbox, createAlpacaSandbox } from "./alpaca/mod.ts";
import { CallLog } from "./calls.ts";
import type { SandboxCore } from "./core.ts";
import { ecbDailyResponse } from "./fx.ts";
import { ecbHistoryResponse } from "./fx_history.ts";
import { discard, loadState, type SandboxState, StateFile } from "./persist.ts";
import { createPlaid, type PlaidSandbox } from "./plaid/mod.ts";
import { createSnapTrade, type SnapTradeSandbox } from "./snaptrade/mod.ts";
import { type SandboxLog, WebhookDispatcher } from "./webhooks.ts";

export { CallLog } from "./calls.ts";
export type { CallCounts, SandboxProvider } from "./calls.ts";
export type { SandboxMode } from "./admin.ts";
export type { SandboxLog } from "./webhooks.ts";
export { BROKERAGES, INSTITUTIONS } from "./demo_data.ts";
export {
  dailyClose,
  type DataKey,
  DEMO_ALPACA_DATA_KEYS,
  DEMO_ALPACA_KEY_ID,
  DEMO_ALPACA_SECRET,
  FIRST_BAR_DAY,
  PriceBook,
  TEST_ALPACA_KEY_ID,
  TEST_ALPACA_SECRET,
} from "./alpaca/mod.ts";

/** How a sandbox is configured. */
export interface SandboxOptions {
  /** `demo` (default) and `test` serve `/_admin`; `off` refuses it with 403. */
  mode?: SandboxMode;
  snaptrade: {
    clientId: string;
    consumerKey: string;
    /** Where SnapTrade webhooks go; none are sent without it. */
    webhookUrl?: string;
    /** Requests per rolling minute per clientId, default 250 (SnapTrade's limit). */
    rateLimitPerMinute?: number;
    /** Minimum time between refreshes of one connection, default 60 000 ms. */
    refreshCooldownMs?: number;
  };
  plaid: {
    clientId: string;
    secret: string;
    /** Data requests per item per route per rolling minute, default 60. */
    itemRateLimitPerMinute?: number;
  };
  /** Options of the Alpaca imitation; `false` leaves it out. */
  alpaca?: { tradeIntervalMs?: number; symbolLimit?: number } | false;
  /** Clock (ms since the epoch), default `Date.now`; tests pass a fake one. */
  now?: () => number;
  /** Where log lines go; by default warnings and errors go to stderr as JSON. */
  log?: SandboxLog;
  /** Webhook retry delays in ms (default 500, 2000, 5000: three retries, then dropped). */
  webhookRetryDelaysMs?: number[];
  /**
   * JSON file the providers' state is kept in across restarts (loaded at start, saved ≤ 4×/s
   * after changes and on close). Unset: memory only.
   */
  statePath?: string;
  /**
   * Base URL browsers reach the sandbox at, for the SnapTrade portal and Plaid Hosted Link
   * URLs; default: the sandbox's own URL.
   */
  publicUrl?: string;
}

/** A sandbox app not yet listening (for `runService` or your own server). */
export interface SandboxApp {
  /** Serves every sandbox route (no ops routes). */
  app: Hono;
  calls: CallLog;
  webhooks: WebhookDispatcher;
  snaptrade: SnapTradeSandbox;
  plaid: PlaidSandbox;
  alpaca: AlpacaSandbox | null;
  /** Changes where SnapTrade webhooks go; `null` stops them. */
  setSnapTradeWebhookUrl(url: string | null): void;
  /** Sets the sandbox's own base URL (portal/link URLs use it too unless `publicUrl` is set). */
  setBaseUrl(url: string): void;
  /** Writes the state file now (no-op without `statePath`). */
  save(): Promise<void>;
  close(): Promise<void>;
}

/** A listening sandbox. */
export interface RunningSandbox {
  /** e.g. `http://127.0.0.1:41234`, no trailing slash. */
  url: string;
  port: number;
  calls: CallLog;
  /** The webhooks handed out so far and `idle()` to await queued deliveries (tests). */
  webhooks: WebhookDispatcher;
  /** Changes where SnapTrade webhooks go (e.g. once the relay under test listens). */
  setSnapTradeWebhookUrl(url: string | null): void;
  /** Writes the state file now (no-op without `statePath`). */
  save(): Promise<void>;
  close(): Promise<void>;
}

// Through the one logger, so redaction applies; main.ts passes the service's own.
const fallbackLogger = createLogger("sandbox", "warn");
const defaultLog: SandboxLog = (level, msg, fields) => fallbackLogger[level](msg, fields);

// Hands a request to a sub-app with `prefix` removed from its path.
function strip(app: Hono, prefix: string) {
  return (req: Request) => {
    const url = new URL(req.url);
    url.pathname = url.pathname.slice(prefix.length) || "/";
    return app.fetch(new Request(url, req));
  };
}

/**
 * Builds the sandbox's HTTP app. `baseUrl` is its own URL (changeable with setBaseUrl). With
 * `statePath`, the providers start from the saved state, if any.
 */
export async function createSandboxApp(
  opts: SandboxOptions & { baseUrl: string },
): Promise<SandboxApp> {
  let baseUrl = opts.baseUrl.replace(/\/+$/, "");
  const publicUrl = opts.publicUrl?.replace(/\/+$/, "");
  const log = opts.log ?? defaultLog;
  const calls = new CallLog();
  const webhooks = new WebhookDispatcher(log, opts.webhookRetryDelaysMs);
  const core: SandboxCore = {
    calls,
    now: opts.now ?? Date.now,
    baseUrl: () => baseUrl,
    publicUrl: () => publicUrl ?? baseUrl,
    webhooks,
    log,
  };
  let store: StateFile | null = null;
  const saved = opts.statePath ? await loadState(opts.statePath, log) : null;
  const build = async (saved: SandboxState | null) => {
    const snaptrade = createSnapTrade(
      core,
      opts.snaptrade,
      saved?.snaptrade,
      () => store?.changed(),
    );
    try {
      const plaid = await createPlaid(core, opts.plaid, saved?.plaid);
      const alpaca = opts.alpaca === false ? null : createAlpacaSandbox({
        calls,
        tradeIntervalMs: opts.alpaca?.tradeIntervalMs,
        symbolLimit: opts.alpaca?.symbolLimit,
        now: opts.now,
        saved: saved?.alpaca ?? undefined,
        onChange: () => store?.changed(),
      });
      return { snaptrade, plaid, alpaca };
    } catch (e) {
      snaptrade.close(); // its restored orders' executions must not outlive it
      throw e;
    }
  };
  let providers: Awaited<ReturnType<typeof build>>;
  try {
    providers = await build(saved);
  } catch (e) {
    if (!saved || !opts.statePath) throw e;
    discard(opts.statePath, log, e instanceof Error ? e.message : String(e));
    providers = await build(null);
  }
  const { snaptrade, plaid, alpaca } = providers;
  if (opts.statePath) {
    // Without Alpaca, its saved accounts are carried over untouched.
    const savedAlpaca = saved?.alpaca ?? null;
    store = new StateFile(opts.statePath, () => ({
      version: 1,
      savedAt: new Date().toISOString(),
      snaptrade: snaptrade.snapshot(),
      plaid: plaid.snapshot(),
      alpaca: alpaca ? alpaca.snapshot() : savedAlpaca,
    }), log);
  }

  const app = new Hono();
  // Any request may change state; the store writes (debounced) only if the snapshot differs.
  if (store) {
    const st = store;
    app.use("*", async (_c, next) => {
      try {
        await next();
      } finally {
        st.changed();
      }
    });
  }
  // A slow brokerage, on demand (admin `POST /latency`): every provider request waits.
  const latency = { ms: 0 };
  app.use("*", async (c, next) => {
    if (latency.ms > 0 && !c.req.path.startsWith("/_admin")) {
      await new Promise((r) => setTimeout(r, latency.ms));
    }
    await next();
  });
  const portal = strip(snaptrade.portal, "/snaptrade");
  app.all("/snaptrade/portal", (c) => portal(c.req.raw));
  app.all("/snaptrade/portal/*", (c) => portal(c.req.raw));
  const v1 = strip(snaptrade.api, "/snaptrade/api/v1");
  app.all("/snaptrade/api/v1", (c) => v1(c.req.raw));
  app.all("/snaptrade/api/v1/*", (c) => v1(c.req.raw));
  const root = strip(snaptrade.api, "/snaptrade");
  app.all("/snaptrade", (c) => root(c.req.raw));
  app.all("/snaptrade/*", (c) => root(c.req.raw));
  const plaidFetch = strip(plaid.app, "/plaid");
  app.all("/plaid/*", (c) => plaidFetch(c.req.raw));
  if (alpaca) {
    app.get("/alpaca/stream", (c) => alpaca.handleTradingStream(c.req.raw));
    app.get(
      "/alpaca-data/v2/:feed",
      (c) => alpaca.handleDataStream(c.req.raw, c.req.param("feed")),
    );
    app.get(
      "/alpaca-data/v1beta3/crypto/:loc",
      (c) => alpaca.handleDataStream(c.req.raw, `crypto/${c.req.param("loc")}`),
    );
    app.route("/alpaca-data", alpaca.dataRest);
    app.route("/alpaca", alpaca.rest);
  }
  app.get("/fx/eurofxref-daily.xml", () => ecbDailyResponse(core.now()));
  app.get("/fx/eurofxref-hist-90d.xml", () => ecbHistoryResponse(core.now(), "90d"));
  app.get("/fx/eurofxref-hist.xml", () => ecbHistoryResponse(core.now(), "full"));
  app.route(
    "/_admin",
    adminRoutes({
      mode: opts.mode ?? "demo",
      calls,
      snaptrade,
      plaid,
      alpaca,
      webhooks,
      latency,
    }),
  );

  return {
    app,
    calls,
    webhooks,
    snaptrade,
    plaid,
    alpaca,
    setSnapTradeWebhookUrl: (url) => snaptrade.admin.setWebhookUrl(url),
    setBaseUrl(url) {
      baseUrl = url.replace(/\/+$/, "");
    },
    save: async () => await store?.flush(),
    async close() {
      alpaca?.close();
      snaptrade.close();
      await webhooks.close();
      await store?.close();
    },
  };
}

/** Starts a sandbox on real HTTP (port 0 picks a free one). */
export async function startSandbox(
  opts: SandboxOptions & { port?: number; hostname?: string },
): Promise<RunningSandbox> {
  const hostname = opts.hostname ?? "127.0.0.1";
  const sandbox = await createSandboxApp({ ...opts, baseUrl: `http://${hostname}` });
  const server = Deno.serve(
    { port: opts.port ?? 0, hostname, onListen: () => {} },
    sandbox.app.fetch,
  );
  const port = server.addr.port;
  const url = `http://${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}`;
  sandbox.setBaseUrl(url);
  return {
    url,
    port,
    calls: sandbox.calls,
    webhooks: sandbox.webhooks,
    setSnapTradeWebhookUrl: sandbox.setSnapTradeWebhookUrl,
    save: sandbox.save,
    async close() {
      await sandbox.close();
      await server.shutdown();
      await sandbox.save(); // whatever the last requests changed
    },
  };
}
