/**
 * The zod schema of every message that travels over NATS. Money and quantities are
 * decimal strings; times are ISO-8601 UTC strings.
 * @module
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import { TRANSACTION_TYPES } from "./transaction_types.ts";
import { PROVIDERS } from "./subjects.ts";
import { ORDER_STATES } from "./order_states.ts";
import { CurrencyCode, Decimal, Id, MarketSymbol, PortfolioValue, Timestamp } from "./value.ts";

export { quoteCurrency } from "./quote_currency.ts";
// The scalars and the portfolio value message live apart, free of node:crypto, so the
// dashboard can bundle them (`@meridian/proto/value`).
export * from "./value.ts";
export { isFinalOrderState, ORDER_STAGE, ORDER_STATES } from "./order_states.ts";

/** A provider name. */
export const ProviderName = z.enum(PROVIDERS);

/** Security types Meridian distinguishes. */
export const SECURITY_TYPES = [
  "equity",
  "etf",
  "mutual_fund",
  "bond",
  "option",
  "crypto",
  "cash",
  "cash_equivalent",
  "other",
] as const;
export const SecurityType = z.enum(SECURITY_TYPES);
export type SecurityType = z.infer<typeof SecurityType>;

export { TRANSACTION_TYPES };
export const TransactionType = z.enum(TRANSACTION_TYPES);

/**
 * A webhook's event id as stored and forwarded: the relay's outbox key, the `Nats-Msg-Id` and
 * ingress's `UNIQUE(provider, event_id)`. Either a provider id that is 1–128 printable ASCII
 * characters without spaces and does not start with `~`, or `~` and a hex SHA-256 (see
 * {@link webhookEventId}). NATS headers mangle control characters and PostgreSQL text refuses
 * NUL, so an unrestricted id could be acknowledged and then lost or never recorded.
 */
export const WebhookEventId = z.string().regex(
  /^(?:[\x21-\x7d][\x21-\x7e]{0,127}|~[0-9a-f]{64})$/,
  "expected 1-128 printable ASCII characters, or ~ and a SHA-256",
);

/**
 * The one rule that turns a provider's event id into a {@link WebhookEventId}: an id that is
 * already one is kept; any other becomes `~` and the SHA-256 of its JSON string form (which
 * keeps control characters and lone surrogates distinct), so distinct provider ids never
 * share a key and redeliveries of one id always get the same key. Idempotent.
 */
export function webhookEventId(providerId: string): string {
  if (WebhookEventId.safeParse(providerId).success) return providerId;
  return "~" + createHash("sha256").update(JSON.stringify(providerId), "utf8").digest("hex");
}

/** The providers that send webhooks (Alpaca has none). */
export const WEBHOOK_PROVIDERS = ["snaptrade", "plaid"] as const;
export const WebhookProviderName = z.enum(WEBHOOK_PROVIDERS);
export type WebhookProvider = z.infer<typeof WebhookProviderName>;

/** `webhooks.<provider>`: a webhook the relay verified, with its raw body. */
export const WebhookEnvelope = z.object({
  provider: WebhookProviderName,
  event_id: WebhookEventId,
  received_at: Timestamp,
  /** The request body as received (UTF-8 JSON text), less SnapTrade's deprecated `webhookSecret`. */
  body: z.string(),
});
export type WebhookEnvelope = z.infer<typeof WebhookEnvelope>;

/** Why a sync was requested. */
export const SYNC_REASONS = ["manual", "webhook", "initial", "stale", "auto"] as const;

/** `sync.request.<provider>.<userId>`: connections to refresh. */
export const SyncRequest = z.object({
  request_id: Id,
  user_id: Id,
  provider: ProviderName,
  /** The connections to refresh; every one belongs to `user_id` and `provider`. */
  connection_ids: z.array(Id).min(1),
  reason: z.enum(SYNC_REASONS),
  requested_at: Timestamp,
});
export type SyncRequest = z.infer<typeof SyncRequest>;

/** `sync.progress.<userId>`: progress and outcome of one connection's sync. */
export const SyncProgress = z.object({
  user_id: Id,
  request_id: Id,
  sync_run_id: Id.nullable(),
  connection_id: Id,
  provider: ProviderName,
  phase: z.enum(["queued", "started", "succeeded", "failed", "skipped"]),
  /** A message a person can act on, when the phase is `failed` or `skipped`. */
  detail: z.string().max(500).optional(),
  at: Timestamp,
});
export type SyncProgress = z.infer<typeof SyncProgress>;

