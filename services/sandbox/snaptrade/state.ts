/**
 * The SnapTrade imitation's state: users, connections (SnapTrade's "brokerage authorizations"),
 * their accounts and orders, portal login tokens and trade quotes; saved and restored as
 * {@link SnapTradeState}.
 * @module
 */
import {
  BROKERAGES,
  type DemoAccount,
  type DemoBrokerage,
  type Security,
  snaptradeDemoAccounts,
} from "../demo_data.ts";

/** How long a trade quote from `/trade/impact` can be placed. */
export const TRADE_TTL_MS = 5 * 60_000;
/** How long a portal link from `/snapTrade/login` works. */
export const LOGIN_TTL_MS = 5 * 60_000;
/** How long (sandbox clock) a marketable order stays `ACCEPTED` before it is `EXECUTED`. */
export const FILL_DELAY_MS = 500;
/** SnapTrade's soft limit: one trade per account per this many milliseconds. */
export const TRADE_INTERVAL_MS = 1_000;

/** A registered user and the secret the SDK sends with every user call. */
export interface User {
  userId: string;
  userSecret: string;
  createdAt: number;
}

/** One brokerage connection of a user. */
export interface Authorization {
  id: string;
  userId: string;
  brokerage: DemoBrokerage;
  type: "read" | "trade";
  disabled: boolean;
  disabledAt: number | null;
  createdAt: number;
  updatedAt: number;
  lastRefreshAt: number | null;
  name: string;
}

/** An order: its wire record plus what the order filters and the fill look at. */
export interface Order {
  record: Record<string, unknown>;
  placedAt: number;
  open: boolean;
  executed: boolean;
  /**
   * An accepted marketable order's pending execution: when (sandbox clock) and at which
   * security's price. `null` for an order that rests (a limit away from the market) or is done;
   * absent in state saved before orders executed after a delay.
   */
  fill?: { at: number; security: Security } | null;
}

/** A brokerage account of a connection, with its holdings, cash, activities and orders. */
export interface Account {
  id: string;
  authorizationId: string;
  userId: string;
  createdAt: number;
  data: DemoAccount;
  orders: Order[];
}

/** A portal link handed out by `/snapTrade/login`: single use, for {@link LOGIN_TTL_MS}. */
export interface LoginToken {
  userId: string;
  broker?: string;
  connectionType: "read" | "trade" | "trade-if-available";
  reconnect?: string;
  customRedirect?: string;
  sessionId: string;
  expiresAt: number;
  used: boolean;
}

/** A quote from `/trade/impact`, placeable once within {@link TRADE_TTL_MS}. */
export interface TradeQuote {
  id: string;
  accountId: string;
  userId: string;
  security: Security;
  action: "BUY" | "SELL";
  orderType: string;
  timeInForce: string;
  units: string;
  price: string | null;
  stop: string | null;
  createdAt: number;
  placed: boolean;
}

/**
 * The persisted SnapTrade state: plain JSON, decimals as strings. Rate-limit windows are left
 * out; the webhook URL comes from the configuration.
 */
export interface SnapTradeState {
  users: User[];
  authorizations: (Omit<Authorization, "brokerage"> & { brokerage: string })[];
  accounts: Account[];
  logins: [string, LoginToken][];
  trades: TradeQuote[];
}

/** Everything the SnapTrade imitation keeps, in memory. */
export class SnapTradeStore {
  readonly users = new Map<string, User>();
  readonly auths = new Map<string, Authorization>();
  readonly accounts = new Map<string, Account>();
  /** Portal login tokens by token. */
  readonly logins = new Map<string, LoginToken>();
  readonly trades = new Map<string, TradeQuote>();

  /** Starts empty, or from `saved` (throws if it names an unknown brokerage or connection). */
  constructor(saved?: SnapTradeState) {
    if (!saved) return;
    for (const u of saved.users) this.users.set(u.userId, u);
    for (const a of saved.authorizations) {
      const brokerage = BROKERAGES.find((b) => b.slug === a.brokerage);
      if (!brokerage) throw new Error(`saved SnapTrade state: unknown brokerage ${a.brokerage}`);
      this.auths.set(a.id, { ...a, brokerage });
    }
    for (const a of saved.accounts) {
      if (!this.auths.has(a.authorizationId) || !Array.isArray(a.data.holdings)) {
        throw new Error(`saved SnapTrade state: bad account ${a.id}`);
      }
      this.accounts.set(a.id, a);
    }
    for (const [token, t] of saved.logins) this.logins.set(token, t);
    for (const t of saved.trades) this.trades.set(t.id, t);
  }

  /** The state as plain JSON; a brokerage is saved as its slug. */
  snapshot(): SnapTradeState {
    return {
      users: [...this.users.values()],
      authorizations: [...this.auths.values()].map((a) => ({ ...a, brokerage: a.brokerage.slug })),
      accounts: [...this.accounts.values()],
      logins: [...this.logins],
      trades: [...this.trades.values()],
    };
  }

  /** The accounts of one connection. */
  accountsOf(authId: string): Account[] {
    return [...this.accounts.values()].filter((a) => a.authorizationId === authId);
  }

  /** The connection an account belongs to. */
  authOf(acct: Account): Authorization {
    return this.auths.get(acct.authorizationId)!;
  }

  /** A new connection holding the brokerage's demo accounts. */
  addAuthorization(
    userId: string,
    brokerage: DemoBrokerage,
    type: "read" | "trade",
    now: number,
  ): Authorization {
    const a: Authorization = {
      id: crypto.randomUUID(),
      userId,
      brokerage,
      type,
      disabled: false,
      disabledAt: null,
      createdAt: now,
      updatedAt: now,
      lastRefreshAt: null,
      name: `Connection-${this.auths.size + 1}`,
    };
    this.auths.set(a.id, a);
    for (const data of snaptradeDemoAccounts(brokerage.slug)) {
      const acct: Account = {
        id: crypto.randomUUID(),
        authorizationId: a.id,
        userId,
        createdAt: now,
        data,
        orders: [],
      };
      this.accounts.set(acct.id, acct);
    }
    return a;
  }

  /** Forgets a connection and its accounts. */
  removeAuthorization(a: Authorization): void {
    this.auths.delete(a.id);
    for (const acct of this.accountsOf(a.id)) this.accounts.delete(acct.id);
  }

  /** Re-enables a connection; answers whether it was disabled. */
  enable(a: Authorization, now: number): boolean {
    const wasDisabled = a.disabled;
    a.disabled = false;
    a.disabledAt = null;
    a.updatedAt = now;
    return wasDisabled;
  }
}
