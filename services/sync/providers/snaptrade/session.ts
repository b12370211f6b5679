/**
 * Reading one SnapTrade connection: its accounts (those of its brokerage authorization),
 * positions, balances and activities, through the official SDK.
 * @module
 */
import { obj, str } from "../../normalise/json.ts";
import type {
  NormAccount,
  NormBalance,
  NormPosition,
  NormTransaction,
} from "../../normalise/model.ts";
import type { ProviderSession, SessionOptions } from "../types.ts";
import type { SnaptradeCredentials, SnaptradeProvider } from "./mod.ts";
import {
  snaptradeAccount,
  snaptradeActivity,
  snaptradeBalances,
  snaptradePosition,
} from "./normalise.ts";

/** Page size for activities (SnapTrade's maximum). */
const ACTIVITY_PAGE = 1000;

/** A session over one connection; accounts may trade only when `opts.canTrade`. */
export function snaptradeSession(
  st: SnaptradeProvider,
  creds: SnaptradeCredentials,
  { recorder, canTrade = false }: SessionOptions,
): ProviderSession {
  const { userId, userSecret, authorizationId } = creds;
  const user = { userId, userSecret };
  const api = st.client;
  const call = <T>(op: string, fn: () => Promise<T>) => st.call(op, fn, recorder);
  return {
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
