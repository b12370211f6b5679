/**
 * The Alpaca imitation of the provider sandbox: Trading REST (`/alpaca/v2/...`), the trading
 * stream (`/alpaca/stream`), the market-data streams (`/alpaca-data/v2/:feed`,
 * `/alpaca-data/v1beta3/crypto/us`) and market-data snapshots and daily bars
 * (`/alpaca-data/...`), over one simulated market shared by streamed trades and order fills. See
 * README.md beside this file.
 * @module
 */

import { Hono } from "hono";
import type { CallLog } from "../calls.ts";
import { seedHistory } from "./activities.ts";
import { barRoutes } from "./bars.ts";
import { Broker } from "./broker.ts";
import { findAsset } from "./assets.ts";
import type { Tick } from "./data_messages.ts";
import { DATA_FEEDS, DataStreamHub } from "./data_stream.ts";
import { Market } from "./market.ts";
import { PriceBook } from "./prices.ts";
import { alpacaRest } from "./rest.ts";
import { snapshotRoutes } from "./snapshots.ts";
import { type AccountState, seedHolding, setHolding } from "./state.ts";
import { TradingStreamHub } from "./trading_stream.ts";

export { type DataKey, DEMO_ALPACA_DATA_KEYS } from "./data_keys.ts";
export { dailyClose, FIRST_BAR_DAY } from "./bars.ts";
export { PriceBook } from "./prices.ts";

/** Key id of the pre-created demo paper account. */
export const DEMO_ALPACA_KEY_ID = "PKDEMO00000000000001";
/** Secret of the pre-created demo paper account. */
export const DEMO_ALPACA_SECRET = "demo-alpaca-secret-0000000000000000000001";
/** Key id of the second pre-created account, for tests. */
export const TEST_ALPACA_KEY_ID = "PKTEST00000000000002";
/** Secret of the second pre-created account. */
export const TEST_ALPACA_SECRET = "test-alpaca-secret-0000000000000000000002";

/** Demo holdings: symbol, quantity, average entry price. */
export const DEMO_ALPACA_HOLDINGS: readonly [string, string, string][] = [
  ["AAPL", "25", "182.40"],
  ["MSFT", "12", "348.10"],
  ["NVDA", "40", "95.50"],
  ["VOO", "8", "430.25"],
  ["SPY", "5.5", "505.00"],
  ["BTC/USD", "0.25", "52000.00"],
];
/** The demo history (a deposit, then one buy per holding) starts on this day. */
const DEMO_HISTORY_START = Date.UTC(2026, 0, 5);

/** Ticks the market tick runs back to back at most when its timer fired late. */
const MAX_CATCH_UP = 20;

/** Demo cash. */
export const DEMO_ALPACA_CASH = "25000.00";

/** Options of {@link createAlpacaSandbox}. */
export interface AlpacaSandboxOptions {
  calls: CallLog;
  /**
   * Market-data tick (one trade per subscribed symbol), default 1000 ms; changeable at run time
   * with {@link AlpacaSandbox.admin}`.setTradeInterval`.
   */
  tradeIntervalMs?: number;
  /**
   * Distinct symbols allowed across trades + quotes per data connection on every feed; default
   * per feed (`FEED_SYMBOL_LIMITS`: 30 on iex, none on sip).
   */
  symbolLimit?: number;
  /** Clock for timestamps and rate-limit windows, default `Date.now`. */
  now?: () => number;
  /** Delay from acceptance to a market fill, default 50 ms. */
  fillDelayMs?: number;
  /** Data-stream authentication deadline, default 10 000 ms. */
  authTimeoutMs?: number;
  /** Accounts saved by {@link AlpacaSandbox.snapshot}, instead of the demo and test accounts. */
  saved?: AlpacaState;
  /** Called after every fill or cancel (state changes outside a request). */
  onChange?: () => void;
}

/** The persisted Alpaca state: every account with its positions, cash, orders and activities. */
export interface AlpacaState {
  accounts: AccountState[];
}

