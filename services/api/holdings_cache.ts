/**
 * A per-user cache of the holdings view in two layers.
 *
 * The rows: the view as PostgreSQL has it (providers' prices), keyed by a fingerprint that one
 * small query reads: the user's holdings version (bumped by every sync in the same transaction
 * as its writes), base currency and the FX rates' date, the connections' count and last
 * update, and the pending flags. A page load still reads PostgreSQL; it only skips re-reading
 * and re-aggregating unchanged rows.
 *
 * The prices: that view re-priced at the live quotes (`repriceHoldings`), serialised and
 * gzipped once, kept while it is still true: the same rows, the same KV revision of every
 * quote the user's instruments have (or none), the same market status, and no price that has
 * grown stale since. Otherwise it is re-priced (in memory, no I/O), so a page load shows the
 * prices the live stream does. The ETag is a hash of the served JSON: it changes exactly when
 * the answer does, prices included.
 * @module
 */
import { createHash } from "node:crypto";
import type { Sql } from "@meridian/runtime";
import {
  type HoldingsView,
  nextStaleChange,
  type Quotes,
  readHoldings,
  repriceHoldings,
} from "@meridian/portfolio";
import type { QuoteBook } from "./live_quotes.ts";

/** One user's serialised view. */
export interface HoldingsEntry {
  /**
   * Changes whenever the user's synced rows (holdings and transactions, written together),
   * connections, base currency or FX rates do: what views derived from them are keyed by.
   */
  fingerprint: string;
  etag: string;
  json: string;
  /** The JSON gzipped once, so no request pays for compressing ~150 KB again. */
  gzip: Promise<Uint8Array>;
}

/** A view at some quotes, and what it was priced with. */
interface Priced extends HoldingsEntry {
  /** The KV revision of each of the user's symbols' quote (0: none), in `symbols` order. */
  revisions: number[];
  market: boolean | null;
  /** When a price in it grows stale (ms); Infinity when none will by itself. */
  validUntil: number;
}

interface UserEntry {
  fingerprint: string;
  /** The view at the providers' prices, as read. */
  view: HoldingsView;
  /** The market-data symbols of the user's instruments. */
  symbols: string[];
  /** When the fingerprint was last confirmed (ms). */
  checkedAt: number;
  priced: Priced | null;
  /** What the entry counts against the memory bound. */
  chars: number;
}

async function gzip(text: string): Promise<Uint8Array> {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

const NO_QUOTES: QuoteBook = { get: () => undefined, marketOpen: () => null };

/** The cache; bounded in users, least recently used evicted first. */
export class HoldingsCache {
  #entries = new Map<string, UserEntry>();
  constructor(
    private readonly sql: Sql,
    /**
     * How long a confirmed entry is served without asking PostgreSQL again. Changes this
     * process hears of (sync progress, pending flags, its own connection changes) invalidate
     * at once; the window only bounds what another instance's writes may take to show.
     */
    private readonly recheckMs = 1_000,
    /**
     * Memory bound, in UTF-16 code units (about bytes) of serialised view; each entry counts
     * twice its JSON, for the parsed view it keeps as well.
     */
    private readonly maxChars = 64 * 1024 * 1024,
  ) {}

  #chars = 0;

  /** Forgets a user's entry (their holdings, connections or flags changed). */
  invalidate(userId: string): void {
    const e = this.#entries.get(userId);
    if (e) this.#chars -= e.chars;
    this.#entries.delete(userId);
  }

  async #fingerprint(userId: string): Promise<string> {
    const [row] = await this.sql<{ fp: string }[]>`
      select concat_ws('|', u.holdings_version, u.base_currency,
        (select max(date)::text from fx_rates),
        (select count(*) || ':' || coalesce(max(updated_at)::text, '') || ':' ||
                coalesce(max(last_synced_at)::text, '')
           from connections where user_id = u.id),
        (select count(*) || ':' || coalesce(max(last_event_at)::text, '') || ':' ||
                coalesce(sum(events), 0)
           from pending_updates where user_id = u.id)) as fp
      from users u where u.id = ${userId}`;
    return row?.fp ?? "";
  }

  /**
   * The holdings view of `userId`, current as of this call, valued at `quotes` (none: the
   * providers' prices). `generated_at` in it is when the rows were last read; the fingerprint
   * check proves they have not changed since.
   */
  async get(userId: string, now: Date, quotes: QuoteBook = NO_QUOTES): Promise<HoldingsEntry> {
    let entry = this.#entries.get(userId);
    const t = Date.now();
    if (!entry || t - entry.checkedAt >= this.recheckMs) {
      // Fingerprint first: the rows read after it are at least as new, so an entry is never
      // older than its key.
      const fingerprint = await this.#fingerprint(userId);
      entry = this.#entries.get(userId);
      if (!entry || entry.fingerprint !== fingerprint) {
        const view = await readHoldings(this.sql, userId, { now });
        const symbols = new Set<string>();
        for (const a of view.accounts) {
          for (const p of a.positions) if (p.instrument_symbol) symbols.add(p.instrument_symbol);
        }
        entry = {
          fingerprint,
          view,
          symbols: [...symbols].sort(),
          checkedAt: t,
          priced: null,
          chars: 0,
        };
      } else {
        entry.checkedAt = t;
      }
    }
    const priced = this.#priced(userId, entry, now, quotes);
    this.invalidate(userId);
    entry.chars = 2 * priced.json.length;
    this.#entries.set(userId, entry);
    this.#chars += entry.chars;
    // Least recently used first; the entry just served stays.
    while (this.#chars > this.maxChars && this.#entries.size > 1) {
      this.invalidate(this.#entries.keys().next().value!);
    }
    return priced;
  }

  /** The entry's view at the current quotes: the one already serialised while still true. */
  #priced(userId: string, entry: UserEntry, now: Date, book: QuoteBook): Priced {
    const market = book.marketOpen();
    const current = entry.symbols.map((s) => book.get(s));
    const revisions = current.map((q) => q?.revision ?? 0);
    const p = entry.priced;
    if (
      p && p.market === market && now.getTime() < p.validUntil &&
      p.revisions.every((r, i) => r === revisions[i])
    ) return p;
    const quotes: Record<string, Quotes[string]> = {};
    entry.symbols.forEach((s, i) => {
      const q = current[i]?.quote;
      if (q) quotes[s] = q;
    });
    const view = repriceHoldings(entry.view, quotes, now, market);
    const json = JSON.stringify(view);
    const zipped = gzip(json);
    zipped.catch(() => {});
    // Crypto or not, a price may grow stale 15 minutes after it was made: re-price then.
    const next = nextStaleChange(
      view.positions.map((r) => ({ time: r.price_time, stale: r.stale, crypto: true })),
      now,
      market,
    );
    entry.priced = {
      fingerprint: entry.fingerprint,
      etag: `"h${
        createHash("sha256").update(userId).update("\u0000").update(json).digest("base64url")
          .slice(0, 22)
      }"`,
      json,
      gzip: zipped,
      revisions,
      market,
      validUntil: next?.getTime() ?? Infinity,
    };
    return entry.priced;
  }
}
