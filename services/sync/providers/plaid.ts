/**
 * Plaid adapter on the official SDK (`plaid`). One `/investments/holdings/get` answers
 * accounts, positions and balances of every account of the item, so a session fetches it
 * once and serves the per-account questions from it; transactions likewise.
 * @module
 */
import { Configuration, PlaidApi } from "plaid";
import {
  arr,
  type NormAccount,
  type NormTransaction,
  obj,
  type Snapshot,
} from "../normalise/common.ts";
import { plaidHoldings, plaidSecurities, plaidTransaction } from "./plaid/normalise.ts";
import { type CallRecorder, providerCall } from "./call.ts";
import { interactiveView, plaidBasePath, plaidLimiter, type ProviderConfig } from "./config.ts";
import type { Credentials, ProviderAdapter, ProviderSession } from "./types.ts";

/** The SDK client for this configuration. */
export function plaidClient(c: ProviderConfig): PlaidApi {
  return new PlaidApi(
    new Configuration({
      basePath: plaidBasePath(c),
      baseOptions: {
        headers: { "PLAID-CLIENT-ID": c.PLAID_CLIENT_ID, "PLAID-SECRET": c.PLAID_SECRET },
      },
    }),
  );
}

const TXN_PAGE = 500;

/** The Plaid adapter. */
export class PlaidAdapter implements ProviderAdapter {
  readonly provider = "plaid" as const;
  /** Bound on waits for the shared budget; set only on {@link interactive} views. */
  readonly maxWaitMs?: number;
  readonly client: PlaidApi;
  constructor(readonly config: ProviderConfig) {
    this.client = plaidClient(config);
  }

  /** This adapter for a flow a person waits on (see `interactiveView`). */
  interactive(): this {
    return interactiveView(this);
  }

  /** Runs one SDK call through the shared wrapper. */
  call<T>(operation: string, fn: () => Promise<T>, recorder?: CallRecorder): Promise<T> {
    return providerCall(
      {
        provider: "plaid",
        limiter: plaidLimiter(this.config),
        recorder,
        maxWaitMs: this.maxWaitMs,
      },
      operation,
      fn,
    );
  }

  session(creds: Credentials, recorder?: CallRecorder): ProviderSession {
    if (creds.provider !== "plaid") throw new Error("not Plaid credentials");
    const api = this.client;
    const access_token = creds.accessToken;
    const call = <T>(op: string, fn: () => Promise<T>) => this.call(op, fn, recorder);
    let holdings: Promise<Omit<Snapshot, "transactions">> | undefined;
    let txns: Promise<NormTransaction[]> | undefined;
    const getHoldings = () =>
      holdings ??= call(
        "investmentsHoldingsGet",
        () => api.investmentsHoldingsGet({ access_token }),
      )
        .then((r) => plaidHoldings(r.data));
    const getTxns = (since: string) =>
      txns ??= (async () => {
        const out: NormTransaction[] = [];
        const end = new Date().toISOString().slice(0, 10);
        for (let offset = 0;; offset += TXN_PAGE) {
          const r = await call("investmentsTransactionsGet", () =>
            api.investmentsTransactionsGet({
              access_token,
              start_date: since,
              end_date: end,
              options: { count: TXN_PAGE, offset },
            }));
          const data = obj(r.data);
          const secs = plaidSecurities(data.securities);
          const page = arr(data.investment_transactions);
          for (const t of page) out.push(plaidTransaction(t, secs));
          const total = Number(data.total_investment_transactions ?? 0);
          if (page.length < TXN_PAGE || offset + page.length >= total) break;
        }
        return out;
      })();
    return {
      provider: "plaid",
      listAccounts: async () => (await getHoldings()).accounts,
      positions: async (a: NormAccount) =>
        (await getHoldings()).positions.filter((p) => p.account_external_id === a.external_id),
      balances: async (a: NormAccount) =>
        (await getHoldings()).balances.filter((b) => b.account_external_id === a.external_id),
      transactions: async (a: NormAccount, since: string) =>
        (await getTxns(since)).filter((t) => t.account_external_id === a.external_id),
    };
  }
}
