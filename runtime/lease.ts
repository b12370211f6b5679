/**
 * Leases in the `leases` KV bucket, for leader election and shard ownership.
 *
 * Takeover never compares clocks across machines: a contender considers a lease expired
 * when the lease's KV revision has not changed for `ttlMs` on its own monotonic clock, and
 * a holder gives the lease up (fences itself) when none of its renewals has succeeded for
 * `ttlMs` on its own monotonic clock, counted from when the last good renewal was sent.
 * Every write is a compare-and-swap on the KV revision, so two holders never both win.
 * @module
 */
import { hostname } from "node:os";
import type { NatsConnection } from "@nats-io/transport-node";
import { JetStreamApiCodes, JetStreamApiError } from "@nats-io/jetstream";
import type { KV } from "@nats-io/kv";
import { KvMirror } from "./kv_mirror.ts";
import { encode, LeaseRecord, safeDecode } from "@meridian/proto";
import type { Logger } from "./log.ts";

/** How often the board looks for leases that just expired. */
const EXPIRY_CHECK_MS = 250;

/** What a {@link LeaseBoard} knows of one lease. */
export interface LeaseBoardEntry {
  record: LeaseRecord;
  revision: number;
  /** Present and changed within `ttlMs`, as seen on this process's monotonic clock. */
  live: boolean;
}

/** Options of a {@link LeaseBoard}. */
export interface LeaseBoardOptions {
  /** A KV key or a wildcard such as `prices.shard.>`. */
  filter: string;
  ttlMs: number;
  log?: Logger;
  /**
   * The connection under `kv`: after a reconnect (the server may have restarted) the board
   * re-creates its watch and re-reads, in case the watch does not resume by itself.
   */
  nc?: NatsConnection;
}

interface Slot {
  revision: number;
  /** Null when the value does not decode as a lease record. */
  record: LeaseRecord | null;
  deleted: boolean;
  /** performance.now() when this revision was first seen. */
  changedAt: number;
  /** Whether listeners were last told this lease is expired. */
  expired: boolean;
}

/**
 * A live view of the leases under a key or wildcard: who holds what, and which leases have
 * not been renewed for `ttlMs` on this process's clock. Survives NATS reconnects and server
 * restarts by re-creating its watch and re-reading the current values.
 */
