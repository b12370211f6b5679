/**
 * The sandbox's deterministic demo data: a security universe, and the accounts, holdings and
 * transactions a new connection to each demo brokerage or institution starts with. Pure: the
 * same input gives the same output on every run. Money and quantities are decimal strings.
 * @module
 */
// Exact: decimal.js's default precision (20 digits) would round quantities and amounts.
import { Exact as Decimal } from "@meridian/portfolio/exact";
import { intBetween, prng, stableUuid } from "./prng.ts";

/** What kind of instrument a security is. */
export type SecurityKind = "stock" | "etf" | "crypto" | "mutualfund" | "option" | "cash";

/** An option contract's terms. */
export interface OptionTerms {
  underlying: string;
  type: "CALL" | "PUT";
  /** Decimal string. */
  strike: string;
  /** YYYY-MM-DD. */
  expiration: string;
  multiplier: string;
}

/** One tradable (or cash) instrument. */
export interface Security {
  /** Stable id (UUID shape), the same for every connection. */
  id: string;
  ticker: string;
  name: string;
  kind: SecurityKind;
  currency: string;
  exchange: string;
  /** Last price, decimal string. */
  price: string;
  cashEquivalent: boolean;
  option?: OptionTerms;
}

/** One position. */
export interface Holding {
  security: Security;
  /** Decimal string. */
  units: string;
  /** Average cost per unit (per share for options, before the multiplier), decimal string. */
  averageCost: string;
}

/** The kinds of transactions the demo data holds. */
export type TxnType = "BUY" | "SELL" | "DIVIDEND" | "FEE" | "CONTRIBUTION" | "INTEREST";

/** One account transaction. `amount` is signed from the account's view: cash in is positive. */
export interface Transaction {
  id: string;
  /** YYYY-MM-DD. */
  date: string;
  type: TxnType;
  security?: Security;
  units: string;
  price: string;
  amount: string;
  fee: string;
  currency: string;
  description: string;
}

/** One demo account. */
export interface DemoAccount {
  name: string;
  number: string;
  currency: string;
  /** Plaid account type/subtype; SnapTrade raw_type. */
  type: string;
  subtype: string;
  cash: string;
  holdings: Holding[];
  transactions: Transaction[];
}

const NAMES: Record<string, string> = {
  AAPL: "Apple Inc.",
  MSFT: "Microsoft Corporation",
  NVDA: "NVIDIA Corporation",
  AMZN: "Amazon.com, Inc.",
  GOOGL: "Alphabet Inc. Class A",
  META: "Meta Platforms, Inc.",
  TSLA: "Tesla, Inc.",
  BRK_B: "Berkshire Hathaway Inc. Class B",
  JPM: "JPMorgan Chase & Co.",
  V: "Visa Inc.",
  KO: "The Coca-Cola Company",
  PEP: "PepsiCo, Inc.",
  DIS: "The Walt Disney Company",
  NFLX: "Netflix, Inc.",
  AMD: "Advanced Micro Devices, Inc.",
  INTC: "Intel Corporation",
  SPY: "SPDR S&P 500 ETF Trust",
  VOO: "Vanguard S&P 500 ETF",
  VTI: "Vanguard Total Stock Market ETF",
  QQQ: "Invesco QQQ Trust",
  BND: "Vanguard Total Bond Market ETF",
  SCHD: "Schwab U.S. Dividend Equity ETF",
  VXUS: "Vanguard Total International Stock ETF",
  "SHOP.TO": "Shopify Inc.",
  "RY.TO": "Royal Bank of Canada",
  "TD.TO": "The Toronto-Dominion Bank",
  "ENB.TO": "Enbridge Inc.",
  "XIU.TO": "iShares S&P/TSX 60 Index ETF",
  "VFV.TO": "Vanguard S&P 500 Index ETF (CAD)",
  "BNS.TO": "Bank of Nova Scotia",
  BTC: "Bitcoin",
  ETH: "Ethereum",
  SPAXX: "Fidelity Government Money Market Fund",
  VMFXX: "Vanguard Federal Money Market Fund",
  VFIAX: "Vanguard 500 Index Fund Admiral Shares",
  FXAIX: "Fidelity 500 Index Fund",
  "CUR:USD": "U S Dollar",
};

