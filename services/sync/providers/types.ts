/**
 * The one interface every provider implements, after Ghostfolio's `DataProviderInterface`: one
 * implementation per provider in `providers/<key>/`, found by its key in the registry
 * (`registry.ts`). Everything that differs between SnapTrade, Plaid and Alpaca is behind it, so
 * nothing outside those folders asks which provider a connection is at.
 * @module
 */
import type { Provider } from "@meridian/proto";
import type { Config } from "@meridian/runtime";
import type { ConnectionInfo } from "../connections/record.ts";
import type { SyncDeps } from "../deps.ts";
import type {
  NormAccount,
  NormBalance,
  NormPosition,
  NormTransaction,
} from "../normalise/model.ts";
import type { SecretRow } from "../secrets.ts";
import type { ConnectionRow } from "../store.ts";
import type { CallRecorder } from "./call.ts";
import type { ProviderConfig } from "./config.ts";
import type {
  BrokerAccount,
  BrokerOrder,
  BrokerPreview,
  OrderIntent,
  PlaceRequest,
  TradableSymbol,
} from "../trading/types.ts";

/** What one connection can be asked. */
export interface ProviderSession {
  /** The connection's accounts. */
  listAccounts(): Promise<NormAccount[]>;
  positions(account: NormAccount): Promise<NormPosition[]>;
  balances(account: NormAccount): Promise<NormBalance[]>;
  /** Transactions on or after `since` (YYYY-MM-DD). */
  transactions(account: NormAccount, since: string): Promise<NormTransaction[]>;
}

/** How a reading session is opened. */
export interface SessionOptions {
  /** Collects the session's calls for the sync_runs row. */
  recorder?: CallRecorder;
  /** The connection may trade: its access and this server allow it. */
  canTrade?: boolean;
}

/** What a provider does that callers would otherwise have to know from its key. */
export interface ProviderCapabilities {
  /**
   * It sends a webhook when account activity changes. Without, a refresh is the only way a
   * person sees new activity, so every sync fetches it.
   */
  readonly activityWebhooks: boolean;
}

/**
 * Trading through a connection's accounts: previewing, placing, settling an unknown outcome,
 * following and cancelling orders. Placing is sent once and never retried here: a failure
 * that leaves the outcome open is an `AmbiguousOutcome`, settled with `find`.
 */
export interface TradingCapability<C = unknown> {
  /**
   * What the order would do: the broker's own impact where it has one (SnapTrade), else an
   * estimate at `lastPrice` against buying power or the units held. Refusals are
   * `BrokerRefusal`s.
   */
  preview(
    credentials: C,
    account: BrokerAccount,
    intent: OrderIntent,
    lastPrice: string | null,
  ): Promise<BrokerPreview>;
  /** Places the order once (Alpaca: `client_order_id` = Meridian's order id). */
  place(credentials: C, account: BrokerAccount, request: PlaceRequest): Promise<BrokerOrder>;
  /**
   * The broker's record of an order Meridian sent (`request`, at or after `sentAt`), or null
   * when the broker has none: how an order whose outcome is unknown is settled.
   */
  find(
    credentials: C,
    account: BrokerAccount,
    request: PlaceRequest,
    sentAt: Date,
  ): Promise<BrokerOrder | null>;
  /** The broker's current record of an order. */
  status(credentials: C, account: BrokerAccount, brokerOrderId: string): Promise<BrokerOrder>;
  /** Asks the broker to cancel; the order's end arrives as a status. */
  cancel(credentials: C, account: BrokerAccount, brokerOrderId: string): Promise<void>;
  /** Symbols the account can trade that match `query` (a ticker's start or a name's part). */
  searchSymbols(credentials: C, account: BrokerAccount, query: string): Promise<TradableSymbol[]>;
  /**
   * Opens the broker's push of order updates for the connection, where it has one (Alpaca's
   * `trade_updates`); brokers without one are polled.
   */
  updates?(credentials: C, handlers: OrderUpdateHandlers): OrderUpdates;
}

/** Where a broker's pushed order updates go. */
export interface OrderUpdateHandlers {
  /** An order changed; `client_order_id` is Meridian's order id for orders Meridian placed. */
  onUpdate(order: BrokerOrder & { client_order_id: string | null }): void;
  /** The push ended (refused, dropped or closed); it is not reopened by itself. */
  onClose(reason: string): void;
}

