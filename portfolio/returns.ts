/**
 * Returns of one scope (the whole portfolio or one account) in one currency: the
 * time-weighted return (TWR), XIRR and the money-weighted return (MWR). Pure and
 * browser-safe: imports nothing but `exact.ts`.
 *
 * Conventions shared by all three:
 * - An external cash flow `{day, amount}` is money the owner put in (positive) or took out
 *   (negative) on `day` (YYYY-MM-DD), and counts at the START of that day, 00:00 UTC: a flow on
 *   day D is already in every value recorded at or after D 00:00 UTC, and in none before. (D
 *   00:00 UTC falls after the New York close of D − 1 and before the open of D, summer or
 *   winter, so a flow on a US trade date lands between the right daily closes.)
 * - Results are fractions (0.0523 = 5.23 %) as decimal strings rounded half-up to 10 places.
 * @module
 */
import { decimalString, Exact } from "./exact.ts";

/** The value of a scope at one time, in its currency (a decimal string). */
export interface ValuePoint {
  time: Date | string;
  value: string;
}

/**
 * An external cash flow on a day (YYYY-MM-DD): positive = money the owner put in, negative =
 * money taken out. For {@link xirr} the sign is the investor's instead (see there).
 */
export interface CashFlow {
  day: string;
  amount: string;
}

/** {@link moneyWeightedReturn}: the return over the range itself and per year. */
export interface MoneyWeightedReturn {
  period: string | null;
  annualized: string | null;
}

/** Short plain-English formulas, for the dashboard's info buttons. */
export const FORMULAS = {
  twr: "Time-weighted return: the range is cut at every value point; each piece grows by " +
    "end value ÷ (start value + deposits − withdrawals of that piece), with a cash flow " +
    "counted at the start of its day. TWR = product of the pieces' growth − 1, so deposits and " +
    "withdrawals do not move it.",
  mwr: "Money-weighted return (XIRR): the yearly rate r at which the start value plus every " +
    "deposit minus every withdrawal, each grown at r until the end (Actual/365 day count), adds " +
    "up to the end value. Over the range: (1 + r)^(days ÷ 365) − 1.",
  pl: "Realised P/L (average cost): for each sale, proceeds − units sold × average cost per " +
    "unit held, where the average cost is what the units held cost (buys, reinvestments, " +
    "transfers in at their price), in the base currency at each trade's date. Sales that no " +
    "earlier purchase explains are left out and shown as uncovered. Unrealised P/L = value − " +
    "cost basis, over the positions whose brokerage reports a cost basis.",
  net_contributions: "Net contributions = deposits − withdrawals ± transfers in the range " +
    "(a transfer of securities counted at its price), in the base currency at each day's rate.",
  fees: "Fees = fee transactions plus the fees charged on trades in the range, in the base " +
    "currency at each day's rate.",
  income: "Income = dividends (reinvested ones included) + interest, in the base currency at " +
    "each payment's date; withheld taxes are not subtracted.",
} as const;

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const DAY_MS = 86_400_000;
const YEAR_MS = 365 * DAY_MS;

/**
 * Growth factors are linked to 40 significant digits: a ratio of two values has no finite
 * decimal form in general, and 40 digits keep the error after even a million links below
 * 10^-33, far under the 10 places returned, at a small part of the cost of 1,000 digits.
 */
const Link = Exact.clone({ precision: 40 });

/** Milliseconds of D 00:00 UTC for a day "YYYY-MM-DD"; throws for anything else. */
export function dayStartMs(day: string): number {
  const ms = DAY.test(day) ? Date.parse(`${day}T00:00:00Z`) : NaN;
  if (Number.isNaN(ms)) throw new RangeError(`not a day (YYYY-MM-DD): ${day}`);
  return ms;
}

function timeMs(time: Date | string): number {
  const ms = time instanceof Date ? time.getTime() : Date.parse(time);
  if (Number.isNaN(ms)) throw new RangeError(`not a time: ${String(time)}`);
  return ms;
}

/** A fraction rounded half-up to 10 places, as a canonical decimal string. */
function fraction(x: Exact | number): string | null {
  if (typeof x === "number" && !Number.isFinite(x)) return null;
  return decimalString(new Exact(x).toDecimalPlaces(10));
}

