/**
 * Alpaca's market-data REST (snapshots) and the trading API's clock, through the official SDK's
 * per-API classes. SDK failures become {@link AlpacaRestError}s that carry only the status and
 * Alpaca's message: never request headers, configuration or the secret.
 * @module
 */
import { errors, marketData, trading } from "@alpacahq/alpaca-trade-api";
import type { PriceFeed, SymbolStream } from "@meridian/proto";
import type { Credential, MarketClock, Snapshot } from "../types.ts";
import { decimalString } from "./decimal.ts";

/** Symbols per snapshot request (Alpaca's documented page of symbols). */
export const SNAPSHOT_BATCH = 200;

/** A failed Alpaca REST call: the HTTP status (0 when unreachable) and Alpaca's message. */
export class AlpacaRestError extends Error {
  override name = "AlpacaRestError";
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** Where the REST APIs live and which stock feed snapshots read. */
export interface AlpacaRestOptions {
  /** Market-data REST base, e.g. `https://data.alpaca.markets`. */
  dataUrl: string;
  /** Trading REST base, e.g. `https://api.alpaca.markets`. */
  tradingUrl: string;
  /** The stock feed; `test` reads `iex` (the test feed has no REST). */
  feed: PriceFeed;
}

// The subset of the SDK's trade and bar models a snapshot uses.
interface SdkSnapshot {
  latestTrade?: { p: unknown; s: unknown; t: Date };
  prevDailyBar?: { c: unknown };
}

/** Snapshots and the clock over Alpaca's REST APIs. */
export class AlpacaRest {
  readonly #dataUrl: string;
  readonly #tradingUrl: string;
  readonly #feed: "iex" | "sip" | "delayed_sip";

  constructor(opts: AlpacaRestOptions) {
    this.#dataUrl = opts.dataUrl.replace(/\/+$/, "");
    this.#tradingUrl = opts.tradingUrl.replace(/\/+$/, "");
    this.#feed = opts.feed === "sip" || opts.feed === "delayed_sip" ? opts.feed : "iex";
  }

  /** Latest trade and previous close per symbol, ≤ 200 symbols a request; missing ones absent. */
  async snapshots(
    kind: SymbolStream,
    symbols: readonly string[],
    credential: Credential,
  ): Promise<Map<string, Snapshot>> {
    const out = new Map<string, Snapshot>();
    const unique = [...new Set(symbols)];
    if (unique.length === 0) return out;
    const config = new marketData.Configuration({
      basePath: this.#dataUrl,
      keyId: credential.keyId,
      secret: credential.secret,
    });
    const stocks = new marketData.StockApi(config);
    const crypto = new marketData.CryptoApi(config);
    for (let i = 0; i < unique.length; i += SNAPSHOT_BATCH) {
      const batch = unique.slice(i, i + SNAPSHOT_BATCH).join(",");
      const page: Record<string, SdkSnapshot> = await safely(
        credential,
        async () =>
          kind === "crypto"
            ? (await crypto.cryptoSnapshots({ loc: "us", symbols: batch })).snapshots
            : await stocks.stockSnapshots({ symbols: batch, feed: this.#feed }),
      );
      for (const [symbol, snap] of Object.entries(page ?? {})) {
        const s = toSnapshot(symbol, snap);
        if (s) out.set(symbol, s);
      }
    }
    return out;
  }

  /** The market clock, `GET /v2/clock` on the trading API (an account key). */
  async clock(credential: Credential): Promise<MarketClock> {
    const api = new trading.ClockApi(
      new trading.Configuration({
        basePath: this.#tradingUrl,
        keyId: credential.keyId,
        secret: credential.secret,
      }),
    );
    const c = await safely(credential, () => api.legacyClock());
    return { isOpen: c.isOpen, nextOpen: c.nextOpen, nextClose: c.nextClose, time: c.timestamp };
  }
}

/** The SDK's snapshot as ours, or null when it has no trade. */
function toSnapshot(symbol: string, snap: SdkSnapshot | undefined): Snapshot | null {
  const t = snap?.latestTrade;
  if (!t) return null;
  const time = t.t instanceof Date ? t.t : new Date(String(t.t));
  const close = snap?.prevDailyBar?.c;
  return {
    symbol,
    price: decimalString(t.p),
    size: decimalString(t.s),
    time,
    previousClose: close === undefined || close === null ? null : decimalString(close),
  };
}

/** Runs an SDK call; any failure becomes an {@link AlpacaRestError} without secrets. */
async function safely<T>(credential: Credential, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    throw safeError(e, credential);
  }
}

/** An SDK failure as an {@link AlpacaRestError}: status and Alpaca's message only. */
export function safeError(e: unknown, credential: Credential): AlpacaRestError {
  const scrub = (text: string) =>
    credential.secret ? text.split(credential.secret).join("[redacted]") : text;
  if (e instanceof errors.ApiError) {
    return new AlpacaRestError(e.status, scrub(`Alpaca answered ${e.status}: ${e.message}`));
  }
  if (e instanceof errors.ResponseError) {
    const status = e.response?.status ?? 0;
    return new AlpacaRestError(status, `Alpaca answered ${status}`);
  }
  if (e instanceof errors.FetchError) {
    const cause = e.cause instanceof Error ? e.cause.message : "network error";
    return new AlpacaRestError(0, scrub(`Alpaca is unreachable: ${cause}`));
  }
  const name = e instanceof Error ? e.name : typeof e;
  return new AlpacaRestError(0, `Alpaca call failed (${name})`);
}
