/**
 * Alpaca as {@link HistoricalPrices}: daily closes from its market-data bars
 * (`/v2/stocks/bars`, `/v1beta3/crypto/us/bars`, `/v1beta1/options/bars`) through the official
 * SDK. Symbols are routed by their form, sent in batches, and every page is followed
 * (`next_page_token`); one SDK configuration per key keeps Alpaca's data limit client-side (a
 * token bucket) and retries 408/425/429/5xx and network failures with exponential backoff,
 * honouring `Retry-After`. Closes are raw (not split-adjusted): a past value is the quantity held
 * then times the price then. Failures become {@link AlpacaRestError}s without the secret.
 * @module
 */
import { marketData } from "@alpacahq/alpaca-trade-api";
import { z } from "zod";
import type { PriceFeed } from "@meridian/proto";
import type { Logger } from "@meridian/runtime";
import type { Credential, HistoricalPrices } from "../types.ts";
import { decimalString } from "./decimal.ts";
import { AlpacaRestError, safeError } from "./rest.ts";

/** Symbols per bars request (the options endpoint takes at most 100). */
export const BARS_BATCH = 100;
/** Bars per page: Alpaca's maximum. */
export const BARS_PAGE_LIMIT = 10_000;
/** Market-data requests per minute per key on Alpaca's free (Basic) plan. */
export const DATA_REQUESTS_PER_MINUTE = 200;

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const DAY_MS = 86_400_000;
/** A compact OCC option symbol (`AAPL270115C00250000`). */
const OCC = /^[A-Z0-9]{1,6}\d{6}[CP]\d{8}$/;

/** Which bars endpoint knows a symbol. */
export type BarsKind = "stocks" | "crypto" | "options";

/** The endpoint of a symbol: crypto pairs have a slash, options are compact OCC symbols. */
export function barsKind(symbol: string): BarsKind {
  if (symbol.includes("/")) return "crypto";
  return OCC.test(symbol) ? "options" : "stocks";
}

/** Where the bars live and how to read them. */
export interface AlpacaHistoricalPricesOptions {
  /** Market-data REST base, e.g. `https://data.alpaca.markets`. */
  dataUrl: string;
  /** The configured stock feed: `iex` and `test` read IEX bars, `sip` and `delayed_sip` SIP's. */
  feed: PriceFeed;
  credential: Credential;
  /** Requests per minute this client allows itself; default {@link DATA_REQUESTS_PER_MINUTE}. */
  requestsPerMinute?: number;
  /**
   * Retries of a retryable failure (default 5), the first after `retryDelayMs` (default 500)
   * doubling up to `maxDelayMs` (default 30 000); a `Retry-After` is honoured.
   */
  retry?: { maxRetries?: number; retryDelayMs?: number; maxDelayMs?: number };
  log?: Logger;
  /** Clock (ms), default `Date.now`. */
  now?: () => number;
}

// What the SDK hands back for a page of bars (it passes the `bars` map through unparsed).
const BarsPage = z.object({
  bars: z.record(
    z.string(),
    z.array(z.object({ t: z.union([z.string(), z.date()]), c: z.number().positive() })).nullable(),
  ).nullable(),
  nextPageToken: z.string().nullable().optional(),
});
type BarsPage = z.infer<typeof BarsPage>;

function validDay(day: string): boolean {
  return DAY.test(day) && new Date(`${day}T00:00:00Z`).toISOString().slice(0, 10) === day;
}

const addDays = (day: string, n: number): Date =>
  new Date(Date.parse(`${day}T00:00:00Z`) + n * DAY_MS);

/**
 * The day a daily bar stands for: its stamp is a midnight (New York's for stocks), so half a day
 * later it is that day in UTC, whichever zone's midnight it is.
 */
function barDay(t: string | Date): string {
  return new Date(new Date(t).getTime() + DAY_MS / 2).toISOString().slice(0, 10);
}

/** Historical daily closes from Alpaca's bars. */
export class AlpacaHistoricalPrices implements HistoricalPrices {
  readonly #stocks: marketData.StockApi;
  readonly #crypto: marketData.CryptoApi;
  readonly #options: marketData.OptionApi;
  readonly #feed: "iex" | "sip";
  readonly #delayed: boolean;
  readonly #credential: Credential;
  readonly #now: () => number;

