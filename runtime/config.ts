/**
 * Configuration from the environment, validated once at start-up. An invalid variable ends
 * the process with exit code 2 and one line naming it.
 * @module
 */
import { z } from "zod";
import { validTrustedProxies } from "./client_address.ts";

const flag = z.enum(["true", "false", "1", "0"]).transform((v) => v === "true" || v === "1");
const port = z.coerce.number().int().min(0).max(65535);
/** A positive decimal limit, kept as its string (money is exact). */
const decimalLimit = z.string().regex(/^\d{1,12}(\.\d{1,6})?$/, "expected a decimal number")
  .refine((v) => Number(v) > 0, "expected a number above 0");
const url = (schemes: string[]) =>
  z.string().refine((v) => {
    try {
      return schemes.includes(new URL(v).protocol);
    } catch {
      return false;
    }
  }, `expected a URL with scheme ${schemes.join(" or ")}`);

/** One URL or several, comma-separated, each with one of `schemes`. */
const urlList = (schemes: string[]) =>
  z.string().refine(
    (v) => v.split(",").every((one) => url(schemes).safeParse(one.trim()).success),
    `expected a URL with scheme ${schemes.join(" or ")}, or several comma-separated`,
  );

/** Every environment variable Meridian reads, with its default. */
export const ConfigSchema = z.object({
  /** One server, or a cluster's servers comma-separated (`nats://a:4222,nats://b:4222`). */
  NATS_URL: urlList(["nats:", "tls:"]).default("nats://127.0.0.1:4222"),
  /**
   * Copies of every stream and KV bucket the services provision: 1 on one server, 3 on a
   * three-node cluster (survives one node's loss), at most 5 (JetStream's limit).
   */
  NATS_REPLICAS: z.coerce.number().int().min(1).max(5).default(1),
  DATABASE_URL: url(["postgres:", "postgresql:"]).default(
    "postgres://postgres@127.0.0.1:5432/meridian",
  ),
  PROVIDERS: z.enum(["sandbox", "live"]).default("sandbox"),
  LOG_LEVEL: z.enum(["debug", "info", "warn", "error"]).default("info"),
  SNAPTRADE_CLIENT_ID: z.string().min(1).default("MERIDIAN-SANDBOX"),
  SNAPTRADE_CONSUMER_KEY: z.string().min(1).default("sandbox-consumer-key"),
  SNAPTRADE_BASE_URL: url(["http:", "https:"]).optional(),
  PLAID_CLIENT_ID: z.string().min(1).default("meridian-sandbox"),
  PLAID_SECRET: z.string().min(1).default("sandbox-plaid-secret"),
  PLAID_ENV: z.enum(["sandbox", "production"]).default("sandbox"),
  PLAID_BASE_URL: url(["http:", "https:"]).optional(),
  ALPACA_KEY_ID: z.string().min(1).optional(),
  ALPACA_SECRET_KEY: z.string().min(1).optional(),
  ALPACA_BASE_URL: url(["http:", "https:"]).optional(),
  /** Market-data stream base (`/v2/<feed>` and `/v1beta3/crypto/us` are appended). */
  ALPACA_DATA_STREAM_URL: url(["ws:", "wss:"]).optional(),
  /** Market-data REST base (snapshots). */
  ALPACA_DATA_URL: url(["http:", "https:"]).optional(),
  /** The stock feed: `iex` (free plan, 30 symbols a connection), `sip`, `delayed_sip`, `test`. */
  ALPACA_FEED: z.enum(["iex", "sip", "delayed_sip", "test"]).default("iex"),
  /** Market-data credentials, one stream connection (a price shard) each: `id:secret,id:secret`. */
  ALPACA_DATA_KEYS: z.string().regex(
    /^[^:,\s]{1,64}:[^,\s]{1,128}(,[^:,\s]{1,64}:[^,\s]{1,128})*$/,
    "expected comma-separated key_id:secret pairs",
  ).optional(),
  /**
   * The ECB's daily FX reference rates (`eurofxref-daily.xml`); default: the sandbox's with
   * `PROVIDERS=sandbox`, the ECB's own live. See {@link fxUrl}.
   */
  FX_URL: url(["http:", "https:"]).optional(),
  /** Seconds between snapshot polls of symbols no stream carries. */
  PRICES_POLL_S: z.coerce.number().int().min(1).max(3600).default(60),
  /** At most one `portfolio.value` per user per this many milliseconds (latest wins). */
  VALUE_PUBLISH_MS: z.coerce.number().int().min(50).max(60_000).default(1000),
  /** Seconds between intraday value snapshots while prices move. */
  SNAPSHOT_INTRADAY_S: z.coerce.number().int().min(1).max(86_400).default(300),
  /** Days intraday snapshots are kept at full resolution; older ones are thinned to hourly. */
  SNAPSHOT_INTRADAY_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  /** Days of daily values rebuilt from transactions when a connection is first synced. */
  HISTORY_BACKFILL_DAYS: z.coerce.number().int().min(0).max(3650).default(365),
  SECRETS_KEYRING: z.string().regex(
    /^[A-Za-z0-9_-]{1,32}:[A-Za-z0-9+/]{43}=(,[A-Za-z0-9_-]{1,32}:[A-Za-z0-9+/]{43}=)*$/,
    "expected comma-separated id:base64(32 bytes) entries, the first encrypts",
  ).optional(),
  REFRESH_COOLDOWN_S: z.coerce.number().int().min(0).default(60),
  HOLDINGS_TTL_H: z.coerce.number().positive().default(24),
  FF_SNAPTRADE_INVESTMENT_SYNC: flag.default(true),
  FF_SNAPTRADE_TRADE_EXECUTION: flag.default(true),
  /** The global kill switch: no new order reaches a broker while it is on. */
  TRADING_HALTED: flag.default(false),
  /** Largest estimated amount of one order (account currency). */
  TRADING_MAX_ORDER_NOTIONAL: decimalLimit.default("25000"),
  /** Largest estimated amount of one user's orders in a UTC day. */
  TRADING_MAX_DAILY_NOTIONAL: decimalLimit.default("100000"),
  /** How far (percent) a limit or stop price may be from the last price. */
  TRADING_PRICE_COLLAR_PCT: decimalLimit.default("10"),
  API_PORT: port.default(8080),
  RELAY_PORT: port.default(8081),
  SANDBOX_PORT: port.default(8082),
  SANDBOX_URL: url(["http:", "https:"]).default("http://127.0.0.1:8082"),
  SANDBOX_PUBLIC_URL: url(["http:", "https:"]).optional(), // browser-facing; default SANDBOX_URL
  SANDBOX_MODE: z.enum(["demo", "test", "off"]).default("demo"),
  SANDBOX_STATE_PATH: z.string().min(1).optional(), // default .data/sandbox/state.json in demo mode
  SANDBOX_SNAPTRADE_WEBHOOK_URL: url(["http:", "https:"]).optional(), // default the relay's
  PUBLIC_URL: url(["http:", "https:"]).default("http://127.0.0.1:8080"),
  RELAY_PUBLIC_URL: url(["http:", "https:"]).default("http://127.0.0.1:8081"),
  RELAY_OUTBOX_PATH: z.string().min(1).default(".data/relay/outbox.sqlite"),
  /** The relay's own NATS user (publish `webhooks.>` only); unset: credentials from NATS_URL. */
  RELAY_NATS_USER: z.string().min(1).optional(),
  RELAY_NATS_PASS: z.string().min(1).optional(),
  /** Seconds between ingress reconciliation passes (stale connections get a sync request). */
  RECONCILE_INTERVAL_S: z.coerce.number().int().min(1).default(900),
  /** The private ops listener (`/metrics`, `/healthz`, `/readyz`); 0 picks a free port. */
  METRICS_PORT: port.optional(),
  /**
   * Proxies whose `X-Forwarded-For` is believed: addresses, CIDR ranges, or `loopback`,
   * `linklocal`, `uniquelocal`. Unset: none, so the socket's peer is the client.
   */
  TRUSTED_PROXIES: z.string().refine(
    validTrustedProxies,
    "expected comma-separated IP addresses, CIDR ranges, loopback, linklocal or uniquelocal",
  ).optional(),
  /** Set by `make up`: the service stops when its supervisor's pipe to its stdin closes. */
  STOP_ON_STDIN_EOF: flag.default(false),
  // Not `HOST`: shells and CI runners export that for their own purposes.
  LISTEN_HOST: z.string().min(1).default("127.0.0.1"),
  ALLOW_SIGNUP: flag.default(true),
});
/** The validated configuration. */
export type Config = z.infer<typeof ConfigSchema>;

