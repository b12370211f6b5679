/**
 * Alpaca adapter on the official SDK's per-API classes (`@alpacahq/alpaca-trade-api`).
 * The SDK's own retry and limiter stay off: our wrapper does both, per account.
 * @module
 */
import { trading } from "@alpacahq/alpaca-trade-api";
import { type NormAccount, type NormTransaction, obj, str } from "../normalise/common.ts";
import {
  alpacaAccount,
  alpacaActivity,
  alpacaBalance,
  alpacaPosition,
} from "./alpaca/normalise.ts";
import { type CallRecorder, providerCall, ProviderError } from "./call.ts";
import { alpacaBasePath, alpacaLimiter, interactiveView, type ProviderConfig } from "./config.ts";
import type { Credentials, ProviderAdapter, ProviderSession } from "./types.ts";

/** The SDK's API classes for one key pair. */
export function alpacaApis(c: ProviderConfig, keyId: string, secret: string, paper: boolean) {
  const cfg = new trading.Configuration({
    basePath: alpacaBasePath(c, paper),
    keyId,
    secret,
    paper,
  });
  return {
    accounts: new trading.AccountsApi(cfg),
    positions: new trading.PositionsApi(cfg),
    activities: new trading.AccountActivitiesApi(cfg),
    orders: new trading.OrdersApi(cfg),
  };
}

const PAGE = 100;

/** The Alpaca adapter. */
export class AlpacaAdapter implements ProviderAdapter {
  readonly provider = "alpaca" as const;
  /** Bound on waits for the shared budget; set only on {@link interactive} views. */
  readonly maxWaitMs?: number;
  constructor(readonly config: ProviderConfig) {}

  /** This adapter for a flow a person waits on (see `interactiveView`). */
  interactive(): this {
    return interactiveView(this);
  }

  /** Runs one SDK call through the shared wrapper (limited per account key). */
  call<T>(
    keyId: string,
    operation: string,
    fn: () => Promise<T>,
    recorder?: CallRecorder,
  ): Promise<T> {
    return providerCall(
      { provider: "alpaca", limiter: alpacaLimiter(keyId), recorder, maxWaitMs: this.maxWaitMs },
      operation,
      fn,
    );
  }

  session(creds: Credentials, recorder?: CallRecorder, canTrade = true): ProviderSession {
    if (creds.provider !== "alpaca") throw new Error("not Alpaca credentials");
    const apis = alpacaApis(this.config, creds.keyId, creds.secret, creds.paper);
    const call = <T>(op: string, fn: () => Promise<T>) => this.call(creds.keyId, op, fn, recorder);
    let account: Promise<unknown> | undefined;
    const getAccount = () => account ??= call("getAccount", () => apis.accounts.getAccount());
    return {
      provider: "alpaca",
      listAccounts: async () => [alpacaAccount(await getAccount(), canTrade)],
      positions: async (a: NormAccount) =>
        (await call("getAllOpenPositions", () => apis.positions.getAllOpenPositions()) as unknown[])
          .map((p) => alpacaPosition(a.external_id, p)),
      balances: async () => [alpacaBalance(await getAccount())],
      async transactions(a: NormAccount, since: string): Promise<NormTransaction[]> {
        const out: NormTransaction[] = [];
        let pageToken: string | undefined;
        for (;;) {
          let page: unknown[];
          try {
            page = await call("getAccountActivities", () =>
              apis.activities.getAccountActivities({
                after: new Date(`${since}T00:00:00Z`),
                direction: "asc",
                pageSize: PAGE,
                pageToken,
                // deno-lint-ignore no-explicit-any
              } as any)) as unknown[];
          } catch (e) {
            // An endpoint the server does not offer (404) means no activity history.
            if (e instanceof ProviderError && e.status === 404) return out;
            throw e;
          }
          for (const x of page) out.push(alpacaActivity(a.external_id, x));
          if (page.length < PAGE) break;
          pageToken = str(obj(page[page.length - 1]).id) ?? undefined;
          if (!pageToken) break;
        }
        return out;
      },
    };
  }
}
