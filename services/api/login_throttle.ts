/**
 * Sign-in and sign-up throttling in PostgreSQL, so every api instance shares it and parallel
 * attempts cannot race it: an attempt claims its slot (one locked upsert) before the password
 * is checked, and a successful sign-in gives the claim back.
 *
 * - Per address: at most `addressMax` attempts (sign-ins and sign-ups) per window.
 * - Per account and address: after `freeFailures` wrong passwords, each further attempt
 *   waits twice as long as the one before (1 s, 2 s, 4 s … up to `maxDelayS`). Nobody else's
 *   failures ever delay an account's owner at their own address: no lockout to weaponise.
 * @module
 */
import { createHash } from "node:crypto";
import type { Sql } from "@meridian/runtime";

/** The throttle's numbers. */
export interface ThrottlePolicy {
  /** Wrong passwords of one account from one address before delays begin. */
  freeFailures: number;
  /** The longest delay between two attempts of one account from one address. */
  maxDelayS: number;
  /** Failures older than this are forgotten. */
  forgetAfterS: number;
  /** Attempts from one address per window. */
  addressMax: number;
  addressWindowS: number;
}

/** The defaults (README, "Security"). */
export const DEFAULT_POLICY: ThrottlePolicy = {
  freeFailures: 5,
  maxDelayS: 15 * 60,
  forgetAfterS: 24 * 3600,
  addressMax: 30,
  addressWindowS: 15 * 60,
};

/** Seconds to wait after the `failures`-th consecutive failure before the next attempt. */
export function delayAfter(failures: number, p: ThrottlePolicy): number {
  if (failures < p.freeFailures) return 0;
  return Math.min(p.maxDelayS, 2 ** (failures - p.freeFailures));
}

/** An attempt that may go ahead, or how long to wait. */
export type Claim = { ok: true } | { ok: false; retryAfterS: number };

function keyOf(kind: "address" | "pair", value: string): string {
  return createHash("sha256").update(`${kind}:${value}`).digest("hex");
}

function waitUntil(at: Date, now: Date): number {
  return Math.max(1, Math.ceil((at.getTime() - now.getTime()) / 1000));
}

/** The throttle over the `auth_throttle` table. */
export class LoginThrottle {
  #lastPrune = 0;

  constructor(
    private readonly sql: Sql,
    readonly policy: ThrottlePolicy = DEFAULT_POLICY,
  ) {}

  /** Claims one attempt from `address` (none when the address is unknown). */
  async claimAddress(address: string | null, now: Date): Promise<Claim> {
    if (address === null) return { ok: true };
    await this.#prune(now);
    const p = this.policy;
    const key = keyOf("address", address);
    const windowStart = new Date(now.getTime() - p.addressWindowS * 1000);
    const [row] = await this.sql<{ hits: number }[]>`
      insert into auth_throttle as t (key, hits, since, next_allowed_at)
      values (${key}, 1, ${now}, ${now})
      on conflict (key) do update set
        hits = case when t.since <= ${windowStart} then 1 else t.hits + 1 end,
        since = case when t.since <= ${windowStart} then ${now} else t.since end
      where t.since <= ${windowStart} or t.hits < ${p.addressMax}
      returning hits`;
    if (row) return { ok: true };
    const [held] = await this.sql<{ since: Date }[]>`
      select since from auth_throttle where key = ${key}`;
    const ends = new Date((held?.since ?? now).getTime() + p.addressWindowS * 1000);
    return { ok: false, retryAfterS: waitUntil(ends, now) };
  }

  /**
   * Claims one sign-in attempt of `account` from `address`, counted as a failure until
   * {@link succeeded} gives it back.
   */
  async claimSignIn(account: string, address: string | null, now: Date): Promise<Claim> {
    const p = this.policy;
    const key = keyOf("pair", `${account}|${address ?? "unknown"}`);
    const forgotten = new Date(now.getTime() - p.forgetAfterS * 1000);
    // The delay after this failure, from the failure count it is about to reach (`$hits`).
    const hits = this.sql`(case when t.since <= ${forgotten} then 1 else t.hits + 1 end)`;
    const [row] = await this.sql<{ hits: number }[]>`
      insert into auth_throttle as t (key, hits, since, next_allowed_at)
      values (${key}, 1, ${now}, ${new Date(now.getTime() + delayAfter(1, p) * 1000)})
      on conflict (key) do update set
        hits = ${hits},
        since = ${now},
        next_allowed_at = ${now}::timestamptz + make_interval(secs => case
          when ${hits} < ${p.freeFailures} then 0
          else least(${p.maxDelayS}::float8, power(2, ${hits} - ${p.freeFailures}))
        end)
      where t.next_allowed_at <= ${now}
      returning hits`;
    if (row) return { ok: true };
    const [held] = await this.sql<{ next_allowed_at: Date }[]>`
      select next_allowed_at from auth_throttle where key = ${key}`;
    return { ok: false, retryAfterS: waitUntil(held?.next_allowed_at ?? now, now) };
  }

  /** The attempt was right: its account's failures from that address are forgotten. */
  async succeeded(account: string, address: string | null): Promise<void> {
    await this.sql`
      delete from auth_throttle where key = ${keyOf("pair", `${account}|${address ?? "unknown"}`)}`;
  }

  /** Drops rows nothing reads any more, at most once an hour. */
  async #prune(now: Date): Promise<void> {
    if (now.getTime() - this.#lastPrune < 3_600_000) return;
    this.#lastPrune = now.getTime();
    const horizon = Math.max(this.policy.forgetAfterS, this.policy.addressWindowS);
    await this.sql`
      delete from auth_throttle
       where since < ${new Date(now.getTime() - horizon * 1000)} and next_allowed_at < ${now}`;
  }
}
