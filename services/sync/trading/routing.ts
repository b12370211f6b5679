/**
 * Order routing: which of a person's accounts can execute an order, best first, and why each
 * other one cannot. Pure. The account that holds the symbol comes first (for a sell it must
 * hold enough); the person's explicit choice wins when it is eligible.
 * @module
 */
import { Exact as Decimal } from "@meridian/portfolio/exact";

/** What routing reads of an account. */
export interface RoutableAccount {
  id: string;
  name: string;
  provider: string;
  /** The provider has a trading implementation. */
  providerTrades: boolean;
  /** This server lets the provider's trade connections trade (its feature flag). */
  tradingEnabled: boolean;
  /** The connection was made with trade access. */
  tradeAccess: boolean;
  connectionActive: boolean;
  /** The brokerage reported the account as able to trade. */
  canTrade: boolean;
  open: boolean;
  /** Units of the symbol held, "0" when none. */
  held: string;
}

/** An account that cannot take the order, and why (a sentence for the person). */
export interface Ineligible {
  account_id: string;
  reason: string;
}

/** The routing of one order. */
export interface Route {
  /** Eligible accounts, best first. */
  eligible: RoutableAccount[];
  ineligible: Ineligible[];
}

/** Why `a` cannot trade at all, or null. */
function cannotTrade(a: RoutableAccount): string | null {
  if (!a.providerTrades) return `${a.name}: this provider cannot place trades.`;
  if (!a.tradeAccess) return `${a.name}: the connection is read-only.`;
  if (!a.tradingEnabled) {
    return `${a.name}: trading through this provider is turned off on this server.`;
  }
  if (!a.connectionActive) return `${a.name}: the connection needs to be repaired first.`;
  if (!a.open) return `${a.name}: the account is closed.`;
  if (!a.canTrade) return `${a.name}: the brokerage does not allow trading in this account.`;
  return null;
}

/**
 * Routes an order for `side` of `quantity` units (null for a notional order) among `accounts`.
 * `chosen` (an account id) narrows it to that account when given.
 */
export function routeOrder(
  accounts: RoutableAccount[],
  side: "buy" | "sell",
  quantity: string | null,
  chosen?: string,
): Route {
  const eligible: RoutableAccount[] = [];
  const ineligible: Ineligible[] = [];
  for (const a of accounts) {
    if (chosen !== undefined && a.id !== chosen) continue;
    const why = cannotTrade(a);
    if (why) {
      ineligible.push({ account_id: a.id, reason: why });
      continue;
    }
    const held = new Decimal(a.held);
    if (side === "sell" && held.lte(0)) {
      ineligible.push({ account_id: a.id, reason: `${a.name}: the symbol is not held there.` });
      continue;
    }
    if (side === "sell" && quantity !== null && held.lt(quantity)) {
      ineligible.push({
        account_id: a.id,
        reason: `${a.name}: it holds ${held.toFixed()}, fewer than the ${quantity} to sell.`,
      });
      continue;
    }
    eligible.push(a);
  }
  // Holders first (most held first), then by name: a stable order a person can follow.
  eligible.sort((x, y) => new Decimal(y.held).cmp(x.held) || x.name.localeCompare(y.name));
  return { eligible, ineligible };
}