const ETFS = new Set(["SPY", "VOO", "VTI", "QQQ", "BND", "SCHD", "VXUS", "XIU.TO", "VFV.TO"]);

/** The long tail of US tickers, so one account can hold more than 200 positions. */
const TAIL = (
  "ABBV ABT ACN ADBE ADI ADP AEP AFL AIG AMAT AMGN AMT ANET AON APD APH AVGO AXP AZO BA BAC BDX " +
  "BK BKNG BLK BMY BSX C CAT CB CCI CDNS CHTR CI CL CMCSA CME CMG COF COP COST CRM CSCO CSX CTAS " +
  "CVS CVX D DE DHR DUK ECL EL ELV EMR EOG EQIX ETN EW EXC F FCX FDX GD GE GILD GIS GM GS HCA HD " +
  "HON HUM IBM ICE INTU ISRG ITW JNJ KLAC KMB LIN LLY LMT LOW LRCX MA MAR MCD MCHP MCK MCO MDLZ " +
  "MDT MET MMC MMM MO MPC MRK MS MSCI MU NEE NKE NOC NOW NSC ORCL ORLY OXY PANW PFE PG PGR PH PLD " +
  "PM PNC PSA PSX PYPL QCOM REGN ROP RTX SBUX SCHW SHW SLB SNPS SO SPG SPGI SRE SYK T TFC TGT TJX " +
  "TMO TMUS TRV TT TXN UNH UNP UPS USB VLO VRTX VZ WELL WFC WM WMT XOM ZTS ADM ALL AMP BIIB CARR " +
  "CEG CTSH DD DG DLR DOW DXCM EA EBAY FANG FIS FTNT GLW HAL HLT HPQ HSY IDXX KDP KHC KMI KR MNST " +
  "MRNA MSI NUE NXPI ODFL OKE ON PAYX PCAR PEG PRU ROK ROST RSG STZ SYY TEL TROW TSN TTWO URI VRSK " +
  "WBA WEC WMB XEL YUM"
).split(" ");

function priceFor(ticker: string): string {
  const r = prng(`price:${ticker}`);
  return new Decimal(intBetween(r, 800, 60_000)).div(100).toFixed(2);
}

const FIXED_PRICES: Record<string, string> = {
  BTC: "64250.12",
  ETH: "3150.45",
  SPAXX: "1.00",
  VMFXX: "1.00",
  "CUR:USD": "1.00",
  AAPL: "228.52",
  MSFT: "415.30",
  VOO: "512.44",
  SPY: "561.02",
};

/** The security for `ticker`; unknown tickers get a synthesized US stock with a stable price. */
export function securityFor(ticker: string): Security {
  const t = ticker.toUpperCase();
  const cad = t.endsWith(".TO");
  const kind: SecurityKind = t === "CUR:USD"
    ? "cash"
    : t === "BTC" || t === "ETH"
    ? "crypto"
    : ["SPAXX", "VMFXX", "VFIAX", "FXAIX"].includes(t)
    ? "mutualfund"
    : ETFS.has(t)
    ? "etf"
    : "stock";
  return {
    id: stableUuid(`security:${t}`),
    ticker: t,
    name: NAMES[t.replace(".", "_")] ?? NAMES[t] ?? `${t} Common Stock`,
    kind,
    currency: cad ? "CAD" : "USD",
    exchange: cad
      ? "TSX"
      : kind === "crypto"
      ? "CRYPTO"
      : kind === "mutualfund"
      ? "MUTF"
      : "NASDAQ",
    price: FIXED_PRICES[t] ?? priceFor(t),
    cashEquivalent: t === "SPAXX" || t === "VMFXX" || t === "CUR:USD",
  };
}

