/**
 * The market's session state and Alpaca's clock (`GET /v2/clock`). In the sandbox the market is
 * open at any hour, so the demo always moves; an admin switch closes it (equities then stop
 * trading on the stream; crypto trades around the clock).
 * @module
 */

const NY = "America/New_York";
const DAY_MS = 86_400_000;
// Made once: building a formatter costs far more than formatting (the bars format every day).
const offsetFormat = new Intl.DateTimeFormat("en-US", { timeZone: NY, timeZoneName: "longOffset" });
const dayFormat = new Intl.DateTimeFormat("en-CA", { timeZone: NY });

/** `±HH:MM`, New York's UTC offset at `ms`. */
function nyOffset(ms: number): string {
  const name = offsetFormat.formatToParts(ms).find((p) => p.type === "timeZoneName")?.value ??
    "GMT-05:00";
  return name === "GMT" ? "+00:00" : name.slice(3);
}

/** New York's calendar day (`YYYY-MM-DD`) at `ms`. */
export function nyDay(ms: number): string {
  return dayFormat.format(ms);
}

/** `ms` as Alpaca's clock writes it: New York local time with its offset. */
function nyIso(ms: number, withMillis: boolean): string {
  const off = nyOffset(ms);
  const sign = off.startsWith("-") ? -1 : 1;
  const minutes = sign * (Number(off.slice(1, 3)) * 60 + Number(off.slice(4, 6)));
  const local = new Date(ms + minutes * 60_000).toISOString(); // ISO text of the local wall-clock time
  return `${withMillis ? local.slice(0, 23) : local.slice(0, 19)}${off}`;
}

/** The instant of `hh:mm` New York time on `day` (`YYYY-MM-DD`). */
function nyAt(day: string, hhmm: string): number {
  const noon = Date.parse(`${day}T17:00:00Z`); // inside that day in New York all year
  return Date.parse(`${day}T${hhmm}:00${nyOffset(noon)}`);
}

/** The first weekday session (09:30–16:00 New York) whose `edge` lies after `ms`. */
function nextSession(ms: number, edge: "09:30" | "16:00"): { open: number; close: number } {
  for (let t = ms - DAY_MS;; t += DAY_MS) {
    const day = nyDay(t);
    const weekday = new Date(`${day}T12:00:00Z`).getUTCDay();
    if (weekday === 0 || weekday === 6) continue;
    const s = { open: nyAt(day, "09:30"), close: nyAt(day, "16:00") };
    if ((edge === "09:30" ? s.open : s.close) > ms) return s;
  }
}

/**
 * Midnight in New York, as Alpaca stamps daily bars (`2026-07-15T04:00:00Z`), of the day at `ms`
 * (`back` 0) or of the weekday `back` weekdays before it.
 */
export function dailyBarTime(ms: number, back: number): string {
  let day = nyDay(ms);
  for (let left = back; left > 0;) {
    day = new Date(Date.parse(`${day}T12:00:00Z`) - DAY_MS).toISOString().slice(0, 10);
    const weekday = new Date(`${day}T12:00:00Z`).getUTCDay();
    if (weekday !== 0 && weekday !== 6) left--;
  }
  return new Date(nyAt(day, "00:00")).toISOString().replace(".000Z", "Z");
}

/** Whether the simulated equity market is open, and the clock that reports it. */
export class Market {
  /** Open by default: the demo moves at any hour. */
  open = true;

  /** `GET /v2/clock`: `{timestamp, is_open, next_open, next_close}` in New York time. */
  clockJson(now: number): Record<string, unknown> {
    const nextOpen = nextSession(now, "09:30").open;
    const nextClose = this.open
      ? nextSession(now, "16:00").close
      : nextSession(nextOpen, "16:00").close;
    return {
      timestamp: nyIso(now, true),
      is_open: this.open,
      next_open: nyIso(nextOpen, false),
      next_close: nyIso(nextClose, false),
    };
  }
}