  constructor(opts: AlpacaHistoricalPricesOptions) {
    const log = opts.log?.child({ provider: "alpaca", api: "bars" });
    // One configuration: its rate limiter is shared by the three APIs, as Alpaca counts the key.
    const config = new marketData.Configuration({
      basePath: opts.dataUrl.replace(/\/+$/, ""),
      keyId: opts.credential.keyId,
      secret: opts.credential.secret,
      rateLimit: {
        maxRequests: opts.requestsPerMinute ?? DATA_REQUESTS_PER_MINUTE,
        intervalMs: 60_000,
      },
      retry: {
        maxRetries: opts.retry?.maxRetries ?? 5,
        retryDelayMs: opts.retry?.retryDelayMs ?? 500,
        maxDelayMs: opts.retry?.maxDelayMs ?? 30_000,
        onRetry: (e) =>
          log?.warn("alpaca bars request retried", {
            status: e.status ?? 0,
            attempt: e.attempt,
            delay_ms: Math.round(e.delayMs),
          }),
      },
    });
    this.#stocks = new marketData.StockApi(config);
    this.#crypto = new marketData.CryptoApi(config);
    this.#options = new marketData.OptionApi(config);
    this.#feed = opts.feed === "sip" || opts.feed === "delayed_sip" ? "sip" : "iex";
    this.#delayed = opts.feed === "delayed_sip";
    this.#credential = opts.credential;
    this.#now = opts.now ?? Date.now;
  }

  async dailyCloses(
    symbols: string[],
    from: string,
    to: string,
  ): Promise<Map<string, Map<string, string>>> {
    if (!validDay(from) || !validDay(to)) {
      throw new RangeError(`days must be YYYY-MM-DD: ${from}, ${to}`);
    }
    if (from > to) throw new RangeError(`from ${from} is after to ${to}`);
    // Alpaca knows upper-case symbols; answers are keyed as the caller spelled them.
    const asked = new Map(symbols.map((s) => [s.toUpperCase(), s]));
    const out = new Map<string, Map<string, string>>();
    const byKind: Record<BarsKind, string[]> = { stocks: [], crypto: [], options: [] };
    for (const s of asked.keys()) byKind[barsKind(s)].push(s);
    // A day's bar is stamped near its start in some zone: a day either side is asked for and
    // the answer kept to [from, to]. Without real-time SIP the last 15 minutes are not served.
    const start = addDays(from, -1);
    const latest = this.#now() - (this.#delayed ? 15 * 60_000 : 0);
    const end = new Date(Math.min(addDays(to, 2).getTime() - 1000, latest));
    if (end < start) return out;
    for (const kind of ["stocks", "crypto", "options"] as const) {
      for (let i = 0; i < byKind[kind].length; i += BARS_BATCH) {
        const batch = byKind[kind].slice(i, i + BARS_BATCH).join(",");
        await this.#pages(kind, batch, start, end, (symbol, t, c) => {
          const day = barDay(t);
          const name = asked.get(symbol);
          if (name === undefined || day < from || day > to) return;
          let closes = out.get(name);
          if (!closes) out.set(name, closes = new Map());
          closes.set(day, decimalString(c));
        });
      }
    }
    return out;
  }

  /** Reads every page of one batch, handing each bar to `onBar`. */
  async #pages(
    kind: BarsKind,
    symbols: string,
    start: Date,
    end: Date,
    onBar: (symbol: string, t: string | Date, c: number) => void,
  ): Promise<void> {
    const seen = new Set<string>();
    let pageToken: string | undefined;
    do {
      const page = await this.#page(kind, { symbols, timeframe: "1Day", start, end, pageToken });
      for (const [symbol, bars] of Object.entries(page.bars ?? {})) {
        for (const bar of bars ?? []) onBar(symbol, bar.t, bar.c);
      }
      pageToken = page.nextPageToken ?? undefined;
      if (pageToken !== undefined && seen.has(pageToken)) {
        throw new AlpacaRestError(200, "Alpaca repeated a bars page token");
      }
      if (pageToken !== undefined) seen.add(pageToken);
    } while (pageToken !== undefined);
  }

  /** One page of bars from `kind`'s endpoint, checked. */
  async #page(
    kind: BarsKind,
    req: { symbols: string; timeframe: string; start: Date; end: Date; pageToken?: string },
  ): Promise<BarsPage> {
    const params = { ...req, limit: BARS_PAGE_LIMIT, sort: "asc" as const };
    let raw: unknown;
    try {
      raw = kind === "crypto"
        ? await this.#crypto.cryptoBars({ ...params, loc: "us" })
        : kind === "options"
        ? await this.#options.optionBars(params)
        : await this.#stocks.stockBars({ ...params, feed: this.#feed, adjustment: "raw" });
    } catch (e) {
      throw safeError(e, this.#credential);
    }
    const page = BarsPage.safeParse(raw);
    if (!page.success) {
      const where = page.error.issues[0]?.path.join(".") ?? "";
      throw new AlpacaRestError(200, `Alpaca's ${kind} bars are malformed at "${where}"`);
    }
    return page.data;
  }
}
