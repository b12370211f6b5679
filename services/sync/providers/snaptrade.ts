/**
 * SnapTrade adapter on the official SDK (`snaptrade-typescript-sdk`).
 * @module
 */
import { type CommercialApiKeyAuth, Snaptrade, SnaptradeAuth } from "snaptrade-typescript-sdk";

/** The SDK client type we use (commercial keys). */
export type SnaptradeClient = Snaptrade<CommercialApiKeyAuth>;
import {
  type NormAccount,
  type NormBalance,
  type NormPosition,
  type NormTransaction,
  obj,
  str,
} from "../normalise/common.ts";
import {
  snaptradeAccount,
  snaptradeActivity,
  snaptradeBalances,
  snaptradePosition,
} from "./snaptrade/normalise.ts";
import { type CallRecorder, providerCall } from "./call.ts";
import {
  interactiveView,
  type ProviderConfig,
  snaptradeBasePath,
  snaptradeLimiter,
} from "./config.ts";
import type { Credentials, ProviderAdapter, ProviderSession } from "./types.ts";

/** The SDK client for this configuration. */
export function snaptradeClient(c: ProviderConfig): SnaptradeClient {
  const basePath = snaptradeBasePath(c);
  return new Snaptrade({
    auth: SnaptradeAuth.commercialApiKey({
      clientId: c.SNAPTRADE_CLIENT_ID,
      consumerKey: c.SNAPTRADE_CONSUMER_KEY,
    }),
    ...(basePath ? { basePath } : {}),
  });
}

/** Page size for activities (SnapTrade's maximum). */
const ACTIVITY_PAGE = 1000;

/** The SnapTrade adapter. */
export class SnaptradeAdapter implements ProviderAdapter {
  readonly provider = "snaptrade" as const;
  /** Bound on waits for the shared budget; set only on {@link interactive} views. */
  readonly maxWaitMs?: number;
  readonly client: SnaptradeClient;
  constructor(readonly config: ProviderConfig) {
    this.client = snaptradeClient(config);
  }

  /** This adapter for a flow a person waits on (see `interactiveView`). */
  interactive(): this {
    return interactiveView(this);
  }

  /** Runs one SDK call through the shared wrapper. */
  call<T>(operation: string, fn: () => Promise<T>, recorder?: CallRecorder): Promise<T> {
    return providerCall(
      {
        provider: "snaptrade",
        limiter: snaptradeLimiter(this.config),
        recorder,
        maxWaitMs: this.maxWaitMs,
      },
      operation,
      fn,
    );
  }

  session(creds: Credentials, recorder?: CallRecorder, canTrade = false): ProviderSession {
    if (creds.provider !== "snaptrade") throw new Error("not SnapTrade credentials");
    const { userId, userSecret, authorizationId } = creds;
    const user = { userId, userSecret };
    const api = this.client;
    const call = <T>(op: string, fn: () => Promise<T>) => this.call(op, fn, recorder);
    return {
      provider: "snaptrade",
      async listAccounts(): Promise<NormAccount[]> {
        const res = await call(
          "listUserAccounts",
          () => api.accountInformation.listUserAccounts(user),
        );
        return (res.data as unknown[])
          .filter((a) => str(obj(a).brokerage_authorization) === authorizationId)
          .map((a) => snaptradeAccount(a, canTrade));
      },
      async positions(account: NormAccount): Promise<NormPosition[]> {
        // The v2 endpoint answers equities and options in one call.
        const res = await call(
          "getAllAccountPositions",
          () =>
            api.accountInformation.getAllAccountPositions({
              ...user,
              accountId: account.external_id,
            }),
        );
        const results = obj(res.data).results;
        return (Array.isArray(results) ? results : []).map((p) =>
          snaptradePosition(account.external_id, p)
        );
      },
      async balances(account: NormAccount): Promise<NormBalance[]> {
        const res = await call(
          "getUserAccountBalance",
          () =>
            api.accountInformation.getUserAccountBalance({
              ...user,
              accountId: account.external_id,
            }),
        );
        return snaptradeBalances(account.external_id, res.data);
      },
      async transactions(account: NormAccount, since: string): Promise<NormTransaction[]> {
        const out: NormTransaction[] = [];
        for (let offset = 0;; offset += ACTIVITY_PAGE) {
          const res = await call(
            "getAccountActivities",
            () =>
              api.accountInformation.getAccountActivities({
                ...user,
                accountId: account.external_id,
                startDate: since,
                offset,
                limit: ACTIVITY_PAGE,
              }),
          );
          const page = obj(res.data);
          const data = Array.isArray(res.data)
            ? res.data as unknown[]
            : (page.data as unknown[] ?? []);
          for (const a of data) out.push(snaptradeActivity(account.external_id, a));
          const total = Number(obj(page.pagination).total ?? 0);
          if (data.length < ACTIVITY_PAGE || offset + data.length >= total) break;
        }
        return out;
      },
    };
  }
}
