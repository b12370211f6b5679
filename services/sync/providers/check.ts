/**
 * What the providers' doctor checks share: how a key is shown (a fingerprint, never the key),
 * the sandbox's default keys, and how a failed probe is described.
 * @module
 */
import type { Provider } from "@meridian/proto";
import type { Config } from "@meridian/runtime";
import { ProviderError } from "./call.ts";
import type { Check } from "./types.ts";

/** The sandbox's default keys: any of them in live mode means the real ones were never set. */
const SANDBOX_DEFAULT_KEYS: ReadonlySet<string> = new Set([
  "MERIDIAN-SANDBOX",
  "sandbox-consumer-key",
  "meridian-sandbox",
  "sandbox-plaid-secret",
]);

/**
 * The `keys` line of a provider whose keys this server holds: in live mode the sandbox's
 * defaults among `keys` fail it. `detail` is told whether they are the defaults, and whether
 * this is live mode.
 */
export function keysCheck(
  provider: Provider,
  config: Pick<Config, "PROVIDERS">,
  keys: string[],
  detail: (defaults: boolean, live: boolean) => string,
): Check {
  const live = config.PROVIDERS === "live";
  const defaults = keys.some((k) => SANDBOX_DEFAULT_KEYS.has(k));
  return { provider, check: "keys", ok: live ? !defaults : true, detail: detail(defaults, live) };
}

/** A short SHA-256 fingerprint of a secret, safe to print; `unset` when there is none. */
export async function fingerprint(value: string | undefined): Promise<string> {
  if (!value) return "unset";
  const h = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(value)));
  return `sha256:${[...h.slice(0, 4)].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/** A failed probe, described without anything secret. */
export function describeFailure(e: unknown): string {
  if (e instanceof ProviderError) {
    return e.status
      ? `refused (${e.status}${e.code ? ` ${e.code}` : ""}): ${e.detail}`
      : `unreachable: ${e.detail}`;
  }
  return `failed: ${(e as Error)?.name ?? "error"}`;
}
