/**
 * Fetches Plaid webhook verification keys through the official SDK's
 * `webhookVerificationKeyGet`.
 * @module
 */
import { Configuration, PlaidApi, PlaidEnvironments } from "plaid";
import type { Config } from "@meridian/runtime";
import { KeyUnavailableError, type PlaidJwk, type PlaidKeyFetcher } from "./verify.ts";

/** Plaid's base URL: PLAID_BASE_URL, else the sandbox's imitation in sandbox mode. */
export function plaidBaseUrl(config: Config): string {
  if (config.PLAID_BASE_URL) return config.PLAID_BASE_URL.replace(/\/$/, "");
  if (config.PROVIDERS === "sandbox") return `${config.SANDBOX_URL.replace(/\/$/, "")}/plaid`;
  return PlaidEnvironments[config.PLAID_ENV];
}

/** A key fetcher against `basePath`. 4xx answers mean "no such key"; anything else throws. */
export function plaidKeyFetcher(
  basePath: string,
  clientId: string,
  secret: string,
): PlaidKeyFetcher {
  const client = new PlaidApi(
    new Configuration({
      basePath,
      baseOptions: {
        headers: { "PLAID-CLIENT-ID": clientId, "PLAID-SECRET": secret },
        timeout: 5_000,
      },
    }),
  );
  return async (kid) => {
    try {
      const res = await client.webhookVerificationKeyGet({ key_id: kid });
      return res.data.key as unknown as PlaidJwk;
    } catch (e) {
      const status = (e as { response?: { status?: number } }).response?.status;
      if (status !== undefined && status >= 400 && status < 500 && status !== 429) return null;
      throw new KeyUnavailableError(`verification key fetch failed (${status ?? "network"})`);
    }
  };
}