export class LeaseBoard {
  readonly #kv: KV;
  readonly #filter: string;
  readonly #ttlMs: number;
  readonly #log?: Logger;
  readonly #slots = new Map<string, Slot>();
  readonly #listeners = new Set<() => void>();
  readonly #mirror: KvMirror;
  #started = false;
  #stopped = false;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(kv: KV, opts: LeaseBoardOptions) {
    this.#kv = kv;
    this.#filter = opts.filter;
    this.#ttlMs = opts.ttlMs;
    this.#log = opts.log;
    this.#mirror = new KvMirror(kv, {
      filter: opts.filter,
      log: opts.log,
      nc: opts.nc,
      onPut: (key, value, revision) => this.#apply(key, value, revision),
      onDelete: (key) => {
        const slot = this.#slots.get(key);
        if (slot && !slot.deleted) this.#markDeleted(key, slot);
      },
    });
  }

  /** Starts watching; resolves once the current values are loaded (they count as changed now). */
  start(): Promise<void> {
    if (this.#started) return Promise.resolve();
    this.#started = true;
    this.#timer = setInterval(() => this.#checkExpiry(), EXPIRY_CHECK_MS);
    return this.#mirror.start();
  }

  /** Stops watching and the expiry timer. */
  stop(): void {
    this.#stopped = true;
    clearInterval(this.#timer);
    this.#mirror.stop();
  }

  /** The present leases, keyed by KV key (values that are not lease records are left out). */
  entries(): Map<string, LeaseBoardEntry> {
    const out = new Map<string, LeaseBoardEntry>();
    for (const key of this.#slots.keys()) {
      const e = this.entry(key);
      if (e) out.set(key, e);
    }
    return out;
  }

  /** One present lease, or undefined when absent, deleted or not a lease record. */
  entry(key: string): LeaseBoardEntry | undefined {
    const slot = this.#slots.get(key);
    if (!slot || slot.deleted || !slot.record) return undefined;
    return { record: slot.record, revision: slot.revision, live: !this.expired(key) };
  }

  /** True when the lease is absent, deleted, or its revision unchanged for `ttlMs` or more. */
  expired(key: string): boolean {
    const slot = this.#slots.get(key);
    return !slot || slot.deleted || performance.now() - slot.changedAt >= this.#ttlMs;
  }

  /** The revision of the lease's current value; undefined when absent or deleted. */
  revision(key: string): number | undefined {
    const slot = this.#slots.get(key);
    return slot && !slot.deleted ? slot.revision : undefined;
  }

  /** Calls `cb` when a lease changes, is deleted or expires; returns the unsubscribe. */
  onChange(cb: () => void): () => void {
    this.#listeners.add(cb);
    return () => this.#listeners.delete(cb);
  }

  /** Records a value the mirror reports (always newer than what we have). */
  #apply(key: string, value: Uint8Array, revision: number): void {
    let record: LeaseRecord | null = null;
    const r = safeDecode(LeaseRecord, value);
    if (r.success) record = r.data;
    else this.#log?.warn("not a lease record", { lease: key, error: r.error });
    this.#slots.set(key, {
      revision,
      record,
      deleted: false,
      changedAt: performance.now(),
      expired: false,
    });
    this.#notify();
  }

  #markDeleted(key: string, slot: Slot): void {
    this.#slots.set(key, { ...slot, deleted: true, record: null, expired: true });
    this.#notify();
  }

  #checkExpiry(): void {
    const now = performance.now();
    let changed = false;
    for (const [key, slot] of this.#slots) {
      if (slot.deleted) continue;
      const expired = now - slot.changedAt >= this.#ttlMs;
      if (expired === slot.expired) continue;
      slot.expired = expired;
      changed = true;
      if (expired) this.#confirm(key);
    }
    if (changed) this.#notify();
  }

  /**
   * Reads a lease that just expired: if the KV has a newer revision the watch went stale
   * without ending, so take the value and re-create the watch. Takeover does not depend on
   * this (every takeover is a compare-and-swap); it keeps the board from crying wolf.
   */
  #confirm(key: string): void {
    this.#kv.get(key).then((e) => {
      const slot = this.#slots.get(key);
      if (!slot || this.#stopped) return;
      if (e && e.revision > slot.revision) {
        this.#log?.warn("lease board missed an update; re-creating its watch", { key });
        this.#mirror.restart();
      } else if (!e && !slot.deleted) {
        this.#markDeleted(key, slot);
        this.#mirror.restart();
      }
    }).catch(() => {});
  }

  #notify(): void {
    for (const cb of [...this.#listeners]) {
      try {
        cb();
      } catch (e) {
        this.#log?.warn("lease board listener failed", { error: e });
      }
    }
  }
}

/** Options of a {@link Lease}. */
export interface LeaseOptions {
  kv: KV;
  /** A started board whose filter covers `key`. */
  board: LeaseBoard;
  key: string;
  /** Who we are, at most 64 characters: see {@link instanceId}. */
  holder: string;
  ttlMs: number;
  /** Published with every renewal, so others can see what the holder offers. */
  info?: () => Record<string, unknown>;
  log?: Logger;
}

/**
 * One lease this process may hold. {@link Lease.tryAcquire} takes it if it is free or
 * expired; while held it is renewed every `ttlMs / 3`, and it is lost (listeners told) when
 * someone else's write got in first or when no renewal has succeeded for `ttlMs`.
 */