/**
 * The security's close of the previous trading session: the price moved from it by a stable
 * −2.5 % to +2.5 % (never 0; options three times as much), so most demo holdings show a day
 * change. Cash and cash equivalents closed where they are. Cents from $1 up, 4 places below.
 */
export function previousCloseFor(sec: Security): string {
  if (sec.kind === "cash" || sec.cashEquivalent) return sec.price;
  let bp = intBetween(prng(`close:${sec.ticker}`), -250, 250);
  if (bp === 0) bp = 37;
  if (sec.kind === "option") bp *= 3;
  const price = new Decimal(sec.price);
  const dp = price.gte(1) ? 2 : 4;
  return price.div(new Decimal(bp).div(10_000).plus(1))
    .toDecimalPlaces(dp, Decimal.ROUND_HALF_UP).toFixed(dp);
}

/** An option security (OCC symbol with padded root). */
export function optionSecurity(
  underlying: string,
  type: "CALL" | "PUT",
  strike: string,
  expiration: string,
  price: string,
): Security {
  const ymd = expiration.slice(2).replaceAll("-", "");
  const strikeCode = String(Math.round(Number(strike) * 1000)).padStart(8, "0");
  const ticker = `${underlying.padEnd(6, " ")}${ymd}${type[0]}${strikeCode}`;
  return {
    id: stableUuid(`option:${ticker}`),
    ticker,
    name: `${underlying} ${expiration} ${type} ${strike}`,
    kind: "option",
    currency: "USD",
    exchange: "OPRA",
    price,
    cashEquivalent: false,
    option: { underlying, type, strike, expiration, multiplier: "100" },
  };
}

interface AccountSpec {
  key: string;
  name: string;
  number: string;
  currency: string;
  type: string;
  subtype: string;
  tickers: string[];
  fractional?: boolean;
  options?: Security[];
  /** Fixed units for some tickers (crypto, money market). */
  fixedUnits?: Record<string, string>;
}

const START = Date.UTC(2025, 10, 3); // 2025-11-03
const DAY = 86_400_000;

function isoDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