/** Instrument kinds of the security master (`instruments.kind`). */
export const INSTRUMENT_KINDS = [
  "equity",
  "etf",
  "fund",
  "option",
  "crypto",
  "bond",
  "cash_equivalent",
  "other",
] as const;
export const InstrumentKind = z.enum(INSTRUMENT_KINDS);
export type InstrumentKind = z.infer<typeof InstrumentKind>;

/** One position as valuation and symbols need it. */
export const HeldPosition = z.object({
  /** The provider's symbol, as the provider spells it. */
  symbol: z.string().min(1).max(64),
  quantity: Decimal,
  /** Last price known from the provider, in `currency`. */
  price: Decimal.nullable(),
  currency: z.string().length(3),
  security_type: SecurityType,
  /** The security master's instrument, or null when it could not be resolved (then the
   * provider's price stands). Absent on messages written before instruments existed. */
  instrument: z.object({ id: Id, symbol: MarketSymbol, kind: InstrumentKind }).nullable()
    .default(null),
});
export type HeldPosition = z.infer<typeof HeldPosition>;

/** `holdings.changed.<userId>`: the user's positions per account after a sync. */
export const HoldingsChanged = z.object({
  user_id: Id,
  /** Monotonic per user, so consumers can ignore stale messages. */
  version: z.number().int().nonnegative(),
  synced_at: Timestamp,
  accounts: z.array(z.object({
    account_id: Id,
    connection_id: Id,
    provider: ProviderName,
    currency: z.string().length(3),
    /** Cash balance in `currency`. */
    cash: Decimal,
    positions: z.array(HeldPosition),
  })),
});
export type HoldingsChanged = z.infer<typeof HoldingsChanged>;

/** Where a price came from: a stream feed (`iex`, `sip`, `delayed_sip`, `test`, `crypto`). */
export const PriceFeed = z.enum(["iex", "sip", "delayed_sip", "test", "crypto"]);
export type PriceFeed = z.infer<typeof PriceFeed>;

/**
 * `prices.<SYMBOL>`: one trade from a stream, or the latest trade of a polled snapshot. `delayed`
 * is true when the price is not real time: polled (up to `PRICES_POLL_S` old) or from a delayed
 * feed.
 */
export const PriceTick = z.object({
  symbol: MarketSymbol,
  price: Decimal,
  size: Decimal,
  /** When the trade happened at the exchange. */
  time: Timestamp,
  feed: PriceFeed,
  delayed: z.boolean(),
});
export type PriceTick = z.infer<typeof PriceTick>;

/**
 * A tick as the JSON `JSON.stringify` would write, built directly: the price stream encodes one
 * per trade, and this is several times faster. `symbolJson` is `JSON.stringify(tick.symbol)`,
 * which the caller computes once per symbol. The fields' text needs no escaping: decimals,
 * ISO times and the feed names are plain ASCII.
 */
export function priceTickJson(tick: PriceTick, symbolJson: string): string {
  return `{"symbol":${symbolJson},"price":"${tick.price}","size":"${tick.size}","time":"${tick.time}","feed":"${tick.feed}","delayed":${tick.delayed}}`;
}

const FAST_DECIMAL = /^-?\d+(\.\d+)?$/;
const FAST_SYMBOL = /^[A-Z0-9][A-Z0-9./]{0,63}$/;
const FAST_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;
const FEEDS: ReadonlySet<string> = new Set(PriceFeed.options);
const tickDecoder = new TextDecoder("utf-8", { fatal: true });

/**
 * Decodes a `prices.<SYMBOL>` message, or returns null when it is not a {@link PriceTick}.
 * Every consumer of the price stream reads tens of thousands a second, so the common shape
 * (what {@link priceTickJson} writes) is checked directly; anything else goes through the
 * schema, so the result is exactly what `PriceTick` accepts.
 */
export function decodePriceTick(data: Uint8Array): PriceTick | null {
  let json: unknown;
  try {
    json = JSON.parse(tickDecoder.decode(data));
  } catch {
    return null;
  }
  const t = json as Record<string, unknown>;
  if (
    typeof t === "object" && t !== null && Object.keys(t).length === 6 &&
    typeof t.symbol === "string" && FAST_SYMBOL.test(t.symbol) &&
    typeof t.price === "string" && FAST_DECIMAL.test(t.price) &&
    typeof t.size === "string" && FAST_DECIMAL.test(t.size) &&
    typeof t.time === "string" && FAST_TIME.test(t.time) && !Number.isNaN(Date.parse(t.time)) &&
    typeof t.feed === "string" && FEEDS.has(t.feed) && typeof t.delayed === "boolean"
  ) return t as PriceTick;
  const r = PriceTick.safeParse(json);
  return r.success ? r.data : null;
}