export class Lease {
  readonly #opts: LeaseOptions;
  readonly #listeners = new Set<(held: boolean) => void>();
  #held = false;
  /** Our latest revision of the key, kept after losing it so we can win it back. */
  #revision: number | undefined;
  #acquiredAt = "";
  /** performance.now() when the last successful write was sent. */
  #lastOk = 0;
  /** Bumped on every acquire and loss, so a late renewal reply cannot extend a past tenure. */
  #tenure = 0;
  #timer: ReturnType<typeof setInterval> | undefined;
  #renewing: Promise<void> | null = null;
  #acquiring: Promise<boolean> | null = null;
  /** A renewal went unanswered: it may have been stored, so #revision may be stale. */
  #unsure = false;

  constructor(opts: LeaseOptions) {
    if (opts.holder.length < 1 || opts.holder.length > 64) {
      throw new Error(`lease holder must be 1 to 64 characters: ${opts.holder}`);
    }
    this.#opts = opts;
  }

  /** True while we hold the lease and keep renewing it. */
  get held(): boolean {
    return this.#held;
  }

  /** Calls `cb` whenever {@link held} changes; returns the unsubscribe. */
  onChange(cb: (held: boolean) => void): () => void {
    this.#listeners.add(cb);
    return () => this.#listeners.delete(cb);
  }

