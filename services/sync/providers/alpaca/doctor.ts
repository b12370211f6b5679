/**
 * Alpaca's part of `deno task doctor`: the server's market-data key (by prefix and
 * fingerprint; connections bring their own keys), the trading base URL, and one signed call
 * with the server's key.
 * @module
 */
import { trading } from "@alpacahq/alpaca-trade-api";
import type { Config } from "@meridian/runtime";
import type { CallRecorder } from "../call.ts";
import { describeFailure, fingerprint } from "../check.ts";
import type { Check, ProviderDoctor } from "../types.ts";
import { alpacaBasePath } from "./client.ts";
import type { AlpacaProvider } from "./mod.ts";

/** Alpaca's doctor checks, over `al`'s limiter. */
export function alpacaDoctor(al: AlpacaProvider): ProviderDoctor {
  return {
    async configuration(config: Config): Promise<Check[]> {
      const checks: Check[] = [{
        provider: "alpaca",
        check: "keys",
        ok: true,
        detail: `per-connection keys (entered by users); market data key ${
          config.ALPACA_KEY_ID ? config.ALPACA_KEY_ID.slice(0, 4) + "…" : "unset"
        }${config.ALPACA_KEY_ID?.startsWith("PK") ? " (paper)" : ""}, secret ${await fingerprint(
          config.ALPACA_SECRET_KEY,
        )}; trading base ${alpacaBasePath(config, true)}`,
      }];
      if (config.PROVIDERS === "live" && (!config.ALPACA_KEY_ID || !config.ALPACA_SECRET_KEY)) {
        checks.push({
          provider: "alpaca",
          check: "market data",
          ok: false,
          detail: "missing ALPACA_KEY_ID / ALPACA_SECRET_KEY",
        });
      }
      return checks;
    },
    clockUrl: () => `${alpacaBasePath(al.config, true)}/v2/clock`,
    async signedCall(config: Config, recorder: CallRecorder): Promise<Check> {
      const keyId = config.ALPACA_KEY_ID;
      const secret = config.ALPACA_SECRET_KEY;
      if (!keyId || !secret) {
        return {
          provider: "alpaca",
          check: "signed call",
          ok: null,
          detail: "no server key configured (users bring their own)",
        };
      }
      try {
        const clock = new trading.ClockApi(
          new trading.Configuration({ basePath: alpacaBasePath(config, true), keyId, secret }),
        );
        await al.call(keyId, "legacyClock", () => clock.legacyClock(), recorder);
        return { provider: "alpaca", check: "signed call", ok: true, detail: "keys accepted" };
      } catch (e) {
        return { provider: "alpaca", check: "signed call", ok: false, detail: describeFailure(e) };
      }
    },
  };
}
