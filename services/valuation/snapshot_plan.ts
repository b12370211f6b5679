/**
 * Which value points a snapshot round records. Pure: the recorder (snapshots.ts) supplies the
 * values and the time, writes what this returns, and reports back what it wrote.
 *
 * - Intraday: one point per portfolio and per account each round, stamped with the round's
 *   time (a multiple of the interval, so a restarted or second instance writes the same
 *   times), and only for portfolios whose total moved since their last point ("while prices
 *   move").
 * - Daily: once the market has closed on a weekday, one point per portfolio and account,
 *   stamped with the close (16:00 New York); the first value after the close stands.
 * - A value with amounts it could not convert to the base currency is not recorded: its total
 *   leaves part of the portfolio out, and a chart would show a fall that did not happen.
 * @module
 */
import type { PortfolioValue } from "@meridian/proto";
import { closeDue, marketClose, type ValuePoint } from "@meridian/portfolio/history";

/** The round at or before `now`: a multiple of the interval. */
export function roundTime(now: number, intervalMs: number): Date {
  return new Date(Math.floor(now / intervalMs) * intervalMs);
}

/** The points of one value at `at`: its total and each account's value; null if incomplete. */
export function pointsOf(value: PortfolioValue, at: Date): ValuePoint[] | null {
  if (value.fx.unconverted.length > 0) return null;
  const currency = value.currency;
  return [
    { user_id: value.user_id, account_id: null, at, value: value.total, currency },
    ...value.accounts.map((a) => ({
      user_id: value.user_id,
      account_id: a.account_id,
      at,
      value: a.value,
      currency,
    })),
  ];
}

/** What a round writes. */
export interface SnapshotRound {
  at: Date;
  intraday: ValuePoint[];
  daily: ValuePoint[];
  /** Per user: the total recorded, and the day closed (if any), once the round is written. */
  recorded: Map<string, { total: string; closed: string | null }>;
}

/** Remembers what was recorded, to plan the next round. */
export class SnapshotPlanner {
  readonly #lastTotal = new Map<string, string>();
  readonly #closed = new Map<string, string>();

  /** The round at `at` for `values` (the portfolios valued here). */
  plan(values: Iterable<PortfolioValue>, at: Date): SnapshotRound {
    const round: SnapshotRound = { at, intraday: [], daily: [], recorded: new Map() };
    const day = closeDue(at);
    for (const value of values) {
      const points = pointsOf(value, at);
      if (!points) continue;
      const user = value.user_id;
      const moved = this.#lastTotal.get(user) !== value.total;
      const closes = day !== null && this.#closed.get(user) !== day;
      if (!moved && !closes) continue;
      if (moved) round.intraday.push(...points);
      if (closes) {
        const close = marketClose(day);
        round.daily.push(...points.map((p) => ({ ...p, at: close })));
      }
      round.recorded.set(user, { total: value.total, closed: closes ? day : null });
    }
    return round;
  }

  /** The round was written. */
  committed(round: SnapshotRound): void {
    for (const [user, r] of round.recorded) {
      this.#lastTotal.set(user, r.total);
      if (r.closed) this.#closed.set(user, r.closed);
    }
  }

  /** The user is no longer valued here. */
  forget(user: string): void {
    this.#lastTotal.delete(user);
    this.#closed.delete(user);
  }
}