/**
 * The time-weighted return of a value series with its external cash flows; null when it is
 * undefined (fewer than two points, a piece with a non-positive denominator).
 *
 * Formula. The points V_0 … V_n (sorted by time t_0 … t_n) cut the range into pieces
 * (t_{i−1}, t_i]. F_i is the sum of the flows whose day starts (00:00 UTC) inside that piece,
 * so a flow belongs to the piece ending at the first point at or after its day's start; flows
 * whose day starts at or before t_0 are already in V_0, and flows after t_n are outside the
 * range. Each piece's return is r_i = V_i ÷ (V_{i−1} + F_i) − 1 (the flow is invested at the
 * piece's start), and TWR = (1 + r_1) × … × (1 + r_n) − 1.
 *
 * Empty stretches: a piece with V_{i−1} + F_i = 0 is skipped while nothing has been invested
 * yet, so the return starts at the first positive value (an account that was empty and then
 * funded); later, such a piece is skipped only when V_i is 0 too (the account stayed empty),
 * and otherwise (value out of nothing) the return is undefined.
 */
export function timeWeightedReturn(points: ValuePoint[], flows: CashFlow[]): string | null {
  const series = points
    .map((p) => ({ ms: timeMs(p.time), value: p.value }))
    .sort((a, b) => a.ms - b.ms);
  if (series.length < 2) return null;
  const inflow = new Map<number, Exact>();
  const first = series[0].ms;
  const last = series[series.length - 1].ms;
  for (const flow of flows) {
    const start = dayStartMs(flow.day);
    if (start <= first || start > last) continue;
    const i = firstAtOrAfter(series, start);
    inflow.set(i, (inflow.get(i) ?? new Exact(0)).plus(flow.amount));
  }
  // The product of the growth factors so far; null until the first piece that counts.
  const growth: { product: Exact | null } = { product: null };
  const link = (end: string | Exact, invested: string | Exact) => {
    growth.product = (growth.product ?? new Link(1)).times(new Link(end).div(invested));
  };
  // Pieces without a flow whose start value is positive telescope: their growth factors
  // multiply to V_b ÷ V_a, so a run of them costs one division, not one per point.
  let run: number | null = null;
  const endRun = (b: number) => {
    if (run !== null && b > run) link(series[b].value, series[run].value);
    run = null;
  };
  for (let i = 1; i < series.length; i++) {
    const flow = inflow.get(i);
    if (!flow && isPositive(series[i - 1].value)) {
      run ??= i - 1;
      continue;
    }
    endRun(i - 1);
    const end = new Exact(series[i].value);
    const invested = new Exact(series[i - 1].value).plus(flow ?? 0);
    if (invested.isZero() && (growth.product === null || end.isZero())) continue;
    if (invested.isNegative() || invested.isZero()) return null;
    link(end, invested);
  }
  endRun(series.length - 1);
  return growth.product === null ? null : fraction(growth.product.minus(1));
}

/** Whether a decimal string is above zero, read from its text. */
function isPositive(value: string): boolean {
  return !value.startsWith("-") && /[1-9]/.test(value);
}

