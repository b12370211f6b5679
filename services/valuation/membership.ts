/**
 * Which users this instance values. Every instance holds a lease of its own
 * (`valuation.member.<instance>`); the live leases are the members, and each user belongs to
 * the member that rendezvous hashing ranks first for them. So every instance computes the same
 * owner for a user without a leader, a member joining or leaving moves only the users it must,
 * and when an instance dies its lease stops being renewed and its users move within the lease's
 * time-to-live. An instance that cannot renew its own lease owns nothing (it fences itself).
 * @module
 */
import type { KV } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { kvKeys } from "@meridian/proto";
import { Lease, LeaseBoard, type Logger, score } from "@meridian/runtime";

/** A member lease's time-to-live: a dead instance's users move within about this. */
export const MEMBER_TTL_MS = 5_000;
const CONTEND_EVERY_MS = 500;

/** The member that owns `userId`: the highest rendezvous score, ties by id. */
export function ownerOf(userId: string, members: readonly string[]): string | null {
  let best: string | null = null;
  let bestScore = -1;
  for (const m of members) {
    const s = score(userId, m);
    if (s > bestScore || (s === bestScore && best !== null && m < best)) {
      best = m;
      bestScore = s;
    }
  }
  return best;
}

/** What a membership needs. */
export interface MembershipDeps {
  leases: KV;
  nc: NatsConnection;
  instance: string;
  log: Logger;
}

/** This instance's membership and the live member set. */
export class Membership {
  readonly #board: LeaseBoard;
  readonly #lease: Lease;
  readonly #listeners = new Set<() => void>();
  #members: string[] = [];
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly deps: MembershipDeps) {
    this.#board = new LeaseBoard(deps.leases, {
      filter: kvKeys.valuationMemberAll,
      ttlMs: MEMBER_TTL_MS,
      log: deps.log,
      nc: deps.nc,
    });
    this.#lease = new Lease({
      kv: deps.leases,
      board: this.#board,
      key: kvKeys.valuationMember(deps.instance),
      holder: deps.instance,
      ttlMs: MEMBER_TTL_MS,
      log: deps.log,
    });
  }

  /** Joins: resolves once the board is read and the first attempt at the lease is made. */
  async start(): Promise<void> {
    await this.#board.start();
    this.#board.onChange(() => this.#update());
    this.#lease.onChange(() => this.#update());
    await this.#lease.tryAcquire();
    this.#timer = setInterval(() => {
      if (!this.#lease.held) void this.#lease.tryAcquire();
    }, CONTEND_EVERY_MS);
    this.#update();
  }

  /** Leaves: the lease is deleted, so the others take this instance's users at once. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#lease.release();
    this.#board.stop();
  }

  /** The live members, sorted; empty while this instance does not hold its own lease. */
  get members(): readonly string[] {
    return this.#members;
  }

  /** True when this instance values `userId`. */
  owns(userId: string): boolean {
    return ownerOf(userId, this.#members) === this.deps.instance;
  }

  /** Calls `cb` whenever the member set changes. */
  onChange(cb: () => void): () => void {
    this.#listeners.add(cb);
    return () => this.#listeners.delete(cb);
  }

  #update(): void {
    const live = this.#lease.held
      ? [...this.#board.entries().values()].filter((e) => e.live).map((e) => e.record.holder)
      : [];
    if (this.#lease.held && !live.includes(this.deps.instance)) live.push(this.deps.instance);
    const members = [...new Set(live)].sort();
    if (members.join("\n") === this.#members.join("\n")) return;
    this.deps.log.info("valuation members changed", { members: members.length });
    this.#members = members;
    for (const cb of [...this.#listeners]) cb();
  }
}
