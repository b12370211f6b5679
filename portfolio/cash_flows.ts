/**
 * What the normalised transactions (the `transactions` table) say about a scope, in its base
 * currency: external cash flows for the returns, net contributions, income, fees and
 * realised P/L (average cost). Pure and browser-safe: imports `exact.ts` and types only.
 *
 * Sign convention of `amount` (services/sync/normalise/model.ts): positive means cash came
 * into the account (sell, dividend, deposit), negative means it left (buy, fee, withdrawal).
 * Amounts are converted with the caller's `convert` at each transaction's trade date; an
 * amount without a rate is listed in `unconverted` and left out, never guessed. Sums are
 * exact; a figure that went through an average-cost division is rounded half-up to 10
 * places. Formulas for the dashboard: `FORMULAS` in `returns.ts`.
 * @module
 */
import type { TRANSACTION_TYPES } from "@meridian/proto";
import { decimalString, Exact } from "./exact.ts";
import { type CashFlow, dayStartMs } from "./returns.ts";

/** One of the transaction types (`transactions.type`). */
export type TransactionKind = typeof TRANSACTION_TYPES[number];

/** A transaction as the api reads it: decimals as strings, nullable where the table is. */
export interface Transaction {
  type: TransactionKind;
  symbol: string | null;
  quantity: string | null;
  price: string | null;
  amount: string;
  fee: string | null;
  currency: string;
  /** YYYY-MM-DD */
  trade_date: string;
  /** When given, average cost is kept per account and symbol; otherwise per symbol. */
  account_id?: string | null;
}

/**
 * `amount` of `currency` in the base currency at `day`'s rate, as a decimal string; null when
 * there is no rate.
 */
export type Convert = (amount: string, currency: string, day: string) => string | null;

/** A transaction whose value cannot be told from its fields. */
export interface Unexplained {
  day: string;
  symbol: string | null;
  reason: string;
}

/** An amount left out because `convert` had no rate for it. */
export interface Unconverted {
  day: string;
  type: TransactionKind;
  symbol: string | null;
  amount: string;
  currency: string;
}

/** {@link externalFlows}' answer. */
export interface ExternalFlows {
  /** Net flow per day in the base currency, by day; days that net to zero are left out. */
  flows: CashFlow[];
  unexplained: Unexplained[];
  unconverted: Unconverted[];
}

/** {@link summarise}' answer: decimal strings in the base currency. */
export interface Summary {
  net_contributions: string;
  income: string;
  dividends: string;
  interest: string;
  fees: string;
  realized_pl: string;
  /** Proceeds of the units sold whose cost is known: the sales `realized_pl` covers. */
  realized_covered: string;
  /** Proceeds of the units sold that no earlier purchase explains: not in `realized_pl`. */
  realized_uncovered: string;
  unexplained: Unexplained[];
  unconverted: Unconverted[];
}

/** Income of one month in the base currency. */
export interface MonthIncome {
  /** YYYY-MM */
  month: string;
  dividends: string;
  interest: string;
  total: string;
}

/** {@link incomeByMonth}' answer. */
export interface IncomeByMonth {
  /** Months with income, oldest first. */
  months: MonthIncome[];
  unexplained: Unexplained[];
  unconverted: Unconverted[];
}

const ZERO = new Exact(0);

/** Money out: exact sums stay as they are; quotients are rounded half-up to 10 places. */
function money(x: Exact): string {
  return decimalString(x.toDecimalPlaces(10));
}

/** Converts to the base currency, listing each transaction with an amount that has no rate once. */
class ToBase {
  readonly unconverted: Unconverted[] = [];
  readonly #listed = new Set<Transaction>();
  constructor(private readonly convert: Convert) {}

