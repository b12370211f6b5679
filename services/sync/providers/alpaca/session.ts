/**
 * Reading one Alpaca account: the account (one per key pair), its open positions, its cash,
 * and its activities.
 * @module
 */
import { obj, str } from "../../normalise/json.ts";
import type { NormAccount, NormTransaction } from "../../normalise/model.ts";
import { ProviderError } from "../call.ts";
import type { ProviderSession, SessionOptions } from "../types.ts";
import { alpacaApis } from "./client.ts";
import type { AlpacaCredentials, AlpacaProvider } from "./mod.ts";
import { alpacaAccount, alpacaActivity, alpacaBalance, alpacaPosition } from "./normalise.ts";

const PAGE = 100;

/** A session over one account; it may trade unless `opts.canTrade` is false. */
export function alpacaSession(
  al: AlpacaProvider,
  creds: AlpacaCredentials,
  { recorder, canTrade = true }: SessionOptions,
): ProviderSession {
  const apis = alpacaApis(al.config, creds.keyId, creds.secret, creds.paper);
  const call = <T>(op: string, fn: () => Promise<T>) => al.call(creds.keyId, op, fn, recorder);
  let account: Promise<unknown> | undefined;
  const getAccount = () => account ??= call("getAccount", () => apis.accounts.getAccount());
  return {
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