function buildAccount(spec: AccountSpec): DemoAccount {
  const r = prng(`account:${spec.key}`);
  const holdings: Holding[] = [];
  for (const t of spec.tickers) {
    const security = securityFor(t);
    const units = spec.fixedUnits?.[t] ??
      (spec.fractional
        ? new Decimal(intBetween(r, 100, 50_000)).div(1000).toFixed()
        : String(intBetween(r, 1, 150)));
    const cost = new Decimal(security.price).mul(new Decimal(intBetween(r, 70, 115)).div(100))
      .toDecimalPlaces(2);
    holdings.push({ security, units, averageCost: cost.toFixed(2) });
  }
  for (const o of spec.options ?? []) {
    holdings.push({
      security: o,
      units: "2",
      averageCost: new Decimal(o.price).mul("0.8").toFixed(2),
    });
  }
  const cash = new Decimal(intBetween(r, 50_000, 2_500_000)).div(100).toFixed(2);
  const transactions: Transaction[] = [];
  let n = 0;
  const add = (t: Omit<Transaction, "id" | "currency">) =>
    transactions.push({ ...t, id: stableUuid(`txn:${spec.key}:${n++}`), currency: spec.currency });
  add({
    date: isoDate(START),
    type: "CONTRIBUTION",
    units: "0",
    price: "0",
    amount: "50000.00",
    fee: "0",
    description: "Initial deposit",
  });
  holdings.forEach((h, i) => {
    const day = START + (1 + (i % 300)) * DAY;
    const mult = h.security.option ? 100 : 1;
    const sold = h.security.kind === "stock" && i % 5 === 2 ? new Decimal(1) : new Decimal(0);
    const bought = new Decimal(h.units).plus(sold);
    const fee = spec.currency === "CAD" ? "4.95" : "0";
    add({
      date: isoDate(day),
      type: "BUY",
      security: h.security,
      units: bought.toFixed(),
      price: h.averageCost,
      amount: bought.mul(h.averageCost).mul(mult).plus(fee).neg().toFixed(2),
      fee,
      description: `Bought ${bought.toFixed()} ${h.security.ticker.trim()}`,
    });
    if (!sold.isZero()) {
      add({
        date: isoDate(day + 20 * DAY),
        type: "SELL",
        security: h.security,
        units: sold.neg().toFixed(),
        price: h.security.price,
        amount: sold.mul(h.security.price).minus(fee).toFixed(2),
        fee,
        description: `Sold ${sold.toFixed()} ${h.security.ticker.trim()}`,
      });
    }
    if ((h.security.kind === "stock" || h.security.kind === "etf") && i % 3 === 0) {
      const amount = new Decimal(h.units).mul(h.security.price).mul("0.004").toDecimalPlaces(2);
      if (amount.gt(0)) {
        add({
          date: isoDate(day + 45 * DAY),
          type: "DIVIDEND",
          security: h.security,
          units: "0",
          price: "0",
          amount: amount.toFixed(2),
          fee: "0",
          description: `Dividend ${h.security.ticker}`,
        });
      }
    }
  });
  for (let m = 0; m < 3; m++) {
    add({
      date: isoDate(START + (30 * m + 28) * DAY),
      type: "FEE",
      units: "0",
      price: "0",
      amount: "-2.50",
      fee: "2.50",
      description: "Account maintenance fee",
    });
  }
  if (holdings.some((h) => h.security.cashEquivalent)) {
    add({
      date: isoDate(START + 60 * DAY),
      type: "INTEREST",
      units: "0",
      price: "0",
      amount: "3.17",
      fee: "0",
      description: "Money market interest",
    });
  }
  transactions.sort((a, b) => a.date < b.date ? -1 : a.date > b.date ? 1 : 0);
  return {
    name: spec.name,
    number: spec.number,
    currency: spec.currency,
    type: spec.type,
    subtype: spec.subtype,
    cash,
    holdings,
    transactions,
  };
}

/** A demo SnapTrade brokerage. */
export interface DemoBrokerage {
  slug: string;
  name: string;
  allowsTrading: boolean;
  allowsFractional: boolean;
}

/** The brokerages the SnapTrade portal offers. */
export const BROKERAGES: DemoBrokerage[] = [
  { slug: "QUESTRADE", name: "Questrade", allowsTrading: true, allowsFractional: false },
  { slug: "ROBINHOOD", name: "Robinhood", allowsTrading: true, allowsFractional: true },
  {
    slug: "INTERACTIVE-BROKERS",
    name: "Interactive Brokers",
    allowsTrading: true,
    allowsFractional: true,
  },
  { slug: "SANDBOX", name: "SnapTrade Sandbox", allowsTrading: false, allowsFractional: false },
];

/** The accounts a new SnapTrade connection to `slug` starts with. */
export function snaptradeDemoAccounts(slug: string): DemoAccount[] {
  switch (slug) {
    case "QUESTRADE":
      return [
        buildAccount({
          key: "QUESTRADE:TFSA",
          name: "Questrade TFSA",
          number: "51234567",
          currency: "CAD",
          type: "TFSA",
          subtype: "tfsa",
          tickers: ["SHOP.TO", "RY.TO", "TD.TO", "ENB.TO", "XIU.TO", "VFV.TO"],
        }),
        buildAccount({
          key: "QUESTRADE:MARGIN",
          name: "Questrade Margin USD",
          number: "51234568",
          currency: "USD",
          type: "MARGIN",
          subtype: "margin",
          tickers: ["AAPL", "MSFT", "VOO"],
        }),
      ];
    case "ROBINHOOD":
      return [buildAccount({
        key: "ROBINHOOD:INDIVIDUAL",
        name: "Robinhood Individual",
        number: "RH5550001",
        currency: "USD",
        type: "INDIVIDUAL",
        subtype: "individual",
        fractional: true,
        tickers: ["AAPL", "TSLA", "NVDA", "AMD", "SPY", "BTC", "ETH"],
        fixedUnits: { BTC: "0.0523", ETH: "1.25" },
      })];
    case "INTERACTIVE-BROKERS":
      return [buildAccount({
        key: "IBKR:U1234567",
        name: "IBKR Individual",
        number: "U1234567",
        currency: "USD",
        type: "MARGIN",
        subtype: "margin",
        tickers: ["MSFT", "GOOGL", "AMZN", "META", "JPM", "V", "VTI", "QQQ", ...TAIL],
        options: [optionSecurity("AAPL", "CALL", "250", "2027-01-15", "12.35")],
      })];
    case "SANDBOX":
      return [buildAccount({
        key: "SANDBOX:DEMO",
        name: "Sandbox Brokerage Account",
        number: "SB0000001",
        currency: "USD",
        type: "INDIVIDUAL",
        subtype: "individual",
        tickers: ["VTI", "VXUS", "BND", "SCHD", "KO", "PEP", "SPAXX"],
        fixedUnits: { SPAXX: "1520.75" },
      })];
    default:
      throw new RangeError(`unknown brokerage ${slug}`);
  }
}

