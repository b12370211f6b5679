/**
 * The valuation engine: the portfolios this instance values, the quotes they read, and when
 * each is published. Pure: the caller supplies the clock (`drain(now)`) and sends what it
 * hands to `publish`.
 *
 * Scheduling keeps a tick's cost constant however many portfolios hold the symbol:
 * - a portfolio published in the last interval is already due again at `last + publishMs`; a
 *   tick only moves its quote, and the due portfolio revalues what changed when its turn comes;
 * - a portfolio whose last turn found nothing changed is idle, listed under each of its
 *   quotes; the first tick of any of them wakes it to be published at once (it has not been
 *   published for at least an interval), after which it is due by interval again.
 * So each portfolio is looked at about once per interval while its prices move, and a tick
 * reaches an idle portfolio's subscribers without waiting for a timer. Idle portfolios are
 * still republished every `refreshMs`, so freshness (stale counts, the market's state) moves.
 * @module
 */
import type { LastPrice, PriceTick } from "@meridian/proto";
import type { UserHoldings } from "./holdings.ts";
import { PortfolioState } from "./portfolio_state.ts";
import { type Quote, QuoteBook } from "./quotes.ts";
import { encodePortfolioValue, type ValueContext } from "./value_message.ts";

/** The wheel's resolution: how late a due portfolio may be looked at. */
export const SLOT_MS = 10;

/** A portfolio value ready to send: its user, its sequence number and its JSON. */
export interface EncodedValue {
  userId: string;
  seq: number;
  json: string;
}

/** Options of the engine. */
export interface EngineOptions {
  /** At most one value per portfolio per this many ms (`VALUE_PUBLISH_MS`). */
  publishMs: number;
  /** An unchanged portfolio is republished this often. */
  refreshMs: number;
  /** Receives each value to publish; the caller reports back with {@link ValuationEngine.settled}. */
  publish: (value: EncodedValue) => void;
  /**
   * At most this many values handed to `publish` and not yet settled (woken portfolios may
   * exceed it by a quarter). The rest wait here, where a woken portfolio goes first, not at
   * the back of a long queue of writes to NATS.
   */
  maxInFlight?: number;
}

interface Entry {
  state: PortfolioState;
  /** The last sequence number used (published or read back from the KV). */
  seq: number;
  lastPublish: number;
  /** The wheel slot the entry sits in, or null. */
  slot: number | null;
  idle: boolean;
  /** Publish at the next turn even when no price changed. */
  force: boolean;
  inFlight: boolean;
}

/** The engine. */
export class ValuationEngine {
  readonly quotes = new QuoteBook();
  readonly #entries = new Map<string, Entry>();
  readonly #wheel = new Map<number, Set<Entry>>();
  readonly #idle = new Map<Quote, Set<Entry>>();
  /** Woken portfolios, due at once: taken before the wheel, so a backlog never delays them. */
  readonly #urgent = new Set<Entry>();
  #nextSlot = -1;
  #fx: ValueContext["fx"] = null;
  #market: ValueContext["market"] = "unknown";
  #again = false;
  #inFlight = 0;
  /** A drain stopped because the window was full: a settle that frees half calls for another. */
  #blocked = false;

  constructor(private readonly opts: EngineOptions) {}

  /** Number of portfolios valued here. */
  get users(): number {
    return this.#entries.size;
  }

  has(userId: string): boolean {
    return this.#entries.has(userId);
  }

