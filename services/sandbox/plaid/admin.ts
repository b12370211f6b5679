/**
 * The Plaid side of the sandbox admin API: set a holding (counted for the next HOLDINGS
 * webhook), fire a webhook, break and repair an item's login. Unknown items and accounts throw
 * {@link AdminError}.
 * @module
 */
// Exact: decimal.js's default precision (20 digits) would round quantities and amounts.
import { Exact as Decimal } from "@meridian/portfolio/exact";
import { AdminError } from "../core.ts";
import { securityFor } from "../demo_data.ts";
import type { DeliveryResult } from "../webhooks.ts";
import { breakLogin, repairLogin } from "./errors.ts";
import type { Item, PlaidStore } from "./state.ts";
import type { PlaidWebhooks } from "./webhooks.ts";

/** Admin hooks into the Plaid imitation; `connection` is an `item_id`. */
export interface PlaidAdmin {
  /** Sets a holding outright (`"0"` removes it); `account` is an account id or number. */
  setHolding(connection: string, symbol: string, quantity: string, account?: string): void;
  /** Sends one webhook now (409 without a webhook URL) and reports the receiver's answer. */
  fireWebhook(connection: string, type: string, code: string): Promise<DeliveryResult>;
  /** Breaks the item's login (ITEM ERROR); its data calls then answer ITEM_LOGIN_REQUIRED. */
  breakConnection(connection: string): void;
  /** Repairs the item's login (ITEM LOGIN_REPAIRED). */
  fixConnection(connection: string): void;
}

/** Builds the admin hooks. */
export function plaidAdmin(deps: { store: PlaidStore; hooks: PlaidWebhooks }): PlaidAdmin {
  const { store, hooks } = deps;

  function adminItem(connection: string): Item {
    const item = store.items.get(connection);
    if (!item) throw new AdminError(404, `no Plaid item ${connection}`);
    return item;
  }

  return {
    setHolding(connection, symbol, quantity, account) {
      const item = adminItem(connection);
      const acct = account
        ? item.accounts.find((a) => a.accountId === account || a.data.number === account)
        : item.accounts[0];
      if (!acct) throw new AdminError(404, `no account ${account} in item ${connection}`);
      const q = new Decimal(quantity);
      const hs = acct.data.holdings;
      const i = hs.findIndex((h) => h.security.ticker.replaceAll(" ", "") === symbol.toUpperCase());
      if (q.isZero()) {
        if (i >= 0) {
          hs.splice(i, 1);
          item.updatedHoldings++;
        }
      } else if (i >= 0) {
        hs[i].units = q.toFixed();
        item.updatedHoldings++;
      } else {
        const sec = securityFor(symbol);
        hs.push({ security: sec, units: q.toFixed(), averageCost: sec.price });
        item.newHoldings++;
      }
    },
    async fireWebhook(connection, type, code) {
      const item = adminItem(connection);
      if (!item.webhook) throw new AdminError(409, `item ${connection} has no webhook URL`);
      return await hooks.sendNow(item, type, code);
    },
    breakConnection(connection) {
      breakLogin(adminItem(connection), hooks);
    },
    fixConnection(connection) {
      repairLogin(adminItem(connection), hooks);
    },
  };
}
