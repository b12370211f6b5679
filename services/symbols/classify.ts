/**
 * Which stream carries an instrument's price, or that none does and the snapshot poller must.
 * @module
 */
import { type InstrumentKind, quoteCurrency, type SymbolStream } from "@meridian/proto";

/** A held instrument as the collector sees it. */
export interface HeldInstrument {
  /** The market-data symbol (Alpaca's convention). */
  symbol: string;
  kind: InstrumentKind;
  currency: string;
}

/**
 * How an instrument's price is fetched: streamed on the stocks or crypto stream, or polled
 * (with the stocks or crypto snapshot endpoint) because no stream carries it.
 */
export interface PriceRoute {
  /** The snapshot endpoint (and stream, when streamable) that knows the symbol. */
  stream: SymbolStream;
  streamable: boolean;
}

/** US-listed stocks and ETFs stream (Alpaca's stock feeds are US only). */
const STREAMED_STOCK_KINDS: ReadonlySet<InstrumentKind> = new Set(["equity", "etf"]);

/**
 * Routes one instrument: US equities and ETFs to the stocks stream, crypto pairs to the crypto
 * stream; funds, bonds, cash equivalents and options (no options feed) to the poller. Null for
 * an instrument whose currency is not its market-data symbol's (a foreign listing such as
 * SHOP in CAD): Alpaca's price for that ticker is another security's, so it keeps its
 * provider's price.
 */
export function routeOf(i: HeldInstrument): PriceRoute | null {
  if (quoteCurrency(i.symbol) !== i.currency) return null;
  if (i.kind === "crypto") return { stream: "crypto", streamable: i.symbol.includes("/") };
  return { stream: "stocks", streamable: STREAMED_STOCK_KINDS.has(i.kind) && i.currency === "USD" };
}
