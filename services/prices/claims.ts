/**
 * Which work this instance does: every instance runs the same command, and each claims, by
 * lease, at most one free credential (a shard) and possibly the poller. Instances beyond the
 * credentials wait as hot standbys and take a shard over when its holder stops renewing.
 * @module
 */
import type { KV } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { kvKeys } from "@meridian/proto";
import { gauge, Lease, LeaseBoard, type Logger } from "@meridian/runtime";
import type { ShardCredential } from "./credentials.ts";

/** A lease's time-to-live: a standby takes a dead shard over within about this. */
export const LEASE_TTL_MS = 5_000;
const CONTEND_EVERY_MS = 500;

const shardGauge = gauge("meridian_prices_shard_state", "1 while this instance streams a shard");

/** Work started when a lease is won; the returned function stops it when the lease is lost. */
export type Work = () => Promise<() => Promise<void>>;

/** What the claims need. */
export interface ClaimDeps {
  leases: KV;
  /** The connection under `leases` (the board follows its reconnects). */
  nc: NatsConnection;
  instance: string;
  credentials: readonly ShardCredential[];
  log: Logger;
  /** Starts streaming one shard. */
  shard: (credential: ShardCredential) => Work;
  /** Starts the poller. */
  poller: Work;
  /** The lease info a shard publishes (its feed, capacity and whether its key works). */
  shardInfo: (credential: ShardCredential) => Record<string, unknown>;
}

/** Contends for a shard and the poller until stopped. */
export class Claims {
  #board: LeaseBoard;
  #shardLeases: { credential: ShardCredential; key: string; lease: Lease }[];
  #pollerLease: Lease;
  #running = new Map<Lease, Promise<() => Promise<void>>>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #busy = false;

  constructor(private readonly deps: ClaimDeps) {
    this.#board = new LeaseBoard(deps.leases, {
      filter: "prices.>",
      ttlMs: LEASE_TTL_MS,
      log: deps.log,
      nc: deps.nc,
    });
    // Each instance tries the credentials from its own starting point, so several starting at
    // once spread over the keys instead of all racing for the first.
    const offset = Math.floor(Math.random() * Math.max(1, deps.credentials.length));
    const ordered = [...deps.credentials.slice(offset), ...deps.credentials.slice(0, offset)];
    this.#shardLeases = ordered.map((credential) => {
      const key = kvKeys.shardLease(credential.shard);
      return { credential, key, lease: this.#lease(key, () => deps.shardInfo(credential)) };
    });
    this.#pollerLease = this.#lease(kvKeys.pollerLease, () => ({}));
  }

  #lease(key: string, info: () => Record<string, unknown>): Lease {
    const { leases, instance, log } = this.deps;
    return new Lease({
      kv: leases,
      board: this.#board,
      key,
      holder: instance,
      ttlMs: LEASE_TTL_MS,
      info,
      log,
    });
  }

  /** The shard this instance streams, or null (a standby). */
  heldShard(): string | null {
    return this.#shardLeases.find((s) => s.lease.held)?.credential.shard ?? null;
  }

  async start(): Promise<void> {
    await this.#board.start();
    for (const { credential, lease } of this.#shardLeases) {
      lease.onChange((held) =>
        this.#follow(lease, held, this.deps.shard(credential), credential.shard)
      );
    }
    this.#pollerLease.onChange((held) =>
      this.#follow(this.#pollerLease, held, this.deps.poller, "poller")
    );
    await this.#contend();
    this.#timer = setInterval(() => void this.#contend(), CONTEND_EVERY_MS);
  }

  #follow(lease: Lease, held: boolean, work: Work, what: string): void {
    const { log } = this.deps;
    if (held && !this.#running.has(lease)) {
      log.info("claimed", { work: what === "poller" ? "poller" : "shard", shard: what });
      const started = work();
      this.#running.set(lease, started);
      started.catch((e) => {
        log.error("starting work failed; releasing it", { shard: what, error: e });
        this.#running.delete(lease);
        void lease.release();
      });
    } else if (!held && this.#running.has(lease)) {
      log.warn("lease lost; stopping", { shard: what });
      const started = this.#running.get(lease)!;
      this.#running.delete(lease);
      void started.then((stop) => stop()).catch(() => {});
    }
    shardGauge.set(this.heldShard() ? 1 : 0);
  }

  async #contend(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      if (!this.heldShard()) {
        for (const { key, lease } of this.#shardLeases) {
          if (!this.#board.expired(key)) continue;
          if (await lease.tryAcquire()) break;
        }
      }
      if (!this.#pollerLease.held && this.#board.expired(kvKeys.pollerLease)) {
        await this.#pollerLease.tryAcquire();
      }
    } catch (e) {
      this.deps.log.debug("contending failed", { error: e });
    } finally {
      this.#busy = false;
    }
  }

  /** Stops everything and releases the leases, so standbys take over at once. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    for (const [lease, started] of this.#running) {
      this.#running.delete(lease);
      await (await started.catch(() => async () => {}))();
    }
    for (const { lease } of this.#shardLeases) if (lease.held) await lease.release();
    if (this.#pollerLease.held) await this.#pollerLease.release();
    this.#board.stop();
  }
}
