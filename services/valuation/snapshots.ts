/**
 * The snapshot recorder: every `SNAPSHOT_INTRADAY_S` (on the interval's boundaries) it records
 * the portfolios this instance values, as snapshot_plan.ts decides, into `value_history`; every
 * hour it thins intraday points older than `SNAPSHOT_INTRADAY_DAYS` to hourly.
 * @module
 */
import { setImmediate } from "node:timers";
import type { PortfolioValue } from "@meridian/proto";
import { addDays, nyDay, recordPoints, thinIntraday } from "@meridian/portfolio/history";
import { counter, histogram, type Logger, type Sql } from "@meridian/runtime";
import { roundTime, SnapshotPlanner, type SnapshotRound } from "./snapshot_plan.ts";

const pointsTotal = counter(
  "meridian_valuation_snapshot_points_total",
  "Value history points written",
  ["kind"],
);
const roundSeconds = histogram(
  "meridian_valuation_snapshot_round_seconds",
  "Time to collect and write one snapshot round",
);

const THIN_EVERY_MS = 3_600_000;
/** Portfolios encoded between yields, so a round never holds up the ticks for long. */
const CHUNK = 250;

/** Where the recorder reads the current values. */
export interface ValueSource {
  userIds(): string[];
  /** The user's current value as JSON, or null when not valued here. */
  currentValue(userId: string, now: number): string | null;
}

/** What the recorder needs. */
export interface SnapshotDeps {
  sql: Sql;
  log: Logger;
  source: ValueSource;
  intervalMs: number;
  intradayDays: number;
  now?: () => number;
}

/** Collects the current values, yielding to the event loop between chunks. */
async function collect(source: ValueSource, now: number): Promise<PortfolioValue[]> {
  const out: PortfolioValue[] = [];
  const ids = source.userIds();
  for (let i = 0; i < ids.length; i += CHUNK) {
    for (const id of ids.slice(i, i + CHUNK)) {
      const json = source.currentValue(id, now);
      if (json !== null) out.push(JSON.parse(json) as PortfolioValue);
    }
    if (i + CHUNK < ids.length) await new Promise((r) => setImmediate(r));
  }
  return out;
}

/** Writes one planned round. */
export async function writeRound(sql: Sql, round: SnapshotRound): Promise<void> {
  const intraday = await recordPoints(sql, "intraday", round.intraday);
  const daily = await recordPoints(sql, "daily", round.daily);
  pointsTotal.inc({ kind: "intraday" }, intraday);
  pointsTotal.inc({ kind: "daily" }, daily);
}

/** The recorder: records one round per interval; `stop` waits for a round in progress. */
export class SnapshotRecorder {
  readonly #planner = new SnapshotPlanner();
  readonly #now: () => number;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #running: Promise<void> = Promise.resolve();
  #lastThin = -Infinity;
  #stopped = false;

  constructor(private readonly deps: SnapshotDeps) {
    this.#now = deps.now ?? Date.now;
  }

  /** Schedules the rounds: the first at the next boundary. */
  start(): void {
    this.#schedule();
  }

  /** The user is no longer valued here. */
  forget(user: string): void {
    this.#planner.forget(user);
  }

  /** Records the round at `now`'s boundary (also what the timer calls). */
  async recordRound(): Promise<SnapshotRound> {
    const now = this.#now();
    const end = roundSeconds.startTimer();
    const values = await collect(this.deps.source, now);
    const round = this.#planner.plan(values, roundTime(now, this.deps.intervalMs));
    await writeRound(this.deps.sql, round);
    this.#planner.committed(round);
    end();
    if (now - this.#lastThin >= THIN_EVERY_MS) {
      this.#lastThin = now;
      const before = addDays(nyDay(now), -this.deps.intradayDays);
      const thinned = await thinIntraday(this.deps.sql, before);
      if (thinned) this.deps.log.info("intraday history thinned to hourly", { before, thinned });
    }
    return round;
  }

  #schedule(): void {
    if (this.#stopped) return;
    const interval = this.deps.intervalMs;
    // Just past the boundary: a timer that fires a little early must not plan the round before.
    const wait = interval - (this.#now() % interval) + 5;
    this.#timer = setTimeout(() => {
      this.#running = this.recordRound()
        .then(() => {})
        .catch((e) =>
          this.deps.log.warn("recording value history failed; the next round retries", {
            error: e,
          })
        )
        .finally(() => this.#schedule());
    }, wait);
  }

  /** Stops the rounds. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
  }
}
