/**
 * The relay's durable outbox: SQLite (`node:sqlite`) in WAL mode with `synchronous=FULL`, so a
 * row is on disk before the webhook is answered. Appends are group-committed: requests that
 * arrive together share one transaction and one fsync.
 * @module
 */
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { dirname } from "node:path";

/** One stored webhook. */
export interface OutboxRow {
  seq: number;
  provider: "snaptrade" | "plaid";
  event_id: string;
  received_at: string;
  body: string;
  forwarded_at: string | null;
  /** When the forwarder set the row aside as unpublishable (a poisoned row), else null. */
  failed_at: string | null;
  /** Why it was set aside. */
  failure: string | null;
}

/** What `append` did. */
export type AppendResult = "stored" | "duplicate";

const SCHEMA = `
create table if not exists outbox (
  seq integer primary key autoincrement,
  provider text not null,
  event_id text not null,
  event_type text not null default '',
  received_at text not null,
  body text not null,
  forwarded_at text,
  failed_at text,
  failure text,
  unique (provider, event_id)
);
create index if not exists outbox_unforwarded on outbox (seq) where forwarded_at is null;
create index if not exists outbox_received on outbox (received_at);
`;

/** Columns added since the first outbox files, added to an older file when it is opened. */
const ADDED_COLUMNS = ["failed_at", "failure"];

const COLUMNS = "seq, provider, event_id, received_at, body, forwarded_at, failed_at, failure";

interface Pending {
  provider: string;
  eventId: string;
  eventType: string;
  receivedAt: string;
  body: string;
  resolve: (r: AppendResult) => void;
  reject: (e: unknown) => void;
}

/** The outbox file and its statements. */
export class Outbox {
  readonly db: DatabaseSync;
  /**
   * A second connection for bookkeeping that need not survive a power loss (forwarded marks):
   * it commits without fsync. A lost mark only forwards an event again, which JetStream's
   * Nats-Msg-Id and ingress's UNIQUE(provider, event_id) absorb.
   */
  readonly #bookkeeping: DatabaseSync;
  #insert: StatementSync;
  #unforwarded: StatementSync;
  #mark: StatementSync;
  #poison: StatementSync;
  #backlog: StatementSync;
  #queue: Pending[] = [];
  #scheduled = false;
  #listeners = new Set<() => void>();