/** An open push of order updates. */
export interface OrderUpdates {
  /** Resolves once the broker listens (or the push ended). */
  ready: Promise<void>;
  close(): void;
}

/** API keys a person entered for a provider that connects with them. */
export interface ApiKeys {
  keyId: string;
  secret: string;
  paper: boolean;
}

/** What repairing a connection may use. */
export interface ReconnectInput {
  /**
   * Where `provider`'s pages send the person back: the api's callback for that provider,
   * naming the connection being repaired.
   */
  callbackUrl(provider: Provider): string;
  /** The relay's public address, where providers send a repaired connection's webhooks. */
  relayUrl?: string;
  /** New keys, for a provider whose connections are repaired with them. */
  keys?: ApiKeys;
}

/** The next step of repairing a connection. */
export type ReconnectStep =
  /** Send the person to `url` (or open Plaid Link with `link_token`); the callback completes it. */
  | { kind: "redirect"; url: string | null; link_token: string | null }
  /** Repaired at once with the keys given. */
  | { kind: "repaired"; connection: ConnectionInfo }
  /** The provider needs new API keys; `message` asks for them. */
  | { kind: "needs_keys"; message: string };

/** One line of `deno task doctor`'s report. */
export interface Check {
  provider: Provider | "general";
  check: string;
  ok: boolean | null;
  detail: string;
}

/** A provider's part of `deno task doctor`. It shows keys by fingerprint, never a secret. */
export interface ProviderDoctor {
  /** Offline: which keys (sandbox defaults or not), which environment, which base URL. */
  configuration(config: Config): Promise<Check[]>;
  /** An address whose Date header tells the provider's clock. */
  clockUrl(): string;
  /** One signed call answering "are the keys accepted?". */
  signedCall(config: Config, recorder: CallRecorder): Promise<Check>;
}

/**
 * A provider. `C` is its decrypted credentials, which only its own methods read: a
 * connection's credentials come from {@link credentials} and go to {@link session} of the same
 * provider. Connecting starts and completes differently at each provider (a portal, Hosted
 * Link, API keys), so `Start`, `Started` and `Complete` are its own; repairing and removing a
 * connection are the same everywhere.
 */
export interface BrokerageProvider<
  C = unknown,
  Start = unknown,
  Started = unknown,
  Complete = unknown,
> {
  /** The provider's key: `connections.provider`, subjects, metrics. */
  readonly key: Provider;
  readonly capabilities: ProviderCapabilities;
  /** Trading through its connections; absent where the provider cannot trade (Plaid). */
  readonly trading?: TradingCapability<C>;
  readonly doctor: ProviderDoctor;

  /** Why this server does not sync its connections (a feature flag is off), or null. */
  syncDisabled(config: ProviderConfig): string | null;
  /** Whether this server lets its connections with trade access trade. */
  tradeAccess(config: ProviderConfig): boolean;
  /** What to tell the person whose credentials for `institution` stopped working. */
  authFailureReason(institution: string): string;

  /** Decrypts one connection's credentials (never logged). */
  credentials(deps: Pick<SyncDeps, "sql" | "keyring">, conn: SecretRow): Promise<C>;
  /** Reads one connection: every call limited, timed and recorded (`providerCall`). */
  session(credentials: C, opts?: SessionOptions): ProviderSession;

  /**
   * Starts connecting: where the person goes (SnapTrade's portal, Plaid's Hosted Link). Absent
   * where there is no provider page (Alpaca: the person enters API keys).
   */
  start?(deps: SyncDeps, userId: string, input: Start): Promise<Started>;
  /**
   * Completes connecting: verifies what the person brought back (an authorization, a Link
   * session, API keys) with the provider, records the connection and requests its first sync.
   */
  complete(deps: SyncDeps, userId: string, input: Complete): Promise<ConnectionInfo>;
  /** Starts repairing a broken connection. */
  reconnect(deps: SyncDeps, conn: ConnectionRow, input: ReconnectInput): Promise<ReconnectStep>;
  /** Removes the connection at the provider (authorization, item), where it has one there. */
  removeAtProvider(deps: SyncDeps, conn: ConnectionRow): Promise<void>;
  /**
   * Demo mode (sandbox only): connects the sandbox's demo account through the real flow,
   * the provider's pages sending the browser to `redirectUrl`; the new connection's id.
   */
  connectDemo(deps: SyncDeps, userId: string, redirectUrl: string): Promise<string>;
}
