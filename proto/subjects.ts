/**
 * Every NATS subject Meridian uses, as builders. No other module spells a subject string.
 * @module
 */

/** Providers Meridian connects to. */
export const PROVIDERS = ["snaptrade", "plaid", "alpaca"] as const;
/** One of {@link PROVIDERS}. */
export type Provider = typeof PROVIDERS[number];

/**
 * Encodes a value so it is one valid NATS subject token. Ticker symbols such as `BRK.B`
 * contain dots, which would otherwise split the token.
 */
export function encodeToken(value: string): string {
  if (value.length === 0) throw new Error("a subject token cannot be empty");
  return value.replace(
    /[%.*> \t\r\n]/g,
    (ch) => "%" + ch.charCodeAt(0).toString(16).padStart(2, "0").toUpperCase(),
  );
}

/** Reverses {@link encodeToken}. */
export function decodeToken(token: string): string {
  return token.replace(
    /%([0-9A-F]{2})/g,
    (_, hex: string) => String.fromCharCode(parseInt(hex, 16)),
  );
}

const PORTFOLIO_VALUE = "portfolio.value";

/** Subject builders; each returns a concrete subject, or a wildcard when named so. */
export const subjects = {
  /** JetStream WEBHOOKS: a verified raw webhook from one provider. */
  webhook: (provider: Provider) => `webhooks.${provider}`,
  webhookAll: "webhooks.>",
  /** JetStream WEBHOOKS_DLQ: a webhook that failed processing too many times. */
  webhookDead: (provider: Provider) => `deadletter.webhooks.${provider}`,
  webhookDeadAll: "deadletter.webhooks.>",
  /** JetStream SYNC (work queue): refresh request for a user's connections of one provider. */
  syncRequest: (provider: Provider, userId: string) =>
    `sync.request.${provider}.${encodeToken(userId)}`,
  syncRequestAll: "sync.request.>",
  /** Core: sync progress and outcome events for one user. */
  syncProgress: (userId: string) => `sync.progress.${encodeToken(userId)}`,
  syncProgressAll: "sync.progress.*",
  /** JetStream HOLDINGS: a user's positions changed. */
  holdingsChanged: (userId: string) => `holdings.changed.${encodeToken(userId)}`,
  holdingsChangedAll: "holdings.changed.*",
  /** Core: one trade (streamed) or snapshot (polled) price of one market-data symbol. */
  price: (symbol: string) => `prices.${encodeToken(symbol)}`,
  priceAll: "prices.*",
  /** Core (last value also in KV `market_status`): whether the US equity market is open. */
  marketStatus: "market.status",
  /**
   * Core, published by the server for each value stored in KV `portfolio_values` (the
   * bucket's republish to `<prefix>.<key>`; a user id, a UUID, is the same token in both).
   */
  portfolioValue: (userId: string) => `${PORTFOLIO_VALUE}.${encodeToken(userId)}`,
  portfolioValueAll: `${PORTFOLIO_VALUE}.*`,
  portfolioValuePrefix: PORTFOLIO_VALUE,
  /** Core: which connections of a user have pending updates. */
  portfolioPending: (userId: string) => `portfolio.pending.${encodeToken(userId)}`,
  portfolioPendingAll: "portfolio.pending.*",
  /** Core: a user's settings changed (their base currency), for whoever values them. */
  userSettings: (userId: string) => `users.settings.${encodeToken(userId)}`,
  userSettingsAll: "users.settings.*",
  /** JetStream ORDERS: order lifecycle events of one user. */
  orders: (userId: string) => `orders.${encodeToken(userId)}`,
  ordersAll: "orders.*",
} as const;

/**
 * Encodes a value so it is one valid KV key token (`[-_/=A-Za-z0-9]`): any other character,
 * the `.` that would split the key included, becomes `=` and two hex digits.
 */
export function encodeKvToken(value: string): string {
  if (value.length === 0) throw new Error("a KV key token cannot be empty");
  return Array.from(new TextEncoder().encode(value), (b) => {
    const ch = String.fromCharCode(b);
    return /[-_/A-Za-z0-9]/.test(ch) ? ch : "=" + b.toString(16).padStart(2, "0").toUpperCase();
  }).join("");
}

/** Reverses {@link encodeKvToken}. */
export function decodeKvToken(token: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < token.length; i++) {
    if (token[i] === "=") {
      bytes.push(parseInt(token.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(token.charCodeAt(i));
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}

/** KV keys, by bucket. No other module spells a key. */
export const kvKeys = {
  /** `last_prices`: one market-data symbol's {@link LastPrice}. */
  lastPrice: (symbol: string) => encodeKvToken(symbol),
  /** `symbol_assignments`: the symbols one price shard streams. */
  shardAssignment: (shard: string) => `shard.${encodeKvToken(shard)}`,
  shardAssignmentAll: "shard.>",
  /** `symbol_assignments`: the symbols the snapshot poller fetches. */
  pollerAssignment: "poller",
  /** `leases`: the `symbols` leader. */
  symbolsLeader: "symbols.leader",
  /** `leases`: the instance streaming with one market-data credential (a shard). */
  shardLease: (shard: string) => `prices.shard.${encodeKvToken(shard)}`,
  shardLeasePrefix: "prices.shard.",
  /** `leases`: the `prices` instance that runs the snapshot poller and reads the clock. */
  pollerLease: "prices.poller",
  /** `market_status`: the US equity market. */
  usEquityMarket: "us_equity",
  /** `portfolio_values`: one user's last `PortfolioValue`. */
  portfolioValue: (userId: string) => encodeKvToken(userId),
  /** `leases`: one running `valuation` instance; users are spread over the live ones. */
  valuationMember: (instance: string) => `valuation.member.${encodeKvToken(instance)}`,
  valuationMemberAll: "valuation.member.>",
} as const;

/** The last token of a subject, decoded (the user id or symbol of per-entity subjects). */
export function lastToken(subject: string): string {
  return decodeToken(subject.slice(subject.lastIndexOf(".") + 1));
}