/** The running Alpaca imitation. */
export interface AlpacaSandbox {
  /** Mount at `/alpaca` → paths `/alpaca/v2/...`. */
  rest: Hono;
  /**
   * Market-data REST (snapshots and daily bars); mount at `/alpaca-data` →
   * `/alpaca-data/v2/stocks/...`, `/alpaca-data/v1beta3/crypto/us/...`,
   * `/alpaca-data/v1beta1/options/bars`.
   */
  dataRest: Hono;
  /** WebSocket upgrade at `/alpaca/stream`. */
  handleTradingStream(req: Request): Response;
  /**
   * WebSocket upgrade at `/alpaca-data/v2/:feed` (stocks) and `/alpaca-data/v1beta3/crypto/:loc`
   * (feed `crypto/${loc}`; only `us` exists).
   */
  handleDataStream(req: Request, feed: string): Response;
  admin: {
    /** Sets a holding outright; `"0"` removes it. */
    setHolding(keyId: string, symbol: string, quantity: string): void;
    /** That account's key stops working (REST 401, streams refused and dropped). */
    breakConnection(keyId: string): void;
    /** Undoes {@link breakConnection}. */
    fixConnection(keyId: string): void;
    /**
     * Opens or closes the equity market (open by default): `GET /v2/clock` reports it, and while
     * closed stocks neither tick nor trade on the stream (crypto trades 24/7).
     */
    setMarketOpen(open: boolean): void;
    /**
     * Changes the market-data tick to every `ms` milliseconds (an integer, 1 ≤ ms ≤ 60000; else
     * a RangeError) and restarts its timer: the next tick comes `ms` from now.
     */
    setTradeInterval(ms: number): void;
    /** A fresh paper account with $100,000 cash and no positions. */
    createAccount(): { key_id: string; secret: string; account_id: string };
  };
  /** Every account as plain JSON (see {@link AlpacaSandboxOptions.saved}). */
  snapshot(): AlpacaState;
  /** Stops timers and closes sockets. */
  close(): void;
}

function randomChars(n: number, alphabet: string): string {
  const bytes = crypto.getRandomValues(new Uint8Array(n));
  return [...bytes].map((b) => alphabet[b % alphabet.length]).join("");
}

function upgradeRequired(): Response {
  return Response.json({ code: 40010000, message: "websocket upgrade required" }, {
    status: 400,
  });
}

// The demo and test accounts a fresh sandbox starts with.
function seedAccounts(broker: Broker): void {
  const demo = broker.createAccount({
    keyId: DEMO_ALPACA_KEY_ID,
    secret: DEMO_ALPACA_SECRET,
    cash: DEMO_ALPACA_CASH,
    number: "PA3DEMO0001",
  });
  for (const [s, q, p] of DEMO_ALPACA_HOLDINGS) seedHolding(demo, s, q, p);
  seedHistory(demo, DEMO_HISTORY_START);
  const test = broker.createAccount({
    keyId: TEST_ALPACA_KEY_ID,
    secret: TEST_ALPACA_SECRET,
    cash: "100000",
    number: "PA3TEST0002",
  });
  seedHolding(test, "AAPL", "10", "200.00");
  seedHistory(test, DEMO_HISTORY_START);
}

