/**
 * The snapshot poller: fetches, every `PRICES_POLL_S`, the latest price of the symbols no
 * stream carries (funds, bonds, options, foreign listings, and stocks beyond every shard's
 * cap), publishes them marked delayed, and reads the market clock. One instance runs it, the
 * holder of the poller lease (often a hot standby).
 * @module
 */
import type { KV } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { encode, kvKeys, MarketStatus, subjects, type SymbolStream } from "@meridian/proto";
import { gauge, type Logger } from "@meridian/runtime";
import type { Credential, MarketDataProvider } from "./market_data/mod.ts";
import { feedOf, type PricePublisher } from "./publisher.ts";
import { type AssignedSymbols, watchAssignment } from "./assignment_watch.ts";
import { symbolDiff } from "./diff.ts";

/** How often the clock is read; the market opens and closes on minute boundaries. */
const CLOCK_EVERY_MS = 30_000;

const polledGauge = gauge("meridian_prices_polled_symbols", "Symbols the snapshot poller fetches");
const openGauge = gauge(
  "meridian_prices_market_open_state",
  "1 while the US equity market is open",
);

/** What the poller needs. */
export interface PollerDeps {
  provider: MarketDataProvider;
  /** Reads snapshots (any market-data key). */
  credential: Credential;
  /** Reads the clock (a trading API call), or null when no key can. */
  clockCredential: Credential | null;
  nc: NatsConnection;
  assignments: KV;
  marketStatus: KV;
  publisher: PricePublisher;
  log: Logger;
  pollS: number;
}

/** Polls until stopped. */
export class Poller {
  #symbols: AssignedSymbols = { stocks: [], crypto: [] };
  #timers: ReturnType<typeof setInterval>[] = [];
  #stopWatch: (() => void) | undefined;
  #stopped = false;
  #clockFailing = false;

  constructor(private readonly deps: PollerDeps) {}

  start(): void {
    this.#stopWatch = watchAssignment(
      this.deps.assignments,
      kvKeys.pollerAssignment,
      this.deps.log,
      (next) => {
        const added = {
          stocks: symbolDiff(this.#symbols.stocks, next.stocks).added,
          crypto: symbolDiff(this.#symbols.crypto, next.crypto).added,
        };
        this.#symbols = next;
        polledGauge.set(next.stocks.length + next.crypto.length);
        void this.#poll(added);
      },
    );
    this.#timers.push(setInterval(() => void this.#poll(this.#symbols), this.deps.pollS * 1000));
    this.#timers.push(setInterval(() => void this.#readClock(), CLOCK_EVERY_MS));
    void this.#readClock();
  }

  stop(): void {
    this.#stopped = true;
    this.#stopWatch?.();
    for (const t of this.#timers) clearInterval(t);
  }

  async #poll(symbols: AssignedSymbols): Promise<void> {
    for (const kind of ["stocks", "crypto"] as SymbolStream[]) {
      if (symbols[kind].length === 0 || this.#stopped) continue;
      const { provider, credential, publisher, log } = this.deps;
      try {
        const snaps = await provider.snapshots(kind, symbols[kind], credential);
        const wanted = new Set(this.#symbols[kind]);
        for (const s of snaps.values()) {
          if (this.#stopped || !wanted.has(s.symbol)) continue;
          publisher.publishSnapshot(s, feedOf(provider, kind), true, "poll");
        }
      } catch (e) {
        log.warn("snapshot poll failed", { stream: kind, symbols: symbols[kind].length, error: e });
      }
    }
  }

  async #readClock(): Promise<void> {
    const { provider, clockCredential, nc, marketStatus, log } = this.deps;
    if (!clockCredential || this.#stopped) return;
    try {
      const clock = await provider.clock(clockCredential);
      const status = encode(MarketStatus, {
        market: "us_equity",
        is_open: clock.isOpen,
        next_open: clock.nextOpen.toISOString(),
        next_close: clock.nextClose.toISOString(),
        time: clock.time.toISOString(),
      });
      openGauge.set(clock.isOpen ? 1 : 0);
      nc.publish(subjects.marketStatus, status);
      await marketStatus.put(kvKeys.usEquityMarket, status);
      if (this.#clockFailing) log.info("market clock readable again");
      this.#clockFailing = false;
    } catch (e) {
      if (!this.#clockFailing) log.warn("cannot read the market clock", { error: e });
      this.#clockFailing = true;
    }
  }
}
