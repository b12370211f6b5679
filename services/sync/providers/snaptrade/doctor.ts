/**
 * SnapTrade's part of `deno task doctor`: its keys (by fingerprint), base URL and feature flags,
 * and one signed call.
 * @module
 */
import type { Config } from "@meridian/runtime";
import { type CallRecorder, ProviderError } from "../call.ts";
import { describeFailure, fingerprint, keysCheck } from "../check.ts";
import type { Check, ProviderDoctor } from "../types.ts";
import { snaptradeBasePath } from "./client.ts";
import type { SnaptradeProvider } from "./mod.ts";

/** SnapTrade's doctor checks, over `st`'s client and limiter. */
export function snaptradeDoctor(st: SnaptradeProvider): ProviderDoctor {
  const base = () => snaptradeBasePath(st.config) ?? "https://api.snaptrade.com";
  return {
    async configuration(config: Config): Promise<Check[]> {
      const consumerKey = await fingerprint(config.SNAPTRADE_CONSUMER_KEY);
      const keys = [config.SNAPTRADE_CLIENT_ID, config.SNAPTRADE_CONSUMER_KEY];
      return [
        keysCheck(
          "snaptrade",
          config,
          keys,
          (defaults, live) =>
            `client ${config.SNAPTRADE_CLIENT_ID}, consumer key ${consumerKey}; ${
              defaults ? "sandbox defaults" : "custom keys"
            }${
              live && defaults ? " — set SNAPTRADE_CLIENT_ID and SNAPTRADE_CONSUMER_KEY" : ""
            }; base ${base()}; investment sync ${
              config.FF_SNAPTRADE_INVESTMENT_SYNC ? "on" : "off"
            }, trading ${config.FF_SNAPTRADE_TRADE_EXECUTION ? "on" : "off"}`,
        ),
      ];
    },
    clockUrl: () => `${base()}/`,
    async signedCall(_config: Config, recorder: CallRecorder): Promise<Check> {
      // A made-up user is enough: SnapTrade checks the request's keys before the user.
      try {
        await st.call(
          "listBrokerageAuthorizations",
          () =>
            st.client.connections.listBrokerageAuthorizations({
              userId: "meridian-doctor",
              userSecret: "meridian-doctor-probe",
            }),
          recorder,
        );
        return { provider: "snaptrade", check: "signed call", ok: true, detail: "keys accepted" };
      } catch (e) {
        const userUnknown = e instanceof ProviderError &&
          (["1083", "1068", "1011"].includes(e.code ?? "") || e.status === 404);
        return {
          provider: "snaptrade",
          check: "signed call",
          ok: userUnknown,
          detail: userUnknown ? "keys and signature accepted" : describeFailure(e),
        };
      }
    },
  };
}
