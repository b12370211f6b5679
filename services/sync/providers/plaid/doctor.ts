/**
 * Plaid's part of `deno task doctor`: its keys (by fingerprint), environment and base URL, and
 * one signed call.
 * @module
 */
import type { Config } from "@meridian/runtime";
import { type CallRecorder, ProviderError } from "../call.ts";
import { describeFailure, fingerprint, keysCheck } from "../check.ts";
import type { Check, ProviderDoctor } from "../types.ts";
import { plaidBasePath } from "./client.ts";
import type { PlaidProvider } from "./mod.ts";

/** Plaid's doctor checks, over `pl`'s client and limiter. */
export function plaidDoctor(pl: PlaidProvider): ProviderDoctor {
  return {
    async configuration(config: Config): Promise<Check[]> {
      const secret = await fingerprint(config.PLAID_SECRET);
      const keys = [config.PLAID_CLIENT_ID, config.PLAID_SECRET];
      return [
        keysCheck(
          "plaid",
          config,
          keys,
          (defaults, live) =>
            `client ${config.PLAID_CLIENT_ID}, secret ${secret}; PLAID_ENV=${config.PLAID_ENV} (${
              config.PLAID_ENV === "production" ? "production keys" : "sandbox keys"
            })${live && defaults ? " — set PLAID_CLIENT_ID and PLAID_SECRET" : ""}; base ${
              plaidBasePath(config)
            }`,
        ),
      ];
    },
    clockUrl: () => `${plaidBasePath(pl.config)}/`,
    async signedCall(_config: Config, recorder: CallRecorder): Promise<Check> {
      // A made-up token is enough: Plaid checks the request's keys before the token.
      try {
        await pl.call(
          "itemGet",
          () => pl.client.itemGet({ access_token: "access-doctor-probe" }),
          recorder,
        );
        return { provider: "plaid", check: "signed call", ok: true, detail: "keys accepted" };
      } catch (e) {
        const tokenUnknown = e instanceof ProviderError &&
          ["INVALID_ACCESS_TOKEN", "ITEM_NOT_FOUND", "INVALID_INPUT"].includes(e.code ?? "");
        return {
          provider: "plaid",
          check: "signed call",
          ok: tokenUnknown,
          detail: tokenUnknown ? "keys accepted" : describeFailure(e),
        };
      }
    },
  };
}
