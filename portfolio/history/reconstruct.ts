/**
 * Reconstruction of an account's daily values from its transactions. Pure: the caller loads
 * the holdings and transactions, answers daily closes and exchange rates, and stores the result.
 *
 * The walk goes back from today's holdings: the holdings at the end of day D are today's
 * holdings minus the effect of every transaction dated after D (transactions dated after the
 * last day too). A transaction's effect:
 *
 * - cash: `amount` (positive = cash into the account) in the transaction's currency, whatever
 *   its type. `amount` is the whole cash effect: `fee` is already in it and is not applied again.
 * - buy and reinvestment add |quantity| of the symbol, sell removes |quantity| (providers sign a
 *   sale's quantity differently: Alpaca positive, SnapTrade and Plaid negative).
 * - transfer of a symbol, and `other` with a symbol and a quantity (splits, option expiries and
 *   assignments), change the holding by the quantity as signed (positive = into the account).
 * - dividend, interest, fee, contribution, withdrawal and tax move cash only (Alpaca gives a
 *   dividend the quantity held, which is not a change).
 *
 * A transaction's symbol becomes a holding by the same rules as positions' instruments
 * ({@link holdingKeys}). A day's value is, in the base currency, Σ quantity × multiplier ×
 * close(market symbol, day) plus Σ cash, each currency's total converted at that day's rate.
 * Cash equivalents (security_type `cash_equivalent`: money-market funds) without a close are
 * valued at their provider's price today (a stable NAV). Positions of security_type `cash` are
 * left out: cash is counted from the balances.
 *
 * Nothing is invented: a day whose value the walk cannot explain has a null value and a
 * reason a person can read — a security held that day without a close, a holding that goes
 * negative walking back (a sale the transactions do not show; options and securities held
 * short today may be negative), a buy, sell, reinvestment or transfer of a security without a
 * quantity (or a buy naming no security), no exchange rate for a currency that day. Once a
 * holding cannot be explained, every earlier day is unexplained too.
 * @module
 */
import type { SECURITY_TYPES } from "@meridian/proto";
import type { Transaction } from "../cash_flows.ts";
import { decimalString, Exact } from "../exact.ts";
import { canonicalCryptoPair, canonicalTicker, occSymbol } from "../instruments.ts";

/** One of today's positions of the account, as synced. Decimals are exact strings. */
export interface HeldPosition {
  /** The provider's symbol (`positions.symbol`). */
  symbol: string;
  /** Our market-data symbol (the instrument's symbol), or null when the position is unresolved. */
  market_symbol: string | null;
  security_type: typeof SECURITY_TYPES[number];
  quantity: string;
  /** Units per contract: options 100 unless `option_details` says otherwise, else 1. */
  multiplier: string;
  /** The provider's price today, or null. */
  price: string | null;
  currency: string;
}

/**
 * One transaction of the account (`transactions` columns, as the api reads them too), with its
 * id. `price` and `fee` are not read here (`amount` is the whole cash effect).
 */
export type AccountTransaction = Transaction & { id: string };

/** Cash of one currency. */
export interface CashAmount {
  currency: string;
  amount: string;
}

/** What a reconstruction reads. */
export interface ReconstructInput {
  /** The New York days to value (`YYYY-MM-DD`), ascending, ending today. */
  days: string[];
  /** Today's holdings of the account, as synced. */
  positions: HeldPosition[];
  /** Today's cash per currency. */
  cash: CashAmount[];
  /** The account's transactions, any dates: those dated after `days[0]` are walked back. */
  transactions: AccountTransaction[];
  /**
   * The close of a market symbol on a day (decimal string, in the instrument's currency): the
   * day's close, or the latest one before it where the market did not trade that day; null
   * when the provider has none.
   */
  close(marketSymbol: string, day: string): string | null;
  /** `amount` in `currency` converted to the base currency at `day`'s rate; null = no rate. */
  convert(amount: string, currency: string, day: string): string | null;
}

/** One day's reconstructed value. */
export interface ReconstructedDay {
  day: string;
  /** Decimal string in the base currency at the day's close; null when unexplained. */
  value: string | null;
  /** Why the value is null, for a person; null when there is a value. */
  reason: string | null;
}