  userIds(): string[] {
    return [...this.#entries.keys()];
  }

  /**
   * Starts valuing a user, or replaces their holdings (a sync changed them). `seq` is the last
   * sequence number known for the user (from the KV); it only ever grows.
   */
  setUser(holdings: UserHoldings, now: number, seq = 0): void {
    const old = this.#entries.get(holdings.user_id);
    if (old) this.#release(old);
    const entry: Entry = {
      state: new PortfolioState(holdings, this.quotes),
      seq: Math.max(seq, old?.seq ?? 0),
      lastPublish: old?.lastPublish ?? -Infinity,
      slot: null,
      idle: false,
      force: true,
      inFlight: old?.inFlight ?? false,
    };
    this.#entries.set(holdings.user_id, entry);
    this.#schedule(entry, Math.max(now, entry.lastPublish + this.opts.publishMs));
  }

  /**
   * The user's value as last revalued (what was last published, or is about to be), as the
   * message's JSON; null for a user not valued here. Does not revalue: that is a turn's job.
   */
  currentValue(userId: string, now: number): string | null {
    const e = this.#entries.get(userId);
    if (!e) return null;
    return encodePortfolioValue(e.state, e.seq, { now, fx: this.#fx, market: this.#market });
  }

  /** Stops valuing a user (another instance owns them now). */
  removeUser(userId: string): void {
    const entry = this.#entries.get(userId);
    if (!entry) return;
    this.#release(entry);
    this.#entries.delete(userId);
  }

  #release(entry: Entry): void {
    this.#unschedule(entry);
    this.#unidle(entry);
    entry.state.detach();
  }

  /** A trade: moves the quote, and wakes the idle portfolios that hold it. */
  onTick(tick: Pick<PriceTick, "symbol" | "price" | "time" | "delayed">, now: number): void {
    const q = this.quotes.get(tick.symbol);
    if (!q || !q.applyTick(tick)) return;
    this.#wake(q, now);
  }

  /** A `last_prices` entry: previous close, and the price when newer than any tick. */
  onLastPrice(last: LastPrice, now: number): void {
    const q = this.quotes.applyLast(last);
    if (q) this.#wake(q, now);
  }

  /** New FX reference rates: every portfolio is revalued at its next turn. */
  setFx(fx: ValueContext["fx"], now: number): void {
    this.#fx = fx;
    this.#forceAll(now);
  }

  /** The market opened or closed: freshness changes for every portfolio. */
  setMarket(market: ValueContext["market"], now: number): void {
    if (market === this.#market) return;
    this.#market = market;
    this.#forceAll(now);
  }

  /** The symbols this instance needs quotes for. */
  symbols(): string[] {
    const out: string[] = [];
    this.quotes.prune();
    for (const u of this.#entries.values()) for (const q of u.state.quotes) out.push(q.symbol);
    return [...new Set(out)];
  }

  #forceAll(now: number): void {
    for (const e of this.#entries.values()) {
      e.force = true;
      if (e.idle) this.#unidle(e);
      if (e.slot === null || e.idle) {
        this.#schedule(e, Math.max(now, e.lastPublish + this.opts.publishMs));
      }
    }
  }

  #wake(q: Quote, now: number): void {
    const idle = this.#idle.get(q);
    if (!idle || idle.size === 0) return;
    for (const e of [...idle]) {
      this.#unidle(e);
      const due = e.lastPublish + this.opts.publishMs;
      if (due <= now) {
        this.#unschedule(e);
        this.#urgent.add(e);
      } else this.#schedule(e, due);
    }
    this.#again = true;
  }

  /**
   * True once since the last call if portfolios are due at once: a tick woke one, a drain
   * stopped at its budget, or a settled value reopened a full window. The caller drains soon.
   */
  takeDrainAgain(): boolean {
    const again = this.#again;
    this.#again = false;
    return again;
  }

  #schedule(e: Entry, at: number): void {
    this.#unschedule(e);
    // A slot already drained would never be looked at again: such a turn is due at once.
    const slot = Math.max(Math.ceil(at / SLOT_MS), this.#nextSlot);
    let set = this.#wheel.get(slot);
    if (!set) this.#wheel.set(slot, set = new Set());
    set.add(e);
    e.slot = slot;
  }

  #unschedule(e: Entry): void {
    this.#urgent.delete(e);
    if (e.slot === null) return;
    const set = this.#wheel.get(e.slot);
    set?.delete(e);
    if (set?.size === 0) this.#wheel.delete(e.slot);
    e.slot = null;
  }

  #setIdle(e: Entry): void {
    e.idle = true;
    for (const q of e.state.quotes) {
      let set = this.#idle.get(q);
      if (!set) this.#idle.set(q, set = new Set());
      set.add(e);
    }
  }

