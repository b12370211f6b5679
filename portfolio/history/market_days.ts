/**
 * New York market days: the calendar value history is kept on. A day is `YYYY-MM-DD` in
 * America/New_York; the US equity market closes at 16:00 there. Holidays are not modelled: a
 * holiday is a weekday without a recorded close (nothing is drawn for it).
 * @module
 */
import { TZDate, tzOffset } from "@date-fns/tz";

const NY = "America/New_York";
const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/**
 * New York's UTC offset (ms) by UTC hour: its changes fall on whole UTC hours, and a read of a
 * month's points asks for thousands of instants in a few hundred hours.
 */
const offsets = new Map<number, number>();

function nyOffsetMs(ms: number): number {
  const hour = Math.floor(ms / HOUR_MS);
  let offset = offsets.get(hour);
  if (offset === undefined) {
    if (offsets.size > 50_000) offsets.clear();
    offset = tzOffset(NY, new Date(hour * HOUR_MS)) * 60_000;
    offsets.set(hour, offset);
  }
  return offset;
}

/** The New York day of each UTC hour asked about: a day changes only on a whole UTC hour. */
const days = new Map<number, string>();

/** The New York calendar day of an instant. */
export function nyDay(at: Date | number): string {
  const ms = typeof at === "number" ? at : at.getTime();
  const hour = Math.floor(ms / HOUR_MS);
  let day = days.get(hour);
  if (day === undefined) {
    if (days.size > 50_000) days.clear();
    day = new Date(ms + nyOffsetMs(ms)).toISOString().slice(0, 10);
    days.set(hour, day);
  }
  return day;
}

/** The New York hour (0–23) of an instant. */
export function nyHour(at: Date | number): number {
  const ms = typeof at === "number" ? at : at.getTime();
  return new Date(ms + nyOffsetMs(ms)).getUTCHours();
}

/** The instant of `hour:minute` New York time on `day`. */
export function nyInstant(day: string, hour: number, minute = 0): Date {
  const [y, m, d] = day.split("-").map(Number);
  return new Date(new TZDate(y, m - 1, d, hour, minute, NY).getTime());
}

const closes = new Map<string, number>();

/** The market's close (16:00 New York) on `day`: the time a daily point is stamped with. */
export function marketClose(day: string): Date {
  let ms = closes.get(day);
  if (ms === undefined) {
    if (closes.size > 50_000) closes.clear();
    ms = nyInstant(day, 16).getTime();
    closes.set(day, ms);
  }
  return new Date(ms);
}

/** Whether `day` is a weekday. */
export function isWeekday(day: string): boolean {
  const w = new Date(`${day}T12:00:00Z`).getUTCDay();
  return w !== 0 && w !== 6;
}

/** `day` moved by `n` calendar days. */
export function addDays(day: string, n: number): string {
  return new Date(Date.parse(`${day}T12:00:00Z`) + n * DAY_MS).toISOString().slice(0, 10);
}

/** The weekdays from `from` to `to`, both included, ascending. */
export function weekdaysBetween(from: string, to: string): string[] {
  const out: string[] = [];
  for (let d = from; d <= to; d = addDays(d, 1)) if (isWeekday(d)) out.push(d);
  return out;
}

/** The first day of `day`'s month. */
export function monthStart(day: string): string {
  return `${day.slice(0, 7)}-01`;
}

/**
 * The New York day whose daily close is due at `at`: today once the market has closed on a
 * weekday, otherwise none.
 */
export function closeDue(at: Date): string | null {
  const day = nyDay(at);
  return isWeekday(day) && at.getTime() >= marketClose(day).getTime() ? day : null;
}