/**
 * An account's holdings at the end of `day`: non-zero quantities by holding key (see
 * {@link holdingKeys}), non-zero cash by currency, both sorted.
 */
export interface Holdings {
  day: string;
  positions: Array<{ symbol: string; quantity: string }>;
  cash: CashAmount[];
}

/** Consecutive days with the same reason, both ends included. */
export interface UnexplainedRange {
  from: string;
  to: string;
  reason: string;
}

/** What a reconstruction answers. */
export interface Reconstruction {
  /** One entry per input day, ascending. */
  days: ReconstructedDay[];
  /**
   * The holdings at the end of `days[0]` as the transactions give them (a holding the walk
   * could not explain is still the arithmetic result: applying the transactions forward from
   * it gives today's holdings).
   */
  start: Holdings;
  /** The days without a value, consecutive days with the same reason merged. */
  unexplained: UnexplainedRange[];
}

/** The holding key of a transaction's symbol (`symbol`, `currency` of the transaction). */
export type HoldingKey = (symbol: string, currency: string) => string;

interface Resolved {
  key: string;
  /** The market-data symbol, or null when the symbol makes none. */
  market: string | null;
}

/** A held position's key: its market symbol, else the provider's symbol. */
function positionKey(p: HeldPosition): string {
  return p.market_symbol ?? p.symbol;
}

function symbolResolver(positions: readonly HeldPosition[]): (s: string, c: string) => Resolved {
  const held = positions.filter((p) => p.security_type !== "cash");
  const exact = new Map<string, Resolved>();
  for (const p of held) {
    if (!exact.has(p.symbol)) exact.set(p.symbol, { key: positionKey(p), market: p.market_symbol });
  }
  const seen = new Map<string, Resolved>();
  return (symbol, currency) => {
    const known = exact.get(symbol);
    if (known) return known;
    const memo = `${symbol}\u0000${currency}`;
    let r = seen.get(memo);
    if (!r) {
      r = resolveUnheld(held, symbol, currency);
      seen.set(memo, r);
    }
    return r;
  };
}

/** A symbol no position spells the same way: a held position spelled otherwise, else its form. */
function resolveUnheld(held: readonly HeldPosition[], symbol: string, currency: string): Resolved {
  const occ = occSymbol(symbol, null);
  if (occ) return { key: occ.compact, market: occ.compact };
  const ticker = canonicalTicker(symbol);
  const pair = canonicalCryptoPair(symbol, currency);
  const match = held.find((p) =>
    p.market_symbol !== null &&
    (p.security_type === "crypto" ? pair === p.market_symbol : ticker === p.market_symbol)
  );
  if (match) return { key: positionKey(match), market: match.market_symbol };
  const market = ticker ?? pair;
  return market ? { key: market, market } : { key: symbol.trim(), market: null };
}

/**
 * The holding key of a transaction's symbol, given today's positions: the key of the position
 * with the same provider symbol, or of a position whose market symbol the transaction's symbol
 * makes (`BRK/B` → `BRK.B`, `BTC-USD` → `BTC/USD` of a crypto position); a symbol no position
 * makes is keyed by its own form (an OCC option symbol compacted, a ticker, a crypto pair),
 * else by itself. A position's key is its market symbol, or its provider symbol when unresolved.
 */
export function holdingKeys(positions: readonly HeldPosition[]): HoldingKey {
  const resolve = symbolResolver(positions);
  return (symbol, currency) => resolve(symbol, currency).key;
}

interface Effect {
  date: string;
  /** The holding it changes, or null for cash only. */
  key: string | null;
  /** The holding's market-data symbol, or null. */
  market: string | null;
  /** Signed change of the holding (zero when the transaction gives none). */
  quantity: Exact;
  currency: string;
  amount: Exact;
  /** Why the holdings before this transaction cannot be known, or null. */
  problem: string | null;
}

const SECURITY_MOVES = new Set(["buy", "sell", "reinvestment"]);