  constructor(path: string) {
    if (path !== ":memory:") Deno.mkdirSync(dirname(path), { recursive: true });
    this.db = new DatabaseSync(path);
    this.db.exec("pragma journal_mode = wal");
    this.db.exec("pragma synchronous = full");
    this.db.exec("pragma busy_timeout = 5000");
    this.db.exec(SCHEMA);
    this.#upgrade();
    if (path === ":memory:") this.#bookkeeping = this.db;
    else {
      this.#bookkeeping = new DatabaseSync(path);
      this.#bookkeeping.exec("pragma synchronous = normal");
      this.#bookkeeping.exec("pragma busy_timeout = 5000");
    }
    this.#insert = this.db.prepare(
      `insert into outbox (provider, event_id, event_type, received_at, body)
       values (?, ?, ?, ?, ?) on conflict (provider, event_id) do nothing`,
    );
    // Prepared once: the forwarder runs these after every commit.
    this.#unforwarded = this.db.prepare(
      `select ${COLUMNS} from outbox
        where forwarded_at is null and failed_at is null order by seq limit ?`,
    );
    this.#mark = this.#bookkeeping.prepare(
      `update outbox set forwarded_at = coalesce(forwarded_at, ?), failed_at = null, failure = null
        where seq = ?`,
    );
    this.#poison = this.#bookkeeping.prepare(
      "update outbox set failed_at = ?, failure = ? where seq = ? and forwarded_at is null",
    );
    this.#backlog = this.db.prepare(
      "select count(*) as n from outbox where forwarded_at is null and failed_at is null",
    );
  }

  /**
   * Brings an outbox file from an older relay up to date: adds the poison columns, and turns
   * the old `forwarded_at = 'unforwardable:…'` marks into poisoned rows.
   */
  #upgrade(): void {
    const have = new Set(
      (this.db.prepare("pragma table_info(outbox)").all() as { name: string }[]).map((c) => c.name),
    );
    for (const column of ADDED_COLUMNS) {
      if (!have.has(column)) this.db.exec(`alter table outbox add column ${column} text`);
    }
    this.db.prepare(
      `update outbox set failed_at = ?, failure = substr(forwarded_at, 15), forwarded_at = null
        where forwarded_at like 'unforwardable:%'`,
    ).run(new Date().toISOString());
  }

  /** Calls `fn` after each commit that stored new rows. */
  onAppend(fn: () => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /** Stores one event durably; resolves after the commit (fsync) that includes it. */
  append(e: {
    provider: string;
    eventId: string;
    eventType: string;
    receivedAt: string;
    body: string;
  }): Promise<AppendResult> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ ...e, resolve, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        // A macrotask, so requests already read in this turn join the same commit.
        setTimeout(() => this.#flush(), 0);
      }
    });
  }

  #flush(): void {
    this.#scheduled = false;
    const batch = this.#queue;
    this.#queue = [];
    if (batch.length === 0) return;
    const results: AppendResult[] = [];
    try {
      this.db.exec("begin immediate");
      try {
        for (const p of batch) {
          const r = this.#insert.run(p.provider, p.eventId, p.eventType, p.receivedAt, p.body);
          results.push(Number(r.changes) > 0 ? "stored" : "duplicate");
        }
        this.db.exec("commit");
      } catch (e) {
        this.db.exec("rollback");
        throw e;
      }
    } catch (e) {
      for (const p of batch) p.reject(e);
      return;
    }
    batch.forEach((p, i) => p.resolve(results[i]));
    if (results.includes("stored")) { for (const fn of this.#listeners) fn(); }
  }

  /** Up to `limit` rows not yet forwarded, oldest first. */
  unforwarded(limit: number): OutboxRow[] {
    return this.#unforwarded.all(limit) as unknown as OutboxRow[];
  }

  /**
   * Marks rows forwarded (after their PubAck), which also clears a poison mark; a row already
   * forwarded keeps its first time (a replay does not restart its retention).
   */
  markForwarded(seqs: number[], at: string): void {
    this.#bookkeep(seqs.map((seq) => () => this.#mark.run(at, seq)));
  }

  /**
   * Sets rows aside as poisoned: the forwarder cannot publish them (not a connection problem),
   * so they no longer block or count in the backlog. `relay:status` lists them and
   * `relay:replay --poisoned` sends them again.
   */
  markPoisoned(rows: { seq: number; failure: string }[], at: string): void {
    this.#bookkeep(rows.map((r) => () => this.#poison.run(at, r.failure.slice(0, 500), r.seq)));
  }

  #bookkeep(updates: (() => unknown)[]): void {
    if (updates.length === 0) return;
    this.#bookkeeping.exec("begin immediate");
    try {
      for (const u of updates) u();
      this.#bookkeeping.exec("commit");
    } catch (e) {
      this.#bookkeeping.exec("rollback");
      throw e;
    }
  }

  /** Rows received at or after `since` (ISO time), optionally for one provider, by seq. */
  since(sinceIso: string, provider?: string, afterSeq = 0, limit = 500): OutboxRow[] {
    return this.db.prepare(
      `select ${COLUMNS} from outbox
        where received_at >= ? and (? is null or provider = ?) and seq > ?
        order by seq limit ?`,
    ).all(sinceIso, provider ?? null, provider ?? null, afterSeq, limit) as unknown as OutboxRow[];
  }

  /** Poisoned rows after `afterSeq`, optionally for one provider, by seq. */
  poisoned(provider?: string, afterSeq = 0, limit = 500): OutboxRow[] {
    return this.db.prepare(
      `select ${COLUMNS} from outbox
        where failed_at is not null and forwarded_at is null and (? is null or provider = ?)
          and seq > ?
        order by seq limit ?`,
    ).all(provider ?? null, provider ?? null, afterSeq, limit) as unknown as OutboxRow[];
  }

  /** Rows still waiting to be forwarded (poisoned rows are not waiting). */
  backlog(): number {
    const r = this.#backlog.get() as { n: number };
    return Number(r.n);
  }

  /** A summary for `relay:status`. */
  status() {
    const one = (q: string) => this.db.prepare(q).get() as Record<string, unknown>;
    const waiting = "forwarded_at is null and failed_at is null";
    const perProvider = this.db.prepare(
      `select provider, count(*) as total, sum(${waiting}) as backlog,
              sum(failed_at is not null) as poisoned,
              min(case when ${waiting} then received_at end) as oldest_backlog,
              max(forwarded_at) as last_forwarded
         from outbox group by provider order by provider`,
    ).all();
    return {
      total: Number(one("select count(*) as n from outbox").n),
      backlog: this.backlog(),
      poisoned: Number(one("select count(*) as n from outbox where failed_at is not null").n),
      oldest_backlog: one(`select min(received_at) as t from outbox where ${waiting}`).t ?? null,
      last_forwarded: one("select max(forwarded_at) as t from outbox").t ?? null,
      providers: perProvider,
    };
  }

  /** Deletes forwarded rows received before `beforeIso` (kept for replay until then). */
  prune(beforeIso: string): number {
    const r = this.db.prepare(
      "delete from outbox where forwarded_at is not null and received_at < ?",
    ).run(beforeIso);
    return Number(r.changes);
  }

  close(): void {
    this.#flush();
    if (this.#bookkeeping !== this.db) this.#bookkeeping.close();
    this.db.close();
  }
}
