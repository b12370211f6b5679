/**
 * An in-process mirror of the keys of a KV bucket under a filter: the current values once,
 * then every change, surviving NATS reconnects and server restarts (the watch is re-created
 * and the values re-read; a revision never goes backwards, so a replay changes nothing).
 * @module
 */
import type { NatsConnection } from "@nats-io/transport-node";
import { type KV, type KvEntry, type KvWatchEntry, KvWatchInclude } from "@nats-io/kv";
import type { Logger } from "./log.ts";

/** What a mirror reports. */
export interface KvMirrorOptions {
  /** A key or a wildcard such as `>` or `prices.shard.>`. */
  filter: string;
  /** A key was written (a value newer than any seen for it). */
  onPut: (key: string, value: Uint8Array, revision: number) => void;
  /** A key was deleted or purged. */
  onDelete?: (key: string) => void;
  log?: Logger;
  /** The connection under the bucket: after a reconnect the watch is re-created. */
  nc?: NatsConnection;
}

/** A running mirror; see the module doc. */
export class KvMirror {
  readonly #kv: KV;
  readonly #opts: KvMirrorOptions;
  /** The last revision seen of each key, deletions included (so a replay changes nothing). */
  readonly #revisions = new Map<string, number>();
  readonly #present = new Set<string>();
  #stopped = false;
  #watch: { stop(): void } | null = null;
  #status: { stop(): void } | null = null;
  #wake: (() => void) | null = null;

  constructor(kv: KV, opts: KvMirrorOptions) {
    this.#kv = kv;
    this.#opts = opts;
  }

  /** Starts following; resolves once the current values have been reported (or on stop). */
  start(): Promise<void> {
    this.#watchReconnects();
    return new Promise((loaded) => void this.#run(loaded));
  }

  /** Stops following. */
  stop(): void {
    this.#stopped = true;
    this.#watch?.stop();
    this.#status?.stop();
    this.#wake?.();
  }

  /** Re-creates the watch and re-reads every value (for a watch suspected stale). */
  restart(): void {
    this.#watch?.stop();
  }

  /** The revision of `key`'s current value, if it has one. */
  revision(key: string): number | undefined {
    return this.#present.has(key) ? this.#revisions.get(key) : undefined;
  }

  /**
   * Watch, then read the current values, then follow the watch until it ends; again after any
   * failure. Watching first means nothing written during the read is missed; the revision
   * decides between the two.
   */
  async #run(loaded: () => void): Promise<void> {
    let backoffMs = 250;
    while (!this.#stopped) {
      let watch: Awaited<ReturnType<KV["watch"]>> | null = null;
      try {
        watch = await this.#kv.watch({
          key: this.#opts.filter,
          include: KvWatchInclude.UpdatesOnly,
        });
        this.#watch = watch;
        if (this.#stopped) break;
        const w = watch;
        const followed = (async () => {
          for await (const e of w) this.#apply(e.key, e);
        })();
        followed.catch(() => {});
        await this.#resync();
        loaded();
        backoffMs = 250;
        await followed;
      } catch (e) {
        if (!this.#stopped) {
          this.#opts.log?.warn("kv watch failed; retrying", {
            filter: this.#opts.filter,
            error: e,
          });
          backoffMs = Math.min(backoffMs * 2, 2_000);
        }
      } finally {
        watch?.stop();
        this.#watch = null;
      }
      if (this.#stopped) break;
      await new Promise<void>((r) => {
        const t = setTimeout(r, backoffMs);
        this.#wake = () => {
          clearTimeout(t);
          r();
        };
      });
      this.#wake = null;
    }
    loaded();
  }

  /** Reads every current value; a key that vanished meanwhile is reported deleted. */
  async #resync(): Promise<void> {
    const before = new Map([...this.#present].map((k) => [k, this.#revisions.get(k)]));
    const present = new Set<string>();
    for await (const key of await this.#kv.keys(this.#opts.filter)) present.add(key);
    await Promise.all([...present].map(async (key) => {
      const e = await this.#kv.get(key);
      if (e) this.#apply(key, e);
    }));
    for (const [key, revision] of before) {
      if (!present.has(key) && this.#revisions.get(key) === revision) {
        this.#delete(key, revision!);
      }
    }
  }

  #apply(key: string, e: KvEntry | KvWatchEntry): void {
    const seen = this.#revisions.get(key);
    if (seen !== undefined && e.revision <= seen) return;
    if (e.operation !== "PUT") {
      if (this.#present.has(key)) this.#delete(key, e.revision);
      else this.#revisions.set(key, e.revision);
      return;
    }
    this.#revisions.set(key, e.revision);
    this.#present.add(key);
    try {
      this.#opts.onPut(key, e.value, e.revision);
    } catch (err) {
      this.#opts.log?.warn("kv mirror listener failed", { key, error: err });
    }
  }

  #delete(key: string, revision: number): void {
    this.#revisions.set(key, revision);
    this.#present.delete(key);
    try {
      this.#opts.onDelete?.(key);
    } catch (err) {
      this.#opts.log?.warn("kv mirror listener failed", { key, error: err });
    }
  }

  /** After a reconnect the server may have restarted: re-create the watch and re-read. */
  #watchReconnects(): void {
    const nc = this.#opts.nc;
    if (!nc) return;
    const status = nc.status();
    // The iterator the client returns can be stopped, though its type does not say so.
    this.#status = { stop: () => (status as Partial<{ stop(): void }>).stop?.() };
    (async () => {
      for await (const s of status) {
        if (s.type === "reconnect") this.#watch?.stop();
      }
    })().catch(() => {});
  }
}