function effectOf(t: AccountTransaction, resolve: (s: string, c: string) => Resolved): Effect {
  const none = { key: null, market: null, quantity: new Exact(0), problem: null };
  const cash = { ...none, date: t.trade_date, currency: t.currency, amount: new Exact(t.amount) };
  const q = t.quantity === null ? null : new Exact(t.quantity);
  const noQuantity = q === null || q.isZero();
  if (SECURITY_MOVES.has(t.type) || (t.type === "transfer" && t.symbol !== null)) {
    if (t.symbol === null) {
      return { ...cash, problem: `a ${t.type} on ${t.trade_date} names no security` };
    }
    const held = resolve(t.symbol, t.currency);
    if (noQuantity) {
      const problem = `a ${t.type} of ${t.symbol} on ${t.trade_date} gives no quantity`;
      return { ...cash, ...held, problem };
    }
    const quantity = t.type === "sell" ? q.abs().neg() : t.type === "transfer" ? q : q.abs();
    return { ...cash, ...held, quantity };
  }
  if (t.type === "other" && t.symbol !== null && !noQuantity) {
    return { ...cash, ...resolve(t.symbol, t.currency), quantity: q };
  }
  return cash;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function add(m: Map<string, Exact>, key: string, d: Exact): void {
  m.set(key, (m.get(key) ?? new Exact(0)).plus(d));
}

function snapshot(day: string, qty: Map<string, Exact>, cash: Map<string, Exact>): Holdings {
  const positions = [...qty].filter(([, q]) => !q.isZero())
    .sort(([a], [b]) => compare(a, b))
    .map(([symbol, q]) => ({ symbol, quantity: decimalString(q) }));
  const amounts = [...cash].filter(([, a]) => !a.isZero())
    .sort(([a], [b]) => compare(a, b))
    .map(([currency, a]) => ({ currency, amount: decimalString(a) }));
  return { day, positions, cash: amounts };
}

function heldNow(positions: readonly HeldPosition[], cash: readonly CashAmount[]) {
  const qty = new Map<string, Exact>();
  for (const p of positions) {
    if (p.security_type !== "cash") add(qty, positionKey(p), new Exact(p.quantity));
  }
  const balances = new Map<string, Exact>();
  for (const c of cash) add(balances, c.currency, new Exact(c.amount));
  return { qty, cash: balances };
}

/** Today's holdings (the end of the last day) as the walk starts from them. */
export function currentHoldings(
  input: Pick<ReconstructInput, "days" | "positions" | "cash">,
): Holdings {
  const now = heldNow(input.positions, input.cash);
  return snapshot(input.days[input.days.length - 1], now.qty, now.cash);
}

/**
 * Applies the transactions dated after `start.day` up to `throughDay` (included) to `start`:
 * the inverse of the walk, for tests and checks. A transaction without a quantity changes no
 * holding (the walk reports it instead).
 */
export function applyForward(
  start: Holdings,
  transactions: readonly AccountTransaction[],
  throughDay: string,
  keyOf: HoldingKey,
): Holdings {
  if (throughDay < start.day) throw new RangeError(`${throughDay} is before ${start.day}`);
  const qty = new Map<string, Exact>();
  for (const p of start.positions) add(qty, p.symbol, new Exact(p.quantity));
  const cash = new Map<string, Exact>();
  for (const c of start.cash) add(cash, c.currency, new Exact(c.amount));
  const resolve = (s: string, c: string): Resolved => ({ key: keyOf(s, c), market: null });
  for (const t of transactions) {
    if (t.trade_date <= start.day || t.trade_date > throughDay) continue;
    const e = effectOf(t, resolve);
    if (e.key !== null) add(qty, e.key, e.quantity);
    add(cash, e.currency, e.amount);
  }
  return snapshot(throughDay, qty, cash);
}

interface Security {
  market: string | null;
  currency: string;
  multiplier: Exact;
  /** The provider's price, used for a cash equivalent without a close. */
  stablePrice: string | null;
  /** Whether a negative quantity is a position (a written option, a short sale) not a gap. */
  mayBeShort: boolean;
}

/** Rebuilds the account's value on each of `input.days`; see the module doc for the rules. */
export function reconstructAccount(input: ReconstructInput): Reconstruction {
  const { days } = input;
  if (days.length === 0) throw new RangeError("no days to reconstruct");
  for (let i = 1; i < days.length; i++) {
    if (days[i] <= days[i - 1]) throw new RangeError(`days not ascending at ${days[i]}`);
  }
  const resolve = symbolResolver(input.positions);

  const securities = new Map<string, Security>();
  const { qty, cash } = heldNow(input.positions, input.cash);
  for (const p of input.positions) {
    const key = positionKey(p);
    if (p.security_type === "cash" || securities.has(key)) continue;
    securities.set(key, {
      market: p.market_symbol,
      currency: p.currency,
      multiplier: new Exact(p.multiplier),
      stablePrice: p.security_type === "cash_equivalent" ? p.price : null,
      mayBeShort: p.security_type === "option" || qty.get(key)!.isNegative(),
    });
  }

  const effects = input.transactions.filter((t) => t.trade_date > days[0])
    .map((t) => effectOf(t, resolve))
    .sort((a, b) => compare(b.date, a.date));
  for (const e of effects) {
    if (e.key === null || securities.has(e.key)) continue;
    const option = occSymbol(e.key, null) !== null;
    securities.set(e.key, {
      market: e.market,
      currency: e.currency,
      multiplier: new Exact(option ? 100 : 1),
      stablePrice: null,
      mayBeShort: option,
    });
  }

  // Holding key (or "" for every holding) → why it is unknown from then back, in the order found.
  const unknown = new Map<string, string>();
  const out: ReconstructedDay[] = new Array(days.length);
  let next = 0;
  for (let i = days.length - 1; i >= 0; i--) {
    const earliest = new Map<string, string>();
    for (; next < effects.length && effects[next].date > days[i]; next++) {
      const e = effects[next];
      add(cash, e.currency, e.amount.neg());
      if (e.problem !== null && !unknown.has(e.key ?? "")) unknown.set(e.key ?? "", e.problem);
      if (e.key === null) continue;
      add(qty, e.key, e.quantity.neg());
      earliest.set(e.key, e.date);
    }
    for (const [key, date] of earliest) {
      const q = qty.get(key)!;
      if (unknown.has(key) || !q.isNegative() || securities.get(key)?.mayBeShort) continue;
      unknown.set(
        key,
        `the transactions leave ${decimalString(q)} ${key} held before ${date} ` +
          `(a sale or transfer out they do not show)`,
      );
    }
    out[i] = valueOn(days[i], qty, cash, securities, unknown, input);
  }
  return { days: out, start: snapshot(days[0], qty, cash), unexplained: merge(out) };
}

function valueOn(
  day: string,
  qty: Map<string, Exact>,
  cash: Map<string, Exact>,
  securities: Map<string, Security>,
  unknown: Map<string, string>,
  input: ReconstructInput,
): ReconstructedDay {
  if (unknown.size > 0) {
    return { day, value: null, reason: [...new Set(unknown.values())].join("; ") };
  }
  const totals = new Map(cash);
  const missing: string[] = [];
  for (const [key, q] of qty) {
    if (q.isZero()) continue;
    const s = securities.get(key)!;
    const price = (s.market === null ? null : input.close(s.market, day)) ?? s.stablePrice;
    if (price === null) missing.push(`no price history for ${s.market ?? key}`);
    else add(totals, s.currency, q.times(s.multiplier).times(price));
  }
  let value = new Exact(0);
  const noRate: string[] = [];
  for (const [currency, amount] of [...totals].sort(([a], [b]) => compare(a, b))) {
    if (amount.isZero()) continue;
    const converted = input.convert(decimalString(amount), currency, day);
    if (converted === null) noRate.push(`no exchange rate for ${currency}`);
    else value = value.plus(converted);
  }
  const reasons = [...missing.sort(compare), ...noRate];
  return reasons.length > 0
    ? { day, value: null, reason: reasons.join("; ") }
    : { day, value: decimalString(value), reason: null };
}

function merge(days: readonly ReconstructedDay[]): UnexplainedRange[] {
  const out: UnexplainedRange[] = [];
  let prev: ReconstructedDay | null = null;
  for (const d of days) {
    const last = out[out.length - 1];
    if (d.reason !== null && prev?.reason === d.reason) last.to = d.day;
    else if (d.reason !== null) out.push({ from: d.day, to: d.day, reason: d.reason });
    prev = d;
  }
  return out;
}
