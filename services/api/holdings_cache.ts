/**
 * A per-user cache of the serialised holdings view, keyed by a fingerprint that one small
 * query reads: the user's holdings version (bumped by every sync in the same transaction as
 * its writes), base currency and the FX rates' date, the connections' count and last update,
 * and the pending flags. A page load
 * still reads PostgreSQL; it only skips re-reading, re-aggregating and re-compressing unchanged
 * rows.
 * @module
 */
import { createHash } from "node:crypto";
import type { Sql } from "@meridian/runtime";
import { readHoldings } from "@meridian/portfolio";

/** One user's serialised view. */
export interface HoldingsEntry {
  fingerprint: string;
  etag: string;
  json: string;
  /** The JSON gzipped once, so no request pays for compressing ~150 KB again. */
  gzip: Promise<Uint8Array>;
  /** When the fingerprint was last confirmed (ms). */
  checkedAt: number;
}

async function gzip(text: string): Promise<Uint8Array> {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** The cache; bounded in users, least recently used evicted first. */
export class HoldingsCache {
  #entries = new Map<string, HoldingsEntry>();
  constructor(
    private readonly sql: Sql,
    /**
     * How long a confirmed entry is served without asking PostgreSQL again. Changes this
     * process hears of (sync progress, pending flags, its own connection changes) invalidate
     * at once; the window only bounds what another instance's writes may take to show.
     */
    private readonly recheckMs = 1_000,
    /** Memory bound: the serialised views kept, in UTF-16 code units (about bytes). */
    private readonly maxChars = 64 * 1024 * 1024,
  ) {}

  #chars = 0;

  /** Forgets a user's entry (their holdings, connections or flags changed). */
  invalidate(userId: string): void {
    const e = this.#entries.get(userId);
    if (e) this.#chars -= e.json.length;
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
   * The holdings view of `userId`, current as of this call. `generated_at` in it is when the
   * rows were last read; the fingerprint check proves they have not changed since.
   */
  async get(userId: string, now: Date): Promise<HoldingsEntry> {
    let entry = this.#entries.get(userId);
    const t = Date.now();
    if (entry && t - entry.checkedAt < this.recheckMs) return entry;
    // Fingerprint first: the rows read after it are at least as new, so an entry is never
    // older than its key.
    const fingerprint = await this.#fingerprint(userId);
    entry = this.#entries.get(userId);
    if (!entry || entry.fingerprint !== fingerprint) {
      const json = JSON.stringify(await readHoldings(this.sql, userId, { now }));
      const zipped = gzip(json);
      zipped.catch(() => {});
      entry = {
        fingerprint,
        etag: `"h${
          createHash("sha256").update(userId + fingerprint).digest("base64url").slice(0, 22)
        }"`,
        json,
        gzip: zipped,
        checkedAt: t,
      };
    } else {
      entry.checkedAt = t;
    }
    this.invalidate(userId);
    this.#entries.set(userId, entry);
    this.#chars += entry.json.length;
    // Least recently used first; the entry just served stays.
    while (this.#chars > this.maxChars && this.#entries.size > 1) {
      this.invalidate(this.#entries.keys().next().value!);
    }
    return entry;
  }
}
