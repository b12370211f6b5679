/**
 * The SnapTrade side of the sandbox admin API: set a holding, fire a webhook, break and fix a
 * connection, move the webhook URL. Unknown connections and accounts throw {@link AdminError}.
 * @module
 */
// Exact: decimal.js's default precision (20 digits) would round quantities and amounts.
import { Exact as Decimal } from "@meridian/portfolio/exact";
import { AdminError, type SandboxCore } from "../core.ts";
import { securityFor } from "../demo_data.ts";
import type { DeliveryResult } from "../webhooks.ts";
import type { Account, Authorization, SnapTradeStore } from "./state.ts";
import { accountFields, connectionFields, type SnapTradeWebhooks } from "./webhooks.ts";

/** Admin hooks into the SnapTrade imitation; `connection` is an authorization id. */
export interface SnapTradeAdmin {
  /** Sets a holding outright (`"0"` removes it); `account` is an account id or number. */
  setHolding(connection: string, symbol: string, quantity: string, account?: string): void;
  /** Sends one event now (409 without a webhook URL) and reports the receiver's answer. */
  fireWebhook(eventType: string, connection: string, account?: string): Promise<DeliveryResult>;
  /** Disables the connection (CONNECTION_BROKEN); its data calls then answer 402. */
  breakConnection(connection: string): void;
  /** Re-enables the connection (CONNECTION_FIXED). */
  fixConnection(connection: string): void;
  /** Changes where webhooks go (SnapTrade's dashboard setting); `null` stops them. */
  setWebhookUrl(url: string | null): void;
}

/** Builds the admin hooks. */
export function snapTradeAdmin(
  deps: { core: SandboxCore; store: SnapTradeStore; hooks: SnapTradeWebhooks },
): SnapTradeAdmin {
  const { core, store, hooks } = deps;

  function adminAuth(connection: string): Authorization {
    const a = store.auths.get(connection);
    if (!a) throw new AdminError(404, `no SnapTrade authorization ${connection}`);
    return a;
  }

  function adminAccount(a: Authorization, account?: string): Account {
    const list = store.accountsOf(a.id);
    const acct = account
      ? list.find((x) => x.id === account || x.data.number === account)
      : list[0];
    if (!acct) throw new AdminError(404, `no account ${account ?? ""} in authorization ${a.id}`);
    return acct;
  }

  return {
    setHolding(connection, symbol, quantity, account) {
      const acct = adminAccount(adminAuth(connection), account);
      const q = new Decimal(quantity);
      const hs = acct.data.holdings;
      const i = hs.findIndex((h) =>
        h.security.ticker.trim() === symbol.toUpperCase() || h.security.ticker === symbol
      );
      if (q.isZero()) {
        if (i >= 0) hs.splice(i, 1);
      } else if (i >= 0) hs[i].units = q.toFixed();
      else {
        const sec = securityFor(symbol);
        hs.push({ security: sec, units: q.toFixed(), averageCost: sec.price });
      }
    },
    async fireWebhook(eventType, connection, account) {
      if (!hooks.url) throw new AdminError(409, "no SnapTrade webhook URL configured");
      const a = adminAuth(connection);
      const extra = eventType.startsWith("USER_")
        ? {}
        : eventType.startsWith("ACCOUNT_") || eventType.startsWith("TRADE_") ||
            eventType === "NEW_ACCOUNT_AVAILABLE"
        ? accountFields(a, adminAccount(a, account), eventType)
        : connectionFields(a);
      return await hooks.deliver(eventType, a.userId, extra);
    },
    breakConnection(connection) {
      const a = adminAuth(connection);
      if (a.disabled) return;
      a.disabled = true;
      a.disabledAt = core.now();
      a.updatedAt = core.now();
      hooks.emit("CONNECTION_BROKEN", a.userId, connectionFields(a));
    },
    fixConnection(connection) {
      const a = adminAuth(connection);
      if (!a.disabled) return;
      store.enable(a, core.now());
      hooks.emit("CONNECTION_FIXED", a.userId, connectionFields(a));
    },
    setWebhookUrl(url) {
      hooks.url = url ?? undefined;
    },
  };
}