/** Builds the Alpaca imitation with its demo and test accounts (or the saved ones). */
export function createAlpacaSandbox(opts: AlpacaSandboxOptions): AlpacaSandbox {
  const now = opts.now ?? Date.now;
  const prices = new PriceBook();
  const broker = new Broker({ prices, now, fillDelayMs: opts.fillDelayMs ?? 50 });

  if (opts.saved) broker.restore(opts.saved.accounts);
  else seedAccounts(broker);
  const onChange = opts.onChange;
  if (onChange) broker.onTradeUpdate(() => onChange());

  const data = new DataStreamHub({
    broker,
    symbolLimit: opts.symbolLimit,
    authTimeoutMs: opts.authTimeoutMs ?? 10_000,
  });
  const trading = new TradingStreamHub(broker);
  const market = new Market();
  const rest = alpacaRest({ broker, calls: opts.calls, market, now });

  // One tick moves every symbol someone watches (stream subscribers, resting orders) once; its
  // trades carry the time the tick started (when they leave the sandbox).
  const tick = () => {
    const symbols = new Set([...data.wantedSymbols(), ...broker.watchedSymbols()]);
    // A closed market stops stocks (unknown symbols count as stocks); crypto never closes.
    if (!market.open) {
      for (const s of symbols) if (findAsset(s)?.class !== "crypto") symbols.delete(s);
    }
    if (symbols.size === 0) return;
    const ticks = new Map<string, Tick>();
    const at = now();
    for (const s of symbols) {
      const step = prices.step(s, at);
      // Prices have at most 4 places, so the JSON number is exact to what fills use.
      ticks.set(s, { price: step.price.toNumber(), tradeId: step.tradeId, size: step.size });
    }
    data.publish(ticks, at);
    for (const s of symbols) broker.onPrice(s);
  };
  // Ticks keep to a schedule (start + k × interval) instead of a plain setInterval, so a timer
  // that fires late loses no ticks: those due run back to back (at most MAX_CATCH_UP per timer
  // callback, so requests still get through). More than a second behind (a tick that costs
  // more than its interval), the schedule restarts from now: the sandbox then ticks as fast as
  // it can.
  let interval = opts.tradeIntervalMs ?? 1000;
  let due = performance.now() + interval;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;
  const arm = () => {
    timer = setTimeout(fire, Math.max(0, due - performance.now()));
  };
  const fire = () => {
    for (let i = 0; i < MAX_CATCH_UP && performance.now() >= due; i++) {
      tick();
      due += interval;
    }
    const t = performance.now();
    if (t - due > 1000) due = t;
    if (!closed) arm();
  };
  arm();

  const keyOf = (keyId: string) => {
    const acct = broker.accounts.get(keyId);
    if (!acct) throw new Error(`unknown Alpaca key ${keyId}`);
    return acct;
  };

  return {
    rest: rest as unknown as Hono,
    dataRest: new Hono()
      .route("/", barRoutes({ broker, prices, calls: opts.calls, now }))
      .route("/", snapshotRoutes({ broker, prices, calls: opts.calls, now })),
    handleTradingStream(req) {
      opts.calls.record("alpaca", "GET", "/stream");
      if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") return upgradeRequired();
      return trading.handle(req);
    },
    handleDataStream(req, feed) {
      const route = feed.startsWith("crypto/") ? "/data/v1beta3/crypto/:loc" : "/data/v2/:feed";
      opts.calls.record("alpaca", "GET", route);
      if (!(DATA_FEEDS as readonly string[]).includes(feed)) {
        return Response.json({ code: 40410000, message: "feed not found" }, { status: 404 });
      }
      if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") return upgradeRequired();
      return data.handle(req, feed);
    },
    admin: {
      setHolding: (keyId, symbol, quantity) => setHolding(keyOf(keyId), symbol, quantity),
      breakConnection(keyId) {
        keyOf(keyId).broken = true;
        data.dropKey(keyId);
        trading.dropKey(keyId);
      },
      fixConnection(keyId) {
        keyOf(keyId).broken = false;
      },
      setMarketOpen(open) {
        market.open = open;
      },
      setTradeInterval(ms) {
        if (!Number.isInteger(ms) || ms < 1 || ms > 60_000) {
          throw new RangeError(`trade interval must be an integer 1..60000 ms, got ${ms}`);
        }
        if (closed) return;
        clearTimeout(timer);
        interval = ms;
        due = performance.now() + ms;
        arm();
      },
      createAccount() {
        const keyId = `PK${randomChars(18, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")}`;
        const secret = randomChars(
          40,
          "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
        );
        const acct = broker.createAccount({ keyId, secret, cash: "100000" });
        return { key_id: keyId, secret, account_id: acct.id };
      },
    },
    snapshot: () => ({ accounts: broker.snapshot() }),
    close() {
      closed = true;
      clearTimeout(timer);
      broker.close();
      data.close();
      trading.close();
    },
  };
}
