/**
 * Reading one Plaid item. One `/investments/holdings/get` answers accounts, positions and
 * balances of every account of the item, so a session fetches it once and serves the
 * per-account questions from it; transactions likewise.
 * @module
 */
import { arr, obj } from "../../normalise/json.ts";
import type { NormAccount, NormTransaction, Snapshot } from "../../normalise/model.ts";
import type { ProviderSession, SessionOptions } from "../types.ts";
import type { PlaidCredentials, PlaidProvider } from "./mod.ts";
import { plaidHoldings, plaidSecurities, plaidTransaction } from "./normalise.ts";

const TXN_PAGE = 500;

/** A session over one item (Plaid accounts never trade). */
export function plaidSession(
  pl: PlaidProvider,
  creds: PlaidCredentials,
  { recorder }: SessionOptions,
): ProviderSession {
  const api = pl.client;
  const access_token = creds.accessToken;
  const call = <T>(op: string, fn: () => Promise<T>) => pl.call(op, fn, recorder);
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
    listAccounts: async () => (await getHoldings()).accounts,
    positions: async (a: NormAccount) =>
      (await getHoldings()).positions.filter((p) => p.account_external_id === a.external_id),
    balances: async (a: NormAccount) =>
      (await getHoldings()).balances.filter((b) => b.account_external_id === a.external_id),
    transactions: async (a: NormAccount, since: string) =>
      (await getTxns(since)).filter((t) => t.account_external_id === a.external_id),
  };
}
