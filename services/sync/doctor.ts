/**
 * `deno task doctor`: which providers are configured, sandbox or production keys, missing
 * variables, clock skew against each provider's Date header, and one signed status call per
 * provider where the network allows. Never prints a secret: keys appear only as a short
 * fingerprint of their SHA-256.
 * @module
 */
import { type Config, loadConfig, registerSecret, secretValues } from "@meridian/runtime";
import { CallRecorder, type Check, ProviderRegistry } from "./providers/mod.ts";

export type { Check };

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

/** Runs every check: the general ones, then each provider's (`providers/<name>/doctor.ts`). */
export async function doctor(config: Config, opts: { network?: boolean } = {}): Promise<Check[]> {
  const out: Check[] = [];
  const add = (c: Check) => out.push(c);
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
  const providers = new ProviderRegistry(config).all();
  for (const p of providers) out.push(...await p.doctor.configuration(config));

  if (opts.network === false) return out;
  for (const p of providers) {
    const s = await skew(p.doctor.clockUrl());
    add({
      provider: p.key,
      check: "clock skew",
      ok: s.ms === null ? null : Math.abs(s.ms) < 30_000,
      detail: s.detail,
    });
  }
  // One signed call each, answering "are these keys accepted?".
  const rec = new CallRecorder();
  for (const p of providers) add(await p.doctor.signedCall(config, rec));
  return out;
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
  for (const secret of secretValues(config)) registerSecret(secret);
  const checks = await doctor(config, { network: !Deno.args.includes("--offline") });
  printReport(checks);
  Deno.exit(checks.some((c) => c.ok === false) ? 1 : 0);
}