/** A demo Plaid institution. */
export interface DemoInstitution {
  id: string;
  name: string;
}

/** The institutions the Hosted Link page offers. */
export const INSTITUTIONS: DemoInstitution[] = [
  { id: "ins_109508", name: "First Platypus Bank" },
  { id: "ins_109509", name: "First Gingham Credit Union" },
  { id: "ins_109510", name: "Tattersall Federal Credit Union" },
];

/** The accounts a new Plaid item at `institutionId` starts with. */
export function plaidDemoAccounts(institutionId: string): DemoAccount[] {
  switch (institutionId) {
    case "ins_109508":
      return [
        buildAccount({
          key: "ins_109508:brokerage",
          name: "Plaid Brokerage",
          number: "5555",
          currency: "USD",
          type: "investment",
          subtype: "brokerage",
          tickers: ["AAPL", "MSFT", "NFLX", "VOO", "BND", "VMFXX"],
          fixedUnits: { VMFXX: "2300.40" },
          options: [optionSecurity("NFLX", "PUT", "600", "2027-03-19", "41.20")],
        }),
        buildAccount({
          key: "ins_109508:ira",
          name: "Plaid IRA",
          number: "6666",
          currency: "USD",
          type: "investment",
          subtype: "ira",
          tickers: ["VTI", "VXUS", "SCHD"],
        }),
      ];
    case "ins_109509":
      return [buildAccount({
        key: "ins_109509:brokerage",
        name: "Gingham Investment",
        number: "7777",
        currency: "USD",
        type: "investment",
        subtype: "brokerage",
        tickers: ["KO", "PEP", "DIS", "INTC", "SPY"],
      })];
    case "ins_109510":
      return [buildAccount({
        key: "ins_109510:401k",
        name: "Tattersall 401k",
        number: "8888",
        currency: "USD",
        type: "investment",
        subtype: "401k",
        tickers: ["VFIAX", "FXAIX", "SPAXX"],
        fractional: true,
        fixedUnits: { SPAXX: "812.33" },
      })];
    default:
      throw new RangeError(`unknown institution ${institutionId}`);
  }
}

/** The market value of a holding, decimal string with 2 places. */
export function holdingValue(h: Holding): string {
  const mult = h.security.option ? h.security.option.multiplier : "1";
  return new Decimal(h.units).mul(h.security.price).mul(mult).toFixed(2);
}

/** Cash plus every holding's value. */
export function accountValue(a: DemoAccount): string {
  return a.holdings.reduce((s, h) => s.plus(holdingValue(h)), new Decimal(a.cash)).toFixed(2);
}

/** Every ticker the sandbox knows by name (symbol search looks here). */
export const KNOWN_TICKERS: string[] = [
  ...Object.keys(NAMES).filter((t) => t !== "CUR:USD").map((t) => t.replace("_", ".")),
  ...TAIL,
];
