/**
 * `deno task doctor`: which providers are configured, sandbox or production keys, missing
 * variables, clock skew against each provider's Date header, and one signed status call per
 * provider where the network allows. Never prints a secret: keys appear only as a short
 * fingerprint of their SHA-256.
 * @module
 */
import { type Config, loadConfig, registerSecret, SECRET_VARIABLES } from "@meridian/runtime";
import { trading } from "@alpacahq/alpaca-trade-api";
import {
  alpacaBasePath,
  CallRecorder,
  createAdapters,
  plaidBasePath,
  ProviderError,
  snaptradeBasePath,
} from "./providers/mod.ts";

/** One line of the report. */
export interface Check {
  provider: "snaptrade" | "plaid" | "alpaca" | "general";
  check: string;
  ok: boolean | null;
  detail: string;
}

async function fingerprint(value: string | undefined): Promise<string> {
  if (!value) return "unset";
  const h = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(value)));
  return `sha256:${[...h.slice(0, 4)].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}

async function skew(url: string): Promise<{ ms: number | null; detail: string }> {
  try {
    const started = Date.now();
    const res = await fetch(url, { method: "GET", signal: AbortSignal.timeout(5000) });
    await res.body?.cancel();
    const date = res.headers.get("date");
    if (!date) return { ms: null, detail: "no Date header" };
    const mid = (started + Date.now()) / 2;
    // Date has one-second resolution: only skews beyond a second are meaningful.
    const ms = Date.parse(date) - mid;
    return { ms, detail: `${(ms / 1000).toFixed(1)} s` };
  } catch (e) {
    return { ms: null, detail: `unreachable (${(e as Error).name})` };
  }
}

const DEFAULT_SANDBOX_KEYS = new Set([
  "MERIDIAN-SANDBOX",
  "sandbox-consumer-key",
  "meridian-sandbox",
  "sandbox-plaid-secret",
]);

/** Runs every check. */
export async function doctor(config: Config, opts: { network?: boolean } = {}): Promise<Check[]> {
  const out: Check[] = [];
  const add = (c: Check) => out.push(c);
  const live = config.PROVIDERS === "live";
  add({ provider: "general", check: "mode", ok: true, detail: `PROVIDERS=${config.PROVIDERS}` });
  add({
    provider: "general",
    check: "SECRETS_KEYRING",
    ok: !!config.SECRETS_KEYRING,
    detail: config.SECRETS_KEYRING
      ? `${config.SECRETS_KEYRING.split(",").length} key(s), newest id ${
        config.SECRETS_KEYRING.split(":")[0]
      }`
      : "missing: provider secrets cannot be encrypted",
  });

  const snapKeysDefault = DEFAULT_SANDBOX_KEYS.has(config.SNAPTRADE_CLIENT_ID) ||
    DEFAULT_SANDBOX_KEYS.has(config.SNAPTRADE_CONSUMER_KEY);
  add({
    provider: "snaptrade",
    check: "keys",
    ok: live ? !snapKeysDefault : true,
    detail: `client ${config.SNAPTRADE_CLIENT_ID}, consumer key ${await fingerprint(
      config.SNAPTRADE_CONSUMER_KEY,
    )}; ${snapKeysDefault ? "sandbox defaults" : "custom keys"}${
      live && snapKeysDefault ? " — set SNAPTRADE_CLIENT_ID and SNAPTRADE_CONSUMER_KEY" : ""
    }; base ${snaptradeBasePath(config) ?? "https://api.snaptrade.com"}; investment sync ${
      config.FF_SNAPTRADE_INVESTMENT_SYNC ? "on" : "off"
    }, trading ${config.FF_SNAPTRADE_TRADE_EXECUTION ? "on" : "off"}`,
  });
  const plaidDefault = DEFAULT_SANDBOX_KEYS.has(config.PLAID_CLIENT_ID) ||
    DEFAULT_SANDBOX_KEYS.has(config.PLAID_SECRET);
  add({
    provider: "plaid",
    check: "keys",
    ok: live ? !plaidDefault : true,
    detail: `client ${config.PLAID_CLIENT_ID}, secret ${await fingerprint(
      config.PLAID_SECRET,
    )}; PLAID_ENV=${config.PLAID_ENV} (${
      config.PLAID_ENV === "production" ? "production keys" : "sandbox keys"
    })${live && plaidDefault ? " — set PLAID_CLIENT_ID and PLAID_SECRET" : ""}; base ${
      plaidBasePath(config)
    }`,
  });
  add({
    provider: "alpaca",
    check: "keys",
    ok: true,
    detail: `per-connection keys (entered by users); market data key ${
      config.ALPACA_KEY_ID ? config.ALPACA_KEY_ID.slice(0, 4) + "…" : "unset"
    }${config.ALPACA_KEY_ID?.startsWith("PK") ? " (paper)" : ""}, secret ${await fingerprint(
      config.ALPACA_SECRET_KEY,
    )}; trading base ${alpacaBasePath(config, true)}`,
  });
  if (live && (!config.ALPACA_KEY_ID || !config.ALPACA_SECRET_KEY)) {
    add({
      provider: "alpaca",
      check: "market data",
      ok: false,
      detail: "missing ALPACA_KEY_ID / ALPACA_SECRET_KEY",
    });
  }

  if (opts.network === false) return out;
  const adapters = createAdapters(config);
  const st = snaptradeBasePath(config) ?? "https://api.snaptrade.com";
  const pl = plaidBasePath(config);
  const al = alpacaBasePath(config, true);
  for (
    const [provider, url] of [["snaptrade", `${st}/`], ["plaid", `${pl}/`], [
      "alpaca",
      `${al}/v2/clock`,
    ]] as const
  ) {
    const s = await skew(url);
    add({
      provider,
      check: "clock skew",
      ok: s.ms === null ? null : Math.abs(s.ms) < 30_000,
      detail: s.detail,
    });
  }
  // One signed call each, answering "are these keys accepted?". A made-up user or token
  // is enough: the provider checks the request's keys before it looks the user up.
  const rec = new CallRecorder();
  try {
    await adapters.snaptrade.call(
      "listBrokerageAuthorizations",
      () =>
        adapters.snaptrade.client.connections.listBrokerageAuthorizations({
          userId: "meridian-doctor",
          userSecret: "meridian-doctor-probe",
        }),
      rec,
    );
    add({ provider: "snaptrade", check: "signed call", ok: true, detail: "keys accepted" });
  } catch (e) {
    const userUnknown = e instanceof ProviderError &&
      (["1083", "1068", "1011"].includes(e.code ?? "") || e.status === 404);
    add({
      provider: "snaptrade",
      check: "signed call",
      ok: userUnknown,
      detail: userUnknown ? "keys and signature accepted" : describe(e),
    });
  }
  try {
    await adapters.plaid.call(
      "itemGet",
      () => adapters.plaid.client.itemGet({ access_token: "access-doctor-probe" }),
      rec,
    );
    add({ provider: "plaid", check: "signed call", ok: true, detail: "keys accepted" });
  } catch (e) {
    const tokenUnknown = e instanceof ProviderError &&
      ["INVALID_ACCESS_TOKEN", "ITEM_NOT_FOUND", "INVALID_INPUT"].includes(e.code ?? "");
    add({
      provider: "plaid",
      check: "signed call",
      ok: tokenUnknown,
      detail: tokenUnknown ? "keys accepted" : describe(e),
    });
  }
  if (config.ALPACA_KEY_ID && config.ALPACA_SECRET_KEY) {
    try {
      const clock = new trading.ClockApi(
        new trading.Configuration({
          basePath: al,
          keyId: config.ALPACA_KEY_ID,
          secret: config.ALPACA_SECRET_KEY,
        }),
      );
      await adapters.alpaca.call(
        config.ALPACA_KEY_ID,
        "legacyClock",
        () => clock.legacyClock(),
        rec,
      );
      add({ provider: "alpaca", check: "signed call", ok: true, detail: "keys accepted" });
    } catch (e) {
      add({ provider: "alpaca", check: "signed call", ok: false, detail: describe(e) });
    }
  } else {
    add({
      provider: "alpaca",
      check: "signed call",
      ok: null,
      detail: "no server key configured (users bring their own)",
    });
  }
  return out;
}

function describe(e: unknown): string {
  if (e instanceof ProviderError) {
    return e.status
      ? `refused (${e.status}${e.code ? ` ${e.code}` : ""}): ${e.detail}`
      : `unreachable: ${e.detail}`;
  }
  return `failed: ${(e as Error)?.name ?? "error"}`;
}

/** Prints the report as a table. */
export function printReport(checks: Check[]): void {
  const mark = (ok: boolean | null) => (ok === null ? "  -  " : ok ? " ok  " : "FAIL ");
  const w = Math.max(...checks.map((c) => `${c.provider} ${c.check}`.length));
  for (const c of checks) {
    console.log(`${mark(c.ok)} ${`${c.provider} ${c.check}`.padEnd(w)}  ${c.detail}`);
  }
}

if (import.meta.main) {
  const config = loadConfig();
  for (const name of SECRET_VARIABLES) registerSecret(config[name]);
  const checks = await doctor(config, { network: !Deno.args.includes("--offline") });
  printReport(checks);
  Deno.exit(checks.some((c) => c.ok === false) ? 1 : 0);
}