  of(t: Transaction, amount: Exact): Exact | null {
    const value = this.convert(decimalString(amount), t.currency, t.trade_date);
    if (value !== null) return new Exact(value);
    if (this.#listed.has(t)) return null;
    this.#listed.add(t);
    this.unconverted.push({
      day: t.trade_date,
      type: t.type,
      symbol: t.symbol,
      amount: decimalString(amount),
      currency: t.currency,
    });
    return null;
  }
}

const EXTERNAL: ReadonlySet<TransactionKind> = new Set(["contribution", "withdrawal", "transfer"]);

/** The units a transaction moves (a symbol and a non-zero quantity), else null. */
function unitsOf(t: Transaction): Exact | null {
  if (t.symbol === null || t.quantity === null) return null;
  const q = new Exact(t.quantity);
  return q.isZero() ? null : q;
}

/**
 * The signed value of an external flow in its own currency (contribution, withdrawal or
 * transfer): its amount; when the amount is zero and units moved in kind, units × price,
 * into the account for a contribution, out for a withdrawal, and by the quantity's sign for a
 * transfer. A string says why there is none (units and no price); zero = nothing moved.
 */
function flowValue(t: Transaction): Exact | string {
  const amount = new Exact(t.amount);
  if (!amount.isZero()) return amount;
  const units = unitsOf(t);
  if (units === null) return ZERO;
  if (t.price === null) return `${t.type} of units without an amount or a price`;
  const value = units.abs().times(t.price);
  return movesIn(t, units) ? value : value.negated();
}

/** Whether an external flow of units with no amount comes into the account. */
function movesIn(t: Transaction, units: Exact): boolean {
  return t.type === "contribution" || (t.type === "transfer" && units.isPositive());
}

/**
 * External cash flows by day in the base currency, for the returns: contributions,
 * withdrawals and transfers at their amount (positive = the owner put money in), or, for
 * units moved without an amount, at units × price (see {@link flowValue}); units moved with
 * neither an amount nor a price are listed in `unexplained`.
 */
export function externalFlows(txns: readonly Transaction[], convert: Convert): ExternalFlows {
  const toBase = new ToBase(convert);
  const unexplained: Unexplained[] = [];
  return {
    flows: flowsByDay(txns, toBase, unexplained),
    unexplained,
    unconverted: toBase.unconverted,
  };
}

function flowsByDay(
  txns: readonly Transaction[],
  toBase: ToBase,
  unexplained: Unexplained[],
): CashFlow[] {
  const byDay = new Map<string, Exact>();
  for (const t of txns) {
    if (!EXTERNAL.has(t.type)) continue;
    const value = flowValue(t);
    if (typeof value === "string") {
      unexplained.push({ day: t.trade_date, symbol: t.symbol, reason: value });
      continue;
    }
    if (value.isZero()) continue;
    const base = toBase.of(t, value);
    if (base !== null) byDay.set(t.trade_date, (byDay.get(t.trade_date) ?? ZERO).plus(base));
  }
  return [...byDay]
    .filter(([, amount]) => !amount.isZero())
    .sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0)
    .map(([day, amount]) => ({ day, amount: decimalString(amount) }));
}

/**
 * The income a transaction brings in its own currency: a dividend's or interest's amount
 * (a negative one is a reversal), and the dividend of a reinvestment that books both legs in
 * one row (amount zero: units × price). A reinvestment with an amount is the purchase paid
 * from cash; its dividend is a row of its own, so it is not counted twice.
 */
function incomeOf(
  t: Transaction,
): { kind: "dividends" | "interest"; value: Exact } | string | null {
  if (t.type === "dividend") return { kind: "dividends", value: new Exact(t.amount) };
  if (t.type === "interest") return { kind: "interest", value: new Exact(t.amount) };
  if (t.type !== "reinvestment" || !new Exact(t.amount).isZero()) return null;
  const units = unitsOf(t);
  if (units === null) return null;
  if (t.price === null) return "reinvested dividend without an amount or a price";
  return { kind: "dividends", value: units.abs().times(t.price) };
}

/** Fees of a transaction in its own currency: a fee row's cost, else its `fee` column. */
function feeOf(t: Transaction): Exact {
  if (t.type === "fee") return new Exact(t.amount).negated();
  return t.fee === null ? ZERO : new Exact(t.fee).abs();
}

/** Units held of one symbol (in one account) and what they cost in the base currency. */
interface Pool {
  units: Exact;
  cost: Exact;
  /** False once units of unknown cost joined: the average is unknown until all are gone. */
  known: boolean;
}

/** Units into or out of a holding, and the cash value of the move in its own currency. */
interface Move {
  inward: boolean;
  units: Exact;
  value: Exact | null;
  sale: boolean;
}