  /** One attempt to take the lease; true if we hold it afterwards. Never throws. */
  tryAcquire(): Promise<boolean> {
    if (this.#held) return Promise.resolve(true);
    this.#acquiring ??= this.#attempt().finally(() => this.#acquiring = null);
    return this.#acquiring;
  }

  async #attempt(): Promise<boolean> {
    const { kv, board, key, holder, log } = this.#opts;
    await this.#learnRevision(Math.max(1, this.#opts.ttlMs / 3)).catch(() => {});
    const seen = board.revision(key);
    const ours = board.entry(key)?.record.holder === holder;
    const now = new Date().toISOString();
    const sentAt = performance.now();
    const tenure = this.#tenure;
    try {
      let revision: number;
      if (seen === undefined) {
        revision = await kv.create(key, this.#record(now, now));
      } else if (ours || seen === this.#revision || board.expired(key)) {
        // Our own lease (say after fencing ourselves through an outage) is taken back with
        // the latest revision we wrote, which the board may not have seen yet.
        const expected = ours && this.#revision !== undefined ? this.#revision : seen;
        revision = await kv.update(key, this.#record(now, now), expected);
      } else {
        return false;
      }
      this.#revision = revision;
      // Released or stopped while the write was in flight: leave it to expire.
      if (tenure !== this.#tenure) return false;
      this.#tenure++;
      this.#acquiredAt = now;
      this.#lastOk = sentAt;
      this.#timer = setInterval(() => this.#renew(), Math.max(1, this.#opts.ttlMs / 3));
      log?.info("lease acquired", { lease: key, holder, revision });
      this.#setHeld(true);
      return true;
    } catch (e) {
      if (!isKvConflict(e)) log?.warn("lease acquire failed", { lease: key, error: e });
      return false;
    }
  }

  #renew(): void {
    const { kv, key, holder, ttlMs, log } = this.#opts;
    if (!this.#held) return;
    if (performance.now() - this.#lastOk >= ttlMs) {
      // Others may take it over from now on: stop acting as the holder before they do.
      log?.warn("lease not renewed within its ttl; giving it up", { lease: key, holder });
      this.#halt();
      return;
    }
    if (this.#renewing || this.#revision === undefined) return;
    const tenure = this.#tenure;
    const sentAt = performance.now();
    let data: Uint8Array;
    try {
      data = this.#record(this.#acquiredAt, new Date().toISOString());
    } catch (e) {
      log?.warn("lease record invalid; not renewed", { lease: key, error: e });
      return;
    }
    // Unanswered within a renewal interval, a renewal is given up so the next one goes out:
    // when the bucket's leader dies its successor takes a few seconds to be elected, and a
    // request waiting on the dead one for the whole ttl would cost the lease.
    const timeoutMs = Math.max(1, ttlMs / 3);
    this.#renewing = this.#learnRevision(timeoutMs)
      .then(() => kv.update(key, data, this.#revision!, timeoutMs))
      .then(
        (revision) => {
          // Even past our tenure this is the key's latest revision, ours to win back with.
          this.#revision = revision;
          if (tenure === this.#tenure && this.#held) this.#lastOk = sentAt;
        },
        (e) => {
          if (isKvConflict(e)) {
            if (tenure === this.#tenure && this.#held) {
              log?.warn("lease taken over by another holder", { lease: key, holder });
              this.#halt();
            }
          } else {
            this.#unsure = true;
            log?.warn("lease renewal failed", { lease: key, error: e });
          }
        },
      ).finally(() => this.#renewing = null);
  }

  /**
   * After an unanswered renewal: reads the key, and when the value there is this tenure's
   * own record (the renewal was stored, its answer lost) takes its revision, so the next
   * compare-and-swap does not fail against our own write.
   */
  async #learnRevision(timeoutMs: number): Promise<void> {
    if (!this.#unsure) return;
    const entry = await withTimeout(this.#opts.kv.get(this.#opts.key), timeoutMs);
    this.#unsure = false;
    if (!entry || entry.operation !== "PUT" || entry.revision === this.#revision) return;
    const r = safeDecode(LeaseRecord, entry.value);
    if (
      r.success && r.data.holder === this.#opts.holder && r.data.acquired_at === this.#acquiredAt
    ) {
      this.#revision = entry.revision;
    }
  }

  /** Stops renewing and deletes the key if it is still ours, so a standby takes over at once. */
  async release(): Promise<void> {
    this.#halt();
    await this.#renewing;
    const revision = this.#revision;
    this.#revision = undefined;
    if (revision !== undefined) {
      try {
        await this.#opts.kv.delete(this.#opts.key, { previousSeq: revision });
        this.#opts.log?.info("lease released", { lease: this.#opts.key });
      } catch {
        // Someone else's already, or NATS is away: then it expires on its own.
      }
    }
  }

  /** Stops renewing without deleting the key: others take over once it expires. */
  stop(): void {
    this.#halt();
  }

  /** Ends the current tenure: no more renewals, and late replies are ignored. */
  #halt(): void {
    clearInterval(this.#timer);
    this.#tenure++;
    this.#setHeld(false);
  }

  #record(acquiredAt: string, renewedAt: string): Uint8Array {
    let info: Record<string, unknown> = {};
    try {
      info = this.#opts.info?.() ?? {};
    } catch (e) {
      this.#opts.log?.warn("lease info failed", { lease: this.#opts.key, error: e });
    }
    return encode(LeaseRecord, {
      holder: this.#opts.holder,
      acquired_at: acquiredAt,
      renewed_at: renewedAt,
      info,
    });
  }

  #setHeld(held: boolean): void {
    if (held === this.#held) return;
    this.#held = held;
    for (const cb of [...this.#listeners]) {
      try {
        cb(held);
      } catch (e) {
        this.#opts.log?.warn("lease listener failed", { lease: this.#opts.key, error: e });
      }
    }
  }
}

/** `p`, or a rejection once `ms` have passed. */
function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** True when a KV compare-and-swap lost: someone else wrote the key first. */
export function isKvConflict(e: unknown): boolean {
  return e instanceof JetStreamApiError &&
    (e.code === JetStreamApiCodes.StreamWrongLastSequence ||
      e.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown);
}

/** A holder id unique to this process: `${service}-${short hostname}-${6 hex}`, ≤ 64 chars. */
export function instanceId(service: string): string {
  let host = "host";
  try {
    host = hostname().split(".")[0] || host;
  } catch {
    // No permission to read the hostname: the random part keeps ids unique.
  }
  const random = [...crypto.getRandomValues(new Uint8Array(3))]
    .map((b) => b.toString(16).padStart(2, "0")).join("");
  const prefix = `${service}-${host}`.replace(/[^A-Za-z0-9_.-]/g, "-").slice(0, 64 - 7);
  return `${prefix}-${random}`;
}