/** KV `last_prices`: a symbol's last price and the previous session's close. */
export const LastPrice = z.object({
  symbol: MarketSymbol,
  price: Decimal,
  /** The previous session's close, when the provider gave one. */
  previous_close: Decimal.nullable(),
  time: Timestamp,
  feed: PriceFeed,
  delayed: z.boolean(),
});
export type LastPrice = z.infer<typeof LastPrice>;

/** Which stream a symbol needs: stocks (capped per connection on some plans) or crypto. */
export const SymbolStream = z.enum(["stocks", "crypto"]);
export type SymbolStream = z.infer<typeof SymbolStream>;

/**
 * KV `symbol_assignments`, key `shard.<id>` or `poller`: the symbols one shard streams (or the
 * poller fetches), written by the `symbols` leader and watched by `prices`.
 */
export const SymbolAssignment = z.object({
  /** The shard id, or `poller`. */
  target: z.string().min(1).max(64),
  stocks: z.array(MarketSymbol),
  crypto: z.array(MarketSymbol),
  /** The `symbols` instance that wrote it. */
  leader: z.string().min(1).max(64),
  updated_at: Timestamp,
});
export type SymbolAssignment = z.infer<typeof SymbolAssignment>;

/** KV `leases`: who holds a lease, renewed by its holder; `info` says what the holder offers. */
export const LeaseRecord = z.object({
  holder: z.string().min(1).max(64),
  acquired_at: Timestamp,
  renewed_at: Timestamp,
  info: z.record(z.string(), z.unknown()).default({}),
});
export type LeaseRecord = z.infer<typeof LeaseRecord>;

/** The `info` of a price shard's lease: what the shard can stream. */
export const ShardInfo = z.object({
  feed: PriceFeed,
  /** Stock symbols one connection may stream; null when the plan has no cap (SIP). */
  stock_capacity: z.number().int().positive().nullable(),
  /**
   * False once the provider refused the shard's credential (402 auth failed, 409 insufficient
   * subscription): its symbols then move elsewhere. A shard that is (re)connecting stays true.
   */
  streaming: z.boolean(),
});
export type ShardInfo = z.infer<typeof ShardInfo>;

/** `market.status` and KV `market_status`: whether a market is open, from the provider's clock. */
export const MarketStatus = z.object({
  market: z.literal("us_equity"),
  is_open: z.boolean(),
  next_open: Timestamp,
  next_close: Timestamp,
  time: Timestamp,
});
export type MarketStatus = z.infer<typeof MarketStatus>;

/** `users.settings.<userId>`: a user changed their settings. */
export const UserSettingsChanged = z.object({
  user_id: Id,
  base_currency: CurrencyCode,
  at: Timestamp,
});
export type UserSettingsChanged = z.infer<typeof UserSettingsChanged>;

/** `portfolio.pending.<userId>`: connections with updates waiting for a refresh. */
export const PortfolioPending = z.object({
  user_id: Id,
  at: Timestamp,
  connections: z.array(z.object({
    connection_id: Id,
    provider: ProviderName,
    since: Timestamp,
  })),
});
export type PortfolioPending = z.infer<typeof PortfolioPending>;

/** Order states Meridian tracks, normalised across providers (`order_states.ts`). */
export const OrderState = z.enum(ORDER_STATES);
export type OrderState = z.infer<typeof OrderState>;

/** `orders.<userId>`: one order lifecycle event. */
export const OrderEvent = z.object({
  event_id: z.string().min(1).max(256),
  user_id: Id,
  order_id: Id.nullable(),
  account_id: Id.nullable(),
  provider: ProviderName,
  broker_order_id: z.string().nullable(),
  client_order_id: z.string().nullable(),
  state: OrderState,
  symbol: z.string().nullable(),
  filled_quantity: Decimal.nullable(),
  average_price: Decimal.nullable(),
  at: Timestamp,
});
export type OrderEvent = z.infer<typeof OrderEvent>;

/** Every message schema, by name, for JSON Schema export. */
export const messageSchemas = {
  WebhookEnvelope,
  SyncRequest,
  SyncProgress,
  HoldingsChanged,
  PriceTick,
  LastPrice,
  SymbolAssignment,
  LeaseRecord,
  ShardInfo,
  MarketStatus,
  PortfolioValue,
  UserSettingsChanged,
  PortfolioPending,
  OrderEvent,
} as const;
