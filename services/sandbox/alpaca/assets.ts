/**
 * The small asset universe the Alpaca imitation knows: US stocks/ETFs, two crypto pairs and the
 * test-feed symbol `FAKEPACA`. Ids are deterministic so tests and demo data are stable.
 * @module
 */

/** One tradable asset, in the shape `GET /v2/assets/{symbol}` returns. */
export interface AlpacaAsset {
  id: string;
  class: "us_equity" | "crypto";
  exchange: string;
  symbol: string;
  name: string;
  status: "active";
  tradable: boolean;
  marginable: boolean;
  shortable: boolean;
  easy_to_borrow: boolean;
  fractionable: boolean;
  min_order_size?: string;
  min_trade_increment?: string;
  price_increment?: string;
  attributes: string[];
  /** Opening ("last day") price the simulation starts from, a decimal string. */
  basePrice: string;
  /** Tape for market-data trades: A (NYSE), B (Arca/ETFs), C (Nasdaq). */
  tape: "A" | "B" | "C";
}

/** FNV-1a over the symbol, used for deterministic ids and seeds. */
export function hashSymbol(symbol: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < symbol.length; i++) {
    h ^= symbol.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** A deterministic UUID-shaped id derived from a name. */
export function stableId(name: string): string {
  const parts: string[] = [];
  let h = hashSymbol(name);
  for (let i = 0; i < 4; i++) {
    h = hashSymbol(`${name}#${i}#${h}`);
    parts.push(h.toString(16).padStart(8, "0"));
  }
  const hex = parts.join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${
    hex.slice(20, 32)
  }`;
}

type Seed = [symbol: string, name: string, exchange: string, price: string, tape: "A" | "B" | "C"];

const EQUITIES: Seed[] = [
  ["AAPL", "Apple Inc. Common Stock", "NASDAQ", "228.50", "C"],
  ["MSFT", "Microsoft Corporation Common Stock", "NASDAQ", "415.20", "C"],
  ["GOOGL", "Alphabet Inc. Class A Common Stock", "NASDAQ", "172.35", "C"],
  ["AMZN", "Amazon.com, Inc. Common Stock", "NASDAQ", "186.40", "C"],
  ["NVDA", "NVIDIA Corporation Common Stock", "NASDAQ", "131.80", "C"],
  ["META", "Meta Platforms, Inc. Class A Common Stock", "NASDAQ", "512.60", "C"],
  ["TSLA", "Tesla, Inc. Common Stock", "NASDAQ", "248.90", "C"],
  ["AMD", "Advanced Micro Devices, Inc. Common Stock", "NASDAQ", "158.15", "C"],
  ["JPM", "JPMorgan Chase & Co. Common Stock", "NYSE", "211.70", "A"],
  ["KO", "Coca-Cola Company (The) Common Stock", "NYSE", "69.45", "A"],
  ["SPY", "SPDR S&P 500 ETF Trust", "ARCA", "562.30", "B"],
  ["VOO", "Vanguard S&P 500 ETF", "ARCA", "516.80", "B"],
  ["QQQ", "Invesco QQQ Trust, Series 1", "NASDAQ", "480.25", "C"],
  ["VTI", "Vanguard Total Stock Market ETF", "ARCA", "276.10", "B"],
  ["BND", "Vanguard Total Bond Market ETF", "NASDAQ", "74.60", "C"],
  ["FAKEPACA", "Alpaca test-stream symbol", "NASDAQ", "100.00", "C"],
];

const CRYPTO: [symbol: string, name: string, price: string, minSize: string, incr: string][] = [
  ["BTC/USD", "Bitcoin / US Dollar", "64250.00", "0.0001", "0.000000001"],
  ["ETH/USD", "Ethereum / US Dollar", "3120.50", "0.001", "0.000000001"],
];

function build(): Map<string, AlpacaAsset> {
  const map = new Map<string, AlpacaAsset>();
  for (const [symbol, name, exchange, basePrice, tape] of EQUITIES) {
    map.set(symbol, {
      id: stableId(`asset:${symbol}`),
      class: "us_equity",
      exchange,
      symbol,
      name,
      status: "active",
      tradable: true,
      marginable: true,
      shortable: true,
      easy_to_borrow: true,
      fractionable: symbol !== "FAKEPACA",
      attributes: symbol === "FAKEPACA" ? [] : ["fractional_eh_enabled", "has_options"],
      basePrice,
      tape,
    });
  }
  for (const [symbol, name, basePrice, min, incr] of CRYPTO) {
    map.set(symbol, {
      id: stableId(`asset:${symbol}`),
      class: "crypto",
      exchange: "CRYPTO",
      symbol,
      name,
      status: "active",
      tradable: true,
      marginable: false,
      shortable: false,
      easy_to_borrow: false,
      fractionable: true,
      min_order_size: min,
      min_trade_increment: incr,
      price_increment: "0.01",
      attributes: [],
      basePrice,
      tape: "C",
    });
  }
  return map;
}

/** Every known asset, keyed by canonical symbol (`BTC/USD` for crypto). */
export const ASSETS: ReadonlyMap<string, AlpacaAsset> = build();

/**
 * Finds an asset by symbol, asset id, or the slash-less crypto form Alpaca uses in positions
 * (`BTCUSD`). Case-insensitive on symbols.
 */
export function findAsset(symbolOrId: string): AlpacaAsset | undefined {
  const s = decodeURIComponent(symbolOrId).toUpperCase();
  const direct = ASSETS.get(s);
  if (direct) return direct;
  for (const a of ASSETS.values()) {
    if (a.id === symbolOrId.toLowerCase() || a.symbol.replace("/", "") === s) return a;
  }
  return undefined;
}

/** The symbol Alpaca shows in positions: crypto pairs lose their slash (`BTCUSD`). */
export function positionSymbol(asset: AlpacaAsset): string {
  return asset.class === "crypto" ? asset.symbol.replace("/", "") : asset.symbol;
}

/** The public JSON of an asset (drops the simulation-only fields). */
export function assetJson(a: AlpacaAsset): Record<string, unknown> {
  const { basePrice: _b, tape: _t, ...rest } = a;
  return {
    ...rest,
    maintenance_margin_requirement: a.marginable ? 30 : 100,
    margin_requirement_long: a.marginable ? "50" : "100",
    margin_requirement_short: a.marginable ? "150" : "100",
  };
}

/** `GET /v2/assets` filtered by `status` and `asset_class`. */
export function listAssets(q: URLSearchParams): Record<string, unknown>[] {
  const status = q.get("status");
  const cls = q.get("asset_class");
  return [...ASSETS.values()]
    .filter((a) => (!status || a.status === status) && (!cls || a.class === cls))
    .map(assetJson);
}