/** Index of the first point at or after `ms` (one exists: `ms` ≤ the last point's time). */
function firstAtOrAfter(series: { ms: number }[], ms: number): number {
  let lo = 0;
  let hi = series.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (series[mid].ms < ms) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Excel's XIRR: the annual rate r with Σ a_k ÷ (1 + r)^((d_k − d_0) ÷ 365) = 0, where d_0 is
 * the earliest day (Actual/365). Investor's signs, as in Excel: money paid in is negative,
 * money received (and the final value) positive. Null when there is no root (no sign change
 * among the amounts, all on one day, or a rate beyond any float).
 *
 * Solved by Newton's method from Excel's guess of 10 %, falling back to bisection between
 * the bracketing rates nearest that guess, so it always converges when a root exists.
 * Computed in float64 (a rate is no amount of money); the result is rounded to 10 places.
 */
export function xirr(flows: CashFlow[]): string | null {
  if (flows.length === 0) return null;
  const dated = flows.map((f) => ({ ms: dayStartMs(f.day), amount: toNumber(f.amount) }));
  const start = Math.min(...dated.map((f) => f.ms));
  const span = Math.max(...dated.map((f) => f.ms)) - start;
  if (span === 0) return null;
  const log = solveLogGrowth(
    dated.map((f) => ({ at: (f.ms - start) / span, amount: f.amount })),
    Math.log(1.1) * (span / YEAR_MS),
  );
  return log === null ? null : fraction(Math.expm1(log * (YEAR_MS / span)));
}

/**
 * The money-weighted return of a scope between two times: the rate at which the start value
 * and the owner's flows grow into the end value.
 *
 * Formula. As XIRR cash flows (investor's signs): −startValue at startTime, −F for each
 * external flow F whose day starts inside (startTime, endTime] (at its day's start, as for
 * {@link timeWeightedReturn}; a deposit is money the investor pays in), +endValue at endTime.
 * annualized is their XIRR r (Actual/365, on the exact elapsed time, so intraday ranges have
 * fractional days); period = (1 + r)^(days ÷ 365) − 1 is the return over the range itself,
 * comparable with the TWR of the same range. With no flows, period = end ÷ start − 1, the TWR.
 * Both are null when no rate solves it; annualized alone when it exceeds any float (a big
 * move over a very short range).
 */
export function moneyWeightedReturn(
  startValue: string,
  endValue: string,
  startTime: Date | string,
  endTime: Date | string,
  flows: CashFlow[],
): MoneyWeightedReturn {
  const from = timeMs(startTime);
  const to = timeMs(endTime);
  if (to <= from) return { period: null, annualized: null };
  const cash = [{ at: 0, amount: -toNumber(startValue) }];
  for (const flow of flows) {
    const ms = dayStartMs(flow.day);
    if (ms > from && ms <= to) {
      cash.push({ at: (ms - from) / (to - from), amount: -toNumber(flow.amount) });
    }
  }
  cash.push({ at: 1, amount: toNumber(endValue) });
  const log = solveLogGrowth(cash, 0);
  if (log === null) return { period: null, annualized: null };
  return {
    period: fraction(Math.expm1(log)),
    annualized: fraction(Math.expm1(log * (YEAR_MS / (to - from)))),
  };
}

function toNumber(amount: string): number {
  const n = Number(new Exact(amount));
  if (!Number.isFinite(n)) throw new RangeError(`not a finite amount: ${amount}`);
  return n;
}

/** A cash flow at time `at`, as a fraction of the whole span (0 = start, 1 = end). */
interface SpanFlow {
  at: number;
  amount: number;
}

/** Largest |log growth| over the whole span searched: a factor of e^60 either way. */
const LOG_LIMIT = 60;
const SCAN_STEP = 0.25;
const TOLERANCE = 1e-14;

/**
 * The log growth u = ln(1 + rate over the whole span) with Σ amount × e^(−u × at) = 0, by
 * Newton's method from `guess`, else by bisection between the sign change nearest `guess`
 * on a scan of [−60, 60]; null when the amounts never change sign or no root is found.
 * Working in log space keeps the rate above −100 % without any clamping.
 */
function solveLogGrowth(flows: SpanFlow[], guess: number): number | null {
  const used = flows.filter((f) => f.amount !== 0);
  if (!used.some((f) => f.amount > 0) || !used.some((f) => f.amount < 0)) return null;
  const npv = (u: number) => used.reduce((s, f) => s + f.amount * Math.exp(-u * f.at), 0);
  const scale = (u: number) =>
    used.reduce((s, f) => s + Math.abs(f.amount * Math.exp(-u * f.at)), 0);
  const slope = (u: number) => used.reduce((s, f) => s - f.at * f.amount * Math.exp(-u * f.at), 0);
  let u = guess;
  for (let i = 0; i < 100; i++) {
    const d = slope(u);
    if (d === 0 || !Number.isFinite(d)) break;
    const next = u - npv(u) / d;
    if (!Number.isFinite(next) || Math.abs(next) > LOG_LIMIT) break;
    const settled = Math.abs(next - u) <= TOLERANCE * Math.max(1, Math.abs(next));
    if (settled && Math.abs(npv(next)) <= 1e-9 * scale(next)) return next;
    if (settled) break;
    u = next;
  }
  return bisect(npv, guess);
}

function bisect(npv: (u: number) => number, guess: number): number | null {
  let best: number | null = null;
  for (let lo = -LOG_LIMIT; lo < LOG_LIMIT; lo += SCAN_STEP) {
    if (Math.sign(npv(lo)) === Math.sign(npv(lo + SCAN_STEP))) continue;
    if (best === null || Math.abs(lo - guess) < Math.abs(best - guess)) best = lo;
  }
  if (best === null) return null;
  let lo = best;
  let hi = best + SCAN_STEP;
  if (npv(lo) === 0) return lo;
  const fLo = Math.sign(npv(lo));
  while (hi - lo > TOLERANCE * Math.max(1, Math.abs(lo))) {
    const mid = (lo + hi) / 2;
    if (mid === lo || mid === hi) break;
    const f = npv(mid);
    if (f === 0) return mid;
    if (Math.sign(f) === fLo) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}