/** The ECB live daily reference rates document. */
export const ECB_DAILY_URL = "https://www.ecb.europa.eu/stats/eurofxref/eurofxref-daily.xml";

/** Where the daily FX reference rates come from: `FX_URL`, the sandbox's, or the ECB's. */
export function fxUrl(config: Config): string {
  if (config.FX_URL) return config.FX_URL;
  if (config.PROVIDERS === "sandbox") {
    return `${config.SANDBOX_URL.replace(/\/+$/, "")}/fx/eurofxref-daily.xml`;
  }
  return ECB_DAILY_URL;
}

/** Variables whose values are secrets: never logged, never echoed in errors. */
export const SECRET_VARIABLES = [
  "SNAPTRADE_CONSUMER_KEY",
  "PLAID_SECRET",
  "ALPACA_SECRET_KEY",
  "ALPACA_DATA_KEYS",
  "SECRETS_KEYRING",
  "DATABASE_URL",
  "RELAY_NATS_PASS",
] as const;

/** Never echoed in a configuration error: the secrets, and NATS_URL (a URL may hold a password). */
const NOT_ECHOED: readonly string[] = [...SECRET_VARIABLES, "NATS_URL"];

/**
 * What logs must never show: the secret variables' values and the passwords inside NATS_URL's
 * server URLs (the client names its servers when they come and go).
 */
export function secretValues(config: Config): string[] {
  const out: string[] = [];
  for (const name of SECRET_VARIABLES) {
    const value = config[name];
    if (value) out.push(value);
  }
  for (const server of config.NATS_URL.split(",")) {
    const password = URL.parse(server.trim())?.password;
    if (password) out.push(password, decodeURIComponent(password));
  }
  return out;
}

/** Why a configuration could not be loaded: one line naming the variable. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Parses `env`; throws {@link ConfigError} with a one-line message on the first bad variable. */
export function parseConfig(env: Record<string, string | undefined>): Config {
  const cleaned = Object.fromEntries(
    Object.entries(env).filter(([, v]) => v !== undefined && v !== ""),
  );
  const result = ConfigSchema.safeParse(cleaned);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const name = String(issue.path[0] ?? "environment");
  const shown = NOT_ECHOED.includes(name) || cleaned[name] === undefined
    ? ""
    : ` (got ${JSON.stringify(cleaned[name])})`;
  throw new ConfigError(`invalid configuration: ${name}: ${issue.message}${shown}`);
}

/** Loads the configuration from the process environment, or exits 2 with one line. */
export function loadConfig(): Config {
  try {
    return parseConfig(Deno.env.toObject());
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    console.error(e.message);
    Deno.exit(2);
  }
}
