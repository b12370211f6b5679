/**
 * The market-data provider contract of the prices service, modelled on Ghostfolio's
 * DataProviderInterface: one interface, one implementation per provider (`alpaca/`). A provider
 * streams trades over one connection per credential and kind, reads snapshots and the market
 * clock over REST, and historical daily closes ({@link HistoricalPrices}). Prices and sizes are
 * exact decimal strings.
 * @module
 */
import type { PriceFeed, SymbolStream } from "@meridian/proto";

/** A key pair. The secret is never logged and never put in an Error message. */
export interface Credential {
  keyId: string;
  secret: string;
}

/** One trade from the stream. */
export interface Trade {
  symbol: string;
  /** Decimal string, never exponent notation. */
  price: string;
  /** Decimal string. */
  size: string;
  /** Exchange time. */
  time: Date;
}

/** The latest trade of a symbol and its previous close, read over REST. */
export interface Snapshot {
  symbol: string;
  price: string;
  size: string;
  time: Date;
  /** The previous session's close, or null when the provider has none. */
  previousClose: string | null;
}

/** The US equity market clock. */
export interface MarketClock {
  isOpen: boolean;
  nextOpen: Date;
  nextClose: Date;
  time: Date;
}

/** Where a stream stands. */
export type StreamState =
  | "connecting"
  | "authenticating"
  | "streaming"
  | "backoff"
  | "rejected"
  | "closed";

/** A stream's state with, when useful, why it is in it. */
export interface StreamStatus {
  state: StreamState;
  /** For rejected/backoff: a sentence a self-hoster can act on, never containing the secret. */
  reason?: string;
}

/** Callbacks of a stream. */
export interface StreamEvents {
  /** Every trade of a subscribed symbol. */
  onTrade(trade: Trade): void;
  /** Every state change. */
  onStatus?(status: StreamStatus): void;
  /** Symbols the server refused (405 symbol limit). */
  onRefused?(symbols: string[]): void;
}

/** A live trade stream that reconnects by itself until closed. */
export interface MarketStream {
  /**
   * The symbols wanted; the stream subscribes and unsubscribes the difference (trades channel
   * only), and resubscribes all after a reconnect.
   */
  setSymbols(symbols: Iterable<string>): void;
  /** Symbols the server's last subscription acknowledgement listed. */
  subscribed(): ReadonlySet<string>;
  /** Symbols refused with 405 (not retried until setSymbols no longer wants them). */
  refused(): ReadonlySet<string>;
  /** The current state. */
  status(): StreamStatus;
  /** Connections re-established after a failure, since the stream was opened. */
  readonly reconnects: number;
  /** Closes the connection and stops reconnecting. */
  close(): Promise<void>;
}

/** A market-data provider (Alpaca). */
export interface MarketDataProvider {
  /** The provider's key, e.g. "alpaca". */
  readonly name: string;
  /** The stock feed from configuration: iex | sip | delayed_sip | test. */
  readonly feed: PriceFeed;
  /** True for delayed_sip. */
  readonly delayed: boolean;
  /** Symbols one stock connection may hold: 30 for iex and test (free plan), null for sip. */
  readonly stockCapacity: number | null;
  /** Opens a stream of `kind` with `credential`; it connects in the background. */
  openStream(kind: SymbolStream, credential: Credential, events: StreamEvents): MarketStream;
  /** Latest trades (batched, ≤ 200 symbols a request); symbols the provider lacks are absent. */
  snapshots(
    kind: SymbolStream,
    symbols: readonly string[],
    credential: Credential,
  ): Promise<Map<string, Snapshot>>;
  /** The market clock (a trading API call: needs an account key). */
  clock(credential: Credential): Promise<MarketClock>;
}

/**
 * Historical daily closes, for rebuilding past values. Symbols are in the market-data convention
 * (`AAPL`, `BRK.B`, `BTC/USD`, compact OCC option symbols such as `AAPL270115C00250000`); a day
 * is `YYYY-MM-DD` in New York.
 */
export interface HistoricalPrices {
  /**
   * The close of each symbol on each of its sessions from `from` to `to` (both included):
   * symbol → day → close (a decimal string, never exponent notation), days ascending. Days
   * without a session and symbols the provider has no bars for are absent. Rejects with a
   * RangeError for a malformed day or `from` after `to`, and with an error naming the
   * provider's status (never a secret) when the provider fails after its retries.
   */
  dailyCloses(
    symbols: string[],
    from: string,
    to: string,
  ): Promise<Map<string, Map<string, string>>>;
}