/**
 * How a transaction moves units: buys and reinvestments in (cost = −amount, or units ×
 * price when the amount is zero), sales out (proceeds = amount, or units × price), external
 * flows of units in or out at their flow value. Quantities count by absolute value, since
 * providers sign sold quantities differently.
 */
function moveOf(t: Transaction): Move | null {
  const units = unitsOf(t);
  if (units === null) return null;
  const amount = new Exact(t.amount);
  const atPrice = t.price === null ? null : units.abs().times(t.price);
  if (t.type === "buy" || t.type === "reinvestment") {
    return {
      inward: true,
      units: units.abs(),
      value: amount.isZero() ? atPrice : amount.negated(),
      sale: false,
    };
  }
  if (t.type === "sell") {
    return {
      inward: false,
      units: units.abs(),
      value: amount.isZero() ? atPrice : amount,
      sale: true,
    };
  }
  if (!EXTERNAL.has(t.type)) return null;
  const value = flowValue(t);
  if (typeof value === "string") {
    return { inward: movesIn(t, units), units: units.abs(), value: null, sale: false };
  }
  return { inward: value.isPositive(), units: units.abs(), value: value.abs(), sale: false };
}

interface Realised {
  pl: Exact;
  covered: Exact;
  uncovered: Exact;
}

/**
 * Realised P/L by the average-cost method over every transaction up to `to`; sales dated in
 * [from, to] count.
 *
 * Formula. Per holding (account and symbol), in trade-date order with a day's acquisitions
 * before its disposals: an acquisition adds its units and their cost (base currency at its
 * date); a disposal of u units out of U held at total cost C takes out cost C × u ÷ U. A
 * sale's realised P/L = proceeds − C × u ÷ U (proceeds in the base currency at the sale's
 * date, so FX moves are part of it). Units sold beyond those held, or while the holding
 * contains units of unknown cost (a transfer in without a price, an amount without a rate),
 * have no known cost: their share of the proceeds is `uncovered` and left out of the P/L.
 * Short sales are therefore uncovered, and splits (reported as "other") are not applied.
 * Trades without a symbol or quantity move no units: a sale without one is listed in
 * `unexplained` by {@link summarise}.
 */
function realise(
  txns: readonly Transaction[],
  from: string | null,
  to: string | null,
  toBase: ToBase,
  unexplained: Unexplained[],
): Realised {
  const moves = txns
    .filter((t) => to === null || t.trade_date <= to)
    .map((t) => ({ t, move: moveOf(t) }))
    .filter((m): m is { t: Transaction; move: Move } => m.move !== null)
    .sort((a, b) =>
      a.t.trade_date < b.t.trade_date
        ? -1
        : a.t.trade_date > b.t.trade_date
        ? 1
        : Number(b.move.inward) - Number(a.move.inward)
    );
  const pools = new Map<string, Pool>();
  const out: Realised = { pl: ZERO, covered: ZERO, uncovered: ZERO };
  for (const { t, move } of moves) {
    const key = `${t.account_id ?? ""}\u0000${t.symbol}`;
    const pool = pools.get(key) ?? { units: ZERO, cost: ZERO, known: true };
    pools.set(key, pool);
    if (move.inward) {
      const cost = move.value === null ? null : toBase.of(t, move.value);
      pool.units = pool.units.plus(move.units);
      if (cost === null) pool.known = false;
      else pool.cost = pool.cost.plus(cost);
      continue;
    }
    const held = Exact.max(pool.units, ZERO);
    const matched = Exact.min(move.units, held);
    const costOut = held.isZero() ? ZERO : pool.cost.times(matched).div(held);
    if (move.sale && (from === null || t.trade_date >= from)) {
      if (move.value === null) {
        unexplained.push({
          day: t.trade_date,
          symbol: t.symbol,
          reason: "sale without an amount or a price",
        });
      } else {
        const proceeds = toBase.of(t, move.value);
        if (proceeds !== null) {
          const coveredUnits = pool.known ? matched : ZERO;
          const covered = proceeds.times(coveredUnits).div(move.units);
          if (pool.known && !matched.isZero()) out.pl = out.pl.plus(covered).minus(costOut);
          out.covered = out.covered.plus(covered);
          out.uncovered = out.uncovered.plus(proceeds.minus(covered));
        }
      }
    }
    pool.units = pool.units.minus(matched);
    pool.cost = pool.cost.minus(costOut);
    if (pool.units.isZero()) pools.delete(key);
  }
  return out;
}