  #unidle(e: Entry): void {
    if (!e.idle) return;
    e.idle = false;
    for (const q of e.state.quotes) {
      const set = this.#idle.get(q);
      set?.delete(e);
      if (set?.size === 0) this.#idle.delete(q);
    }
  }

  /**
   * Takes the turns that are due at `now`, at most `budget` of them and while fewer than
   * `maxInFlight` values are unsettled (the rest stay due, so a caller can yield to incoming
   * ticks; see {@link takeDrainAgain}); returns how many values were published.
   */
  drain(now: number, budget = Infinity): number {
    const last = Math.floor(now / SLOT_MS);
    if (this.#nextSlot < 0) this.#nextSlot = Math.min(last, ...this.#slotsBefore(last));
    let published = 0;
    let turns = 0;
    const window = this.opts.maxInFlight ?? Infinity;
    // Woken portfolios may use a reserve beyond the window: the window is full whenever the
    // instance is behind, and a woken one must not wait for half of it to settle.
    const stop = (limit: number) => {
      if (turns >= budget) return this.#again = true;
      if (this.#inFlight >= limit) return this.#blocked = true;
      turns++;
      return false;
    };
    for (const e of this.#urgent) {
      if (stop(window + Math.ceil(window / 4))) return published;
      this.#urgent.delete(e);
      if (this.#turn(e, now)) published++;
    }
    for (let slot = this.#nextSlot; slot <= last; slot++) {
      const set = this.#wheel.get(slot);
      if (set) {
        for (const e of set) {
          if (stop(window)) {
            this.#nextSlot = slot;
            return published;
          }
          set.delete(e);
          e.slot = null;
          if (this.#turn(e, now)) published++;
        }
        this.#wheel.delete(slot);
      }
      this.#nextSlot = slot + 1;
    }
    return published;
  }

  #slotsBefore(last: number): number[] {
    return [...this.#wheel.keys()].filter((k) => k < last);
  }

  /** One portfolio's turn: publish if anything changed, else go idle until a tick. */
  #turn(e: Entry, now: number): boolean {
    if (e.inFlight) {
      // The previous value is still being written; come back right after.
      this.#schedule(e, now + SLOT_MS);
      return false;
    }
    const changed = e.state.revalue();
    const refresh = e.idle; // an idle entry's turn is its periodic refresh
    if (!changed && !e.force && !refresh) {
      this.#setIdle(e);
      this.#schedule(e, Math.max(now + SLOT_MS, e.lastPublish + this.opts.refreshMs));
      return false;
    }
    this.#unidle(e);
    e.force = false;
    // The clock (ms) when it is ahead: seq then keeps growing even after the bucket (kept in
    // memory) and every instance restarted together, with no last seq to read back.
    e.seq = Math.max(e.seq + 1, Math.floor(now));
    e.lastPublish = now;
    e.inFlight = true;
    this.#inFlight++;
    const json = encodePortfolioValue(e.state, e.seq, { now, fx: this.#fx, market: this.#market });
    const value = { userId: e.state.userId, seq: e.seq, json };
    this.#schedule(e, now + this.opts.publishMs);
    this.opts.publish(value);
    return true;
  }

  /**
   * The caller's report on a published value. `ok` false means the KV held a newer value
   * (another instance wrote it): `seq` is that value's, and the user is published again at
   * their next turn with a higher one.
   */
  settled(userId: string, ok: boolean, seq?: number): void {
    this.#inFlight--;
    // Half the window free before draining again: a drain per settled value would cost a
    // timer and a drain's overhead for each one.
    if (this.#blocked && this.#inFlight <= (this.opts.maxInFlight ?? Infinity) / 2) {
      this.#blocked = false;
      this.#again = true;
    }
    const e = this.#entries.get(userId);
    if (!e) return;
    e.inFlight = false;
    if (!ok) {
      if (seq !== undefined) e.seq = Math.max(e.seq, seq);
      e.force = true;
    }
  }
}