function checkRange(from: string | null, to: string | null): void {
  if (from !== null) dayStartMs(from);
  if (to !== null) dayStartMs(to);
}

/**
 * Totals of a scope over the days [from, to] (YYYY-MM-DD, inclusive; null = unbounded), in
 * the base currency:
 * - net_contributions = Σ external flows (contributions + transfers in − withdrawals −
 *   transfers out, see {@link externalFlows});
 * - dividends = Σ dividend amounts + reinvested dividends booked in one row;
 *   interest = Σ interest amounts; income = dividends + interest (taxes withheld are rows of
 *   their own and not subtracted);
 * - fees = Σ fee rows' cost (−amount) + Σ |fee column| of every other row (trades mostly);
 *   the fee column is informational: trade amounts already include it, so P/L is after fees;
 * - realized_pl, realized_covered, realized_uncovered by average cost (see `realise`), over
 *   every transaction up to `to`.
 */
export function summarise(
  txns: readonly Transaction[],
  from: string | null,
  to: string | null,
  convert: Convert,
): Summary {
  checkRange(from, to);
  const inRange = (t: Transaction) =>
    (from === null || t.trade_date >= from) && (to === null || t.trade_date <= to);
  const window = txns.filter(inRange);
  const toBase = new ToBase(convert);
  const unexplained: Unexplained[] = [];
  const flows = flowsByDay(window, toBase, unexplained);
  const sums = { dividends: ZERO, interest: ZERO, fees: ZERO };
  for (const t of window) {
    if (t.type === "sell" && unitsOf(t) === null) {
      unexplained.push({ day: t.trade_date, symbol: t.symbol, reason: "sale without a quantity" });
    }
    const income = incomeOf(t);
    if (typeof income === "string") {
      unexplained.push({ day: t.trade_date, symbol: t.symbol, reason: income });
    } else if (income !== null) {
      const base = toBase.of(t, income.value);
      if (base !== null) sums[income.kind] = sums[income.kind].plus(base);
    }
    const fee = feeOf(t);
    if (!fee.isZero()) {
      const base = toBase.of(t, fee);
      if (base !== null) sums.fees = sums.fees.plus(base);
    }
  }
  const realised = realise(txns, from, to, toBase, unexplained);
  return {
    net_contributions: money(flows.reduce((s, f) => s.plus(f.amount), ZERO)),
    income: money(sums.dividends.plus(sums.interest)),
    dividends: money(sums.dividends),
    interest: money(sums.interest),
    fees: money(sums.fees),
    realized_pl: money(realised.pl),
    realized_covered: money(realised.covered),
    realized_uncovered: money(realised.uncovered),
    unexplained,
    unconverted: toBase.unconverted,
  };
}

/**
 * Income per calendar month (of the trade date) in the base currency: dividends (reinvested
 * ones booked in one row included), interest, and total = dividends + interest. Months
 * without income are left out.
 */
export function incomeByMonth(txns: readonly Transaction[], convert: Convert): IncomeByMonth {
  const toBase = new ToBase(convert);
  const unexplained: Unexplained[] = [];
  const months = new Map<string, { dividends: Exact; interest: Exact }>();
  for (const t of txns) {
    const income = incomeOf(t);
    if (income === null) continue;
    if (typeof income === "string") {
      unexplained.push({ day: t.trade_date, symbol: t.symbol, reason: income });
      continue;
    }
    const base = toBase.of(t, income.value);
    if (base === null) continue;
    const month = t.trade_date.slice(0, 7);
    const sums = months.get(month) ?? { dividends: ZERO, interest: ZERO };
    sums[income.kind] = sums[income.kind].plus(base);
    months.set(month, sums);
  }
  return {
    months: [...months]
      .sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0)
      .map(([month, s]) => ({
        month,
        dividends: money(s.dividends),
        interest: money(s.interest),
        total: money(s.dividends.plus(s.interest)),
      })),
    unexplained,
    unconverted: toBase.unconverted,
  };
}
