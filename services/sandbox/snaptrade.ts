/**
 * The SnapTrade imitation: the REST API the official SDK calls (signed requests, per-client
 * rate limit, SnapTrade's error bodies), the connection portal, and signed webhooks.
 * Mounted by `mod.ts` at `/snaptrade` and `/snaptrade/api/v1`; paths here are relative.
 * @module
 */
import { Decimal } from "decimal.js";
import { Hono } from "hono";
import type { Context } from "hono";
import { routePath } from "hono/route";
import { z } from "zod";
import {
  AdminError,
  esc,
  num,
  page,
  randomToken,
  type SandboxCore,
  timingSafeEqual,
} from "./core.ts";
import {
  accountValue,
  BROKERAGES,
  type DemoAccount,
  type DemoBrokerage,
  holdingValue,
  KNOWN_TICKERS,
  type Security,
  securityFor,
  snaptradeDemoAccounts,
  type Transaction,
} from "./demo_data.ts";
import { stableUuid } from "./prng.ts";
import {
  type DeliveryResult,
  hmacBase64,
  signSnapTradeWebhook,
  snapTradeTimestamp,
} from "./webhooks.ts";

/** SnapTrade credentials and behaviour of the imitation. */
export interface SnapTradeOptions {
  clientId: string;
  consumerKey: string;
  /** Where webhooks go (SnapTrade's dashboard setting); none are sent without it. */
  webhookUrl?: string;
  /**
   * The deprecated `webhookSecret` SnapTrade still puts in every webhook body (default: one
   * derived from the client id).
   */
  webhookSecret?: string;
  /** Requests per rolling minute per clientId (SnapTrade: 250). */
  rateLimitPerMinute?: number;
  /** Minimum time between two refreshes of one connection (default 60 s). */
  refreshCooldownMs?: number;
}

interface User {
  userId: string;
  userSecret: string;
  createdAt: number;
}

interface Authorization {
  id: string;
  userId: string;
  brokerage: DemoBrokerage;
  type: "read" | "trade";
  disabled: boolean;
  disabledAt: number | null;
  createdAt: number;
  updatedAt: number;
  lastRefreshAt: number | null;
  name: string;
}

interface Order {
  record: Record<string, unknown>;
  placedAt: number;
  open: boolean;
  executed: boolean;
}

interface Account {
  id: string;
  authorizationId: string;
  userId: string;
  createdAt: number;
  data: DemoAccount;
  orders: Order[];
}

interface LoginToken {
  userId: string;
  broker?: string;
  connectionType: "read" | "trade" | "trade-if-available";
  reconnect?: string;
  customRedirect?: string;
  sessionId: string;
  expiresAt: number;
  used: boolean;
}

interface TradeQuote {
  id: string;
  accountId: string;
  userId: string;
  security: Security;
  action: "BUY" | "SELL";
  orderType: string;
  timeInForce: string;
  units: string;
  price: string | null;
  stop: string | null;
  createdAt: number;
  placed: boolean;
}

/** The SnapTrade imitation and its admin hooks. */
export interface SnapTradeSandbox {
  /** Signed REST API; paths relative to the mount. */
  api: Hono;
  /** Connection portal pages; paths relative to `/snaptrade`. */
  portal: Hono;
  admin: {
    setHolding(connection: string, symbol: string, quantity: string, account?: string): void;
    fireWebhook(eventType: string, connection: string, account?: string): Promise<DeliveryResult>;
    breakConnection(connection: string): void;
    fixConnection(connection: string): void;
    /** Changes where webhooks go (SnapTrade's dashboard setting); `null` stops them. */
    setWebhookUrl(url: string | null): void;
  };
  /** What SnapTrade would keep (users, connections, accounts, orders, portal links, trades). */
  snapshot(): SnapTradeState;
}

/**
 * The persisted SnapTrade state: plain JSON, decimals as strings. Rate-limit windows are left
 * out; the webhook URL comes from the configuration.
 */
export interface SnapTradeState {
  users: User[];
  authorizations: (Omit<Authorization, "brokerage"> & { brokerage: string })[];
  accounts: Account[];
  logins: [string, LoginToken][];
  trades: TradeQuote[];
}

const TRADE_TTL_MS = 5 * 60_000;
const LOGIN_TTL_MS = 5 * 60_000;

/** The exact body SnapTrade answers a bad signature with. */
export const SIGNATURE_ERROR = {
  default_detail: "Unable to verify signature sent",
  default_code: 1076,
} as const;

// The SDK's own serializer (snaptrade-typescript-sdk requestAfterHook): keys sorted at every depth.
function jsonStringifyOrder(obj: unknown): string {
  const allKeys: string[] = [];
  const seen: Record<string, null> = {};
  JSON.stringify(obj, (key, value) => {
    if (!(key in seen)) {
      allKeys.push(key);
      seen[key] = null;
    }
    return value;
  });
  allKeys.sort();
  return JSON.stringify(obj, allKeys);
}

/** The request signature the SnapTrade SDK computes for `{content, path, query}`. */
export async function snapTradeRequestSignature(
  consumerKey: string,
  content: unknown,
  path: string,
  query: string,
): Promise<string> {
  return await hmacBase64(encodeURI(consumerKey), jsonStringifyOrder({ content, path, query }));
}

function currency(code: string) {
  const names: Record<string, string> = { USD: "US Dollar", CAD: "Canadian Dollar" };
  return { id: stableUuid(`currency:${code}`), code, name: names[code] ?? code };
}

function exchange(sec: Security) {
  const tsx = sec.exchange === "TSX";
  return {
    id: stableUuid(`exchange:${sec.exchange}`),
    code: sec.exchange,
    mic_code: tsx ? "XTSE" : sec.exchange === "NASDAQ" ? "XNAS" : null,
    name: tsx ? "Toronto Stock Exchange" : sec.exchange,
    timezone: tsx ? "America/Toronto" : "America/New_York",
    start_time: "09:30:00",
    close_time: "16:00:00",
    suffix: tsx ? ".TO" : null,
  };
}

const TYPE_CODES: Record<string, [string, string]> = {
  stock: ["cs", "Common Stock"],
  etf: ["et", "ETF"],
  crypto: ["crypto", "Cryptocurrency"],
  mutualfund: ["oef", "Open Ended Fund"],
  cash: ["cash", "Cash"],
  option: ["op", "Option"],
};

function universalSymbol(sec: Security) {
  const [code, description] = TYPE_CODES[sec.kind];
  return {
    id: sec.id,
    symbol: sec.ticker,
    raw_symbol: sec.ticker.replace(/\.TO$/, ""),
    description: sec.name,
    currency: currency(sec.currency),
    exchange: exchange(sec),
    type: { id: stableUuid(`type:${code}`), code, description, is_supported: true },
    figi_code: null,
    figi_instrument: null,
    currencies: [currency(sec.currency)],
  };
}

function optionSymbol(sec: Security) {
  const o = sec.option!;
  return {
    id: sec.id,
    ticker: sec.ticker,
    option_type: o.type,
    strike_price: Number(o.strike),
    expiration_date: o.expiration,
    is_mini_option: false,
    underlying_symbol: universalSymbol(securityFor(o.underlying)),
  };
}

function instrument(sec: Security): Record<string, unknown> {
  if (sec.option) {
    const o = sec.option;
    const u = securityFor(o.underlying);
    return {
      kind: "option",
      id: sec.id,
      symbol: sec.ticker,
      option_type: o.type,
      strike_price: o.strike,
      expiration_date: o.expiration,
      multiplier: o.multiplier,
      description: sec.name,
      underlying: instrument(u),
    };
  }
  return {
    kind: sec.kind === "cash" ? "other" : sec.kind,
    id: sec.id,
    symbol: sec.ticker,
    raw_symbol: sec.ticker.replace(/\.TO$/, ""),
    description: sec.name,
    currency: sec.currency,
    exchange: sec.exchange,
    figi_instrument: null,
  };
}

function brokerageJson(b: DemoBrokerage) {
  return {
    id: stableUuid(`brokerage:${b.slug}`),
    slug: b.slug,
    name: b.name,
    display_name: b.name,
    description: `${b.name} (Meridian sandbox)`,
    aws_s3_logo_url: "",
    aws_s3_square_logo_url: null,
    url: null,
    enabled: true,
    maintenance_mode: false,
    is_degraded: false,
    allows_trading: b.allowsTrading,
    allows_fractional_units: b.allowsFractional,
    has_reporting: true,
    is_real_time_connection: false,
    brokerage_type: { id: stableUuid("brokerage-type:traditional"), name: "Traditional Brokerage" },
    exchanges: [],
    open_url: null,
  };
}

const iso = (ms: number) => new Date(ms).toISOString();

/** Builds the SnapTrade imitation, starting from `saved` when given (throws if it is malformed). */
export function createSnapTrade(
  core: SandboxCore,
  opts: SnapTradeOptions,
  saved?: SnapTradeState,
): SnapTradeSandbox {
  const users = new Map<string, User>();
  const auths = new Map<string, Authorization>();
  const accounts = new Map<string, Account>();
  const logins = new Map<string, LoginToken>();
  const trades = new Map<string, TradeQuote>();
  if (saved) {
    for (const u of saved.users) users.set(u.userId, u);
    for (const a of saved.authorizations) {
      const brokerage = BROKERAGES.find((b) => b.slug === a.brokerage);
      if (!brokerage) throw new Error(`saved SnapTrade state: unknown brokerage ${a.brokerage}`);
      auths.set(a.id, { ...a, brokerage });
    }
    for (const a of saved.accounts) {
      if (!auths.has(a.authorizationId) || !Array.isArray(a.data.holdings)) {
        throw new Error(`saved SnapTrade state: bad account ${a.id}`);
      }
      accounts.set(a.id, a);
    }
    for (const [token, t] of saved.logins) logins.set(token, t);
    for (const t of saved.trades) trades.set(t.id, t);
  }
  const hits = new Map<string, number[]>();
  const limit = opts.rateLimitPerMinute ?? 250;
  const cooldown = opts.refreshCooldownMs ?? 60_000;
  let webhookUrl = opts.webhookUrl;
  const webhookSecret = opts.webhookSecret ??
    `whsec_${stableUuid(`webhook-secret:${opts.clientId}`)}`;

  // ---- webhooks ---------------------------------------------------------------------------

  function payload(eventType: string, userId: string, extra: Record<string, unknown>) {
    return {
      webhookId: crypto.randomUUID(),
      clientId: opts.clientId,
      eventTimestamp: snapTradeTimestamp(core.now()),
      userId,
      eventType,
      webhookSecret,
      ...extra,
    };
  }

  function connectionFields(a: Authorization) {
    return {
      brokerageId: stableUuid(`brokerage:${a.brokerage.slug}`),
      brokerageAuthorizationId: a.id,
    };
  }

  const OK = { success: true, error: null };
  function accountFields(a: Authorization, acct: Account, eventType: string) {
    return {
      ...connectionFields(a),
      accountId: acct.id,
      ...(eventType === "ACCOUNT_HOLDINGS_UPDATED"
        ? { details: { total_value: OK, positions: OK, balances: OK, orders: OK } }
        : {}),
    };
  }

  async function build(eventType: string, userId: string, extra: Record<string, unknown>) {
    const p = payload(eventType, userId, extra);
    const { body, signature } = await signSnapTradeWebhook(p, opts.consumerKey);
    return {
      provider: "snaptrade" as const,
      url: webhookUrl!,
      body,
      headers: { Signature: signature },
      event: `${eventType} ${p.webhookId}`,
    };
  }

  function emit(eventType: string, userId: string, extra: Record<string, unknown>, delayMs = 0) {
    if (!webhookUrl) return;
    core.webhooks.enqueueSoon(build(eventType, userId, extra), delayMs);
  }

  function emitHoldingsUpdated(a: Authorization, delayMs = 0) {
    for (const acct of accountsOf(a.id)) {
      emit(
        "ACCOUNT_HOLDINGS_UPDATED",
        a.userId,
        accountFields(a, acct, "ACCOUNT_HOLDINGS_UPDATED"),
        delayMs,
      );
    }
  }

  const accountsOf = (authId: string) =>
    [...accounts.values()].filter((a) => a.authorizationId === authId);

  // ---- JSON shapes ------------------------------------------------------------------------

  function accountJson(acct: Account) {
    const a = auths.get(acct.authorizationId)!;
    const first = acct.data.transactions[0]?.date ?? null;
    return {
      id: acct.id,
      brokerage_authorization: a.id,
      portfolio_group: null,
      name: acct.data.name,
      number: acct.data.number,
      institution_account_id: acct.data.number,
      institution_name: a.brokerage.name,
      created_date: iso(acct.createdAt),
      funding_date: null,
      opening_date: null,
      sync_status: {
        transactions: {
          initial_sync_completed: true,
          last_successful_sync: first ? iso(a.lastRefreshAt ?? acct.createdAt).slice(0, 10) : null,
          first_transaction_date: first,
        },
        holdings: {
          initial_sync_completed: true,
          last_successful_sync: iso(a.lastRefreshAt ?? acct.createdAt),
          holdings_unavailable: false,
        },
      },
      balance: { total: { amount: num(accountValue(acct.data)), currency: acct.data.currency } },
      status: "open",
      raw_type: acct.data.type,
      account_category: "INVESTMENT",
      meta: { type: acct.data.type, institution_name: a.brokerage.name },
      cash_restrictions: [],
      is_paper: false,
    };
  }

  function authJson(a: Authorization) {
    return {
      id: a.id,
      created_date: iso(a.createdAt),
      updated_date: iso(a.updatedAt),
      brokerage: brokerageJson(a.brokerage),
      name: a.name,
      type: a.type,
      disabled: a.disabled,
      disabled_date: a.disabledAt === null ? null : iso(a.disabledAt),
      meta: {},
      is_eligible_for_payout: false,
      data_freshness_mode: "daily",
    };
  }

  function balancesJson(acct: Account) {
    return [{
      currency: currency(acct.data.currency),
      cash: num(acct.data.cash),
      buying_power: num(acct.data.cash),
    }];
  }

  function positionJson(acct: Account, h: DemoAccount["holdings"][number]) {
    const brokerage = auths.get(acct.authorizationId)!.brokerage;
    const units = new Decimal(h.units);
    return {
      symbol: {
        symbol: universalSymbol(h.security),
        id: h.security.id,
        description: h.security.name,
        local_id: null,
        is_quotable: true,
        is_tradable: true,
      },
      units: units.toNumber(),
      price: num(h.security.price),
      open_pnl: new Decimal(h.security.price).minus(h.averageCost).mul(units).toDecimalPlaces(2)
        .toNumber(),
      average_purchase_price: num(h.averageCost),
      fractional_units: brokerage.allowsFractional && !units.isInteger() ? units.toNumber() : null,
      currency: currency(h.security.currency),
      cash_equivalent: h.security.cashEquivalent,
      tax_lots: [],
    };
  }

  function optionPositionJson(h: DemoAccount["holdings"][number]) {
    return {
      symbol: {
        id: h.security.id,
        option_symbol: optionSymbol(h.security),
        description: h.security.name,
      },
      price: num(h.security.price),
      units: num(h.units),
      average_purchase_price: new Decimal(h.averageCost).mul(100).toNumber(),
      currency: currency("USD"),
    };
  }

  function allPositionJson(h: DemoAccount["holdings"][number]) {
    const mult = h.security.option ? h.security.option.multiplier : "1";
    return {
      instrument: instrument(h.security),
      units: h.units,
      price: h.security.price,
      cost_basis: new Decimal(h.units).mul(h.averageCost).mul(mult).toFixed(2),
      currency: h.security.currency,
      cash_equivalent: h.security.cashEquivalent,
      tax_lots: [],
    };
  }

  function activityJson(acct: Account, t: Transaction) {
    const settle = new Date(Date.parse(`${t.date}T00:00:00Z`) + 2 * 86_400_000).toISOString();
    const sec = t.security;
    return {
      id: t.id,
      account: {
        id: acct.id,
        name: acct.data.name,
        number: acct.data.number,
        institution_account_id: acct.data.number,
        sync_status: accountJson(acct).sync_status,
      },
      symbol: sec && !sec.option ? universalSymbol(sec) : null,
      option_symbol: sec?.option ? optionSymbol(sec) : null,
      currency_universal_symbol: null,
      price: Number(t.price),
      units: Number(t.units),
      amount: Number(t.amount),
      currency: currency(t.currency),
      type: t.type,
      option_type: sec?.option ? (t.type === "BUY" ? "BUY_TO_OPEN" : "SELL_TO_CLOSE") : "",
      description: t.description,
      trade_date: `${t.date}T00:00:00Z`,
      settlement_date: settle,
      fee: Number(t.fee),
      fx_rate: null,
      institution: auths.get(acct.authorizationId)!.brokerage.name,
      external_reference_id: null,
    };
  }

  // ---- errors -----------------------------------------------------------------------------

  type Status = 400 | 401 | 402 | 403 | 404 | 409 | 429;
  const fail = (c: Context, status: Status, detail: string, code: string) =>
    c.json({ detail, status_code: status, code }, status);

  function authUser(c: Context): User | Response {
    const userId = c.req.query("userId");
    const userSecret = c.req.query("userSecret");
    if (!userId || !userSecret) {
      return fail(c, 400, "userId and userSecret are required", "1068");
    }
    const u = users.get(userId);
    if (!u || !timingSafeEqual(u.userSecret, userSecret)) {
      return fail(c, 401, "Invalid userID or userSecret provided", "1083");
    }
    return u;
  }

  function ownAccount(c: Context, u: User, id: string, needLive = true): Account | Response {
    const acct = accounts.get(id);
    if (!acct || acct.userId !== u.userId) {
      return fail(c, 404, "Unable to find the specified account", "1011");
    }
    if (needLive && auths.get(acct.authorizationId)!.disabled) {
      return c.json({
        detail: "This connection has been disabled. Please reconnect it through the portal.",
        code: "3003",
      }, 402);
    }
    return acct;
  }

  // ---- API --------------------------------------------------------------------------------

  const api = new Hono();

  api.use("*", async (c, next) => {
    const rel = c.req.path;
    const isStatus = rel === "/" || rel === "";
    c.header("X-Request-ID", crypto.randomUUID());
    let remaining = limit;
    let reset = 60;
    const clientId = c.req.query("clientId");
    if (!isStatus && clientId === opts.clientId) {
      const now = core.now();
      const window = (hits.get(clientId) ?? []).filter((t) => t > now - 60_000);
      hits.set(clientId, window);
      if (window.length >= limit) {
        const wait = Math.max(1, Math.ceil((window[0] + 60_000 - now) / 1000));
        c.header("X-RateLimit-Limit", String(limit));
        c.header("X-RateLimit-Remaining", "0");
        c.header("X-RateLimit-Reset", String(wait));
        c.header("Retry-After", String(wait));
        record(c);
        return c.json({
          detail: `Request was throttled. Expected available in ${wait} seconds.`,
          status_code: 429,
          code: "0000",
        }, 429);
      }
      window.push(now);
      remaining = limit - window.length;
      reset = Math.max(1, Math.ceil((window[0] + 60_000 - now) / 1000));
    }
    c.header("X-RateLimit-Limit", String(limit));
    c.header("X-RateLimit-Remaining", String(remaining));
    c.header("X-RateLimit-Reset", String(reset));
    if (isStatus) return await next();
    record(c);
    if (clientId !== opts.clientId) {
      return fail(c, 401, "Invalid clientId provided", "1079");
    }
    const body = await c.req.raw.clone().text();
    let content: unknown = null;
    if (body !== "" && body !== "{}") {
      try {
        content = JSON.parse(body);
      } catch {
        // A body that is not JSON cannot have been signed by the SDK.
        return c.json(SIGNATURE_ERROR, 401);
      }
    }
    const raw = c.req.url;
    const q = raw.indexOf("?");
    const query = q === -1 ? "" : raw.slice(q + 1).split("#")[0];
    const sent = c.req.header("Signature") ?? "";
    let ok = false;
    const pathname = new URL(raw).pathname;
    const candidates = pathname.startsWith("/api/v1")
      ? [pathname, pathname.slice(7)]
      : [pathname, `/api/v1${pathname}`];
    for (const path of candidates) {
      const expected = await snapTradeRequestSignature(opts.consumerKey, content, path, query);
      if (timingSafeEqual(expected, sent)) ok = true;
    }
    const ts = Number(c.req.query("timestamp"));
    if (!ok || !Number.isFinite(ts) || Math.abs(core.now() / 1000 - ts) > 300) {
      return c.json(SIGNATURE_ERROR, 401);
    }
    await next();
  });

  function record(c: Context) {
    const route = routePath(c, -1);
    if (route && route !== "*" && route !== "/*") {
      core.calls.record("snaptrade", c.req.method, route);
    }
  }

  api.get("/", (c) => c.json({ version: 151, timestamp: iso(core.now()), online: true }));

  api.post("/snapTrade/registerUser", async (c) => {
    const parsed = z.object({ userId: z.string().min(1) }).safeParse(
      await c.req.json().catch(() => null),
    );
    if (!parsed.success) return fail(c, 400, "userId is required", "1068");
    const { userId } = parsed.data;
    if (users.has(userId)) return fail(c, 400, "User already exist", "1010");
    const u: User = { userId, userSecret: crypto.randomUUID(), createdAt: core.now() };
    users.set(userId, u);
    emit("USER_REGISTERED", userId, {});
    return c.json({ userId, userSecret: u.userSecret });
  });

  api.delete("/snapTrade/deleteUser", (c) => {
    const userId = c.req.query("userId");
    if (!userId || !users.has(userId)) return fail(c, 404, "User not found", "1011");
    users.delete(userId);
    for (const a of [...auths.values()].filter((a) => a.userId === userId)) removeAuth(a);
    emit("USER_DELETED", userId, {});
    return c.json({ status: "deleted", detail: `User ${userId} deleted`, userId });
  });

  const LoginBody = z.object({
    broker: z.string().optional(),
    immediateRedirect: z.boolean().optional(),
    customRedirect: z.string().optional(),
    reconnect: z.string().optional(),
    connectionType: z.enum(["read", "trade", "trade-if-available"]).optional(),
    showCloseButton: z.boolean().optional(),
    darkMode: z.boolean().optional(),
    connectionPortalVersion: z.string().optional(),
  }).passthrough();

  api.post("/snapTrade/login", async (c) => {
    const u = authUser(c);
    if (u instanceof Response) return u;
    const text = await c.req.text();
    const parsed = LoginBody.safeParse(text ? JSON.parse(text) : {});
    if (!parsed.success) return fail(c, 400, "Invalid login parameters", "1068");
    const b = parsed.data;
    if (b.broker && !BROKERAGES.some((x) => x.slug === b.broker)) {
      return fail(c, 400, `Unknown brokerage ${b.broker}`, "1068");
    }
    if (b.reconnect) {
      const a = auths.get(b.reconnect);
      if (!a || a.userId !== u.userId) {
        return fail(c, 404, "Unable to find the specified connection", "1011");
      }
    }
    const token = randomToken();
    const sessionId = crypto.randomUUID();
    logins.set(token, {
      userId: u.userId,
      broker: b.broker,
      connectionType: b.connectionType ?? "read",
      reconnect: b.reconnect,
      customRedirect: b.customRedirect,
      sessionId,
      expiresAt: core.now() + LOGIN_TTL_MS,
      used: false,
    });
    const url = new URL(`${core.publicUrl()}/snaptrade/portal`);
    url.searchParams.set("token", token);
    url.searchParams.set("clientId", opts.clientId);
    if (b.broker) url.searchParams.set("broker", b.broker);
    url.searchParams.set("connectionPortalVersion", "v4");
    url.searchParams.set("sessionId", sessionId);
    return c.json({ redirectURI: url.toString(), sessionId });
  });

  api.get("/accounts", (c) => {
    const u = authUser(c);
    if (u instanceof Response) return u;
    return c.json(
      [...accounts.values()].filter((a) => a.userId === u.userId).map(accountJson),
    );
  });

  api.get("/accounts/:accountId", (c) => {
    const u = authUser(c);
    if (u instanceof Response) return u;
    const acct = ownAccount(c, u, c.req.param("accountId"), false);
    return acct instanceof Response ? acct : c.json(accountJson(acct));
  });

  api.get("/accounts/:accountId/balances", (c) => {
    const u = authUser(c);
    if (u instanceof Response) return u;
    const acct = ownAccount(c, u, c.req.param("accountId"));
    return acct instanceof Response ? acct : c.json(balancesJson(acct));
  });

  api.get("/accounts/:accountId/positions", (c) => {
    const u = authUser(c);
    if (u instanceof Response) return u;
    const acct = ownAccount(c, u, c.req.param("accountId"));
    if (acct instanceof Response) return acct;
    return c.json(
      acct.data.holdings.filter((h) => !h.security.option).map((h) => positionJson(acct, h)),
    );
  });

  api.get("/accounts/:accountId/options", (c) => {
    const u = authUser(c);
    if (u instanceof Response) return u;
    const acct = ownAccount(c, u, c.req.param("accountId"));
    if (acct instanceof Response) return acct;
    return c.json(acct.data.holdings.filter((h) => h.security.option).map(optionPositionJson));
  });

  api.get("/accounts/:accountId/positions/all", (c) => {
    const u = authUser(c);
    if (u instanceof Response) return u;
    const acct = ownAccount(c, u, c.req.param("accountId"));
    if (acct instanceof Response) return acct;
    const a = auths.get(acct.authorizationId)!;
    return c.json({
      results: acct.data.holdings.map(allPositionJson),
      data_freshness: { as_of: iso(a.lastRefreshAt ?? acct.createdAt) },
    });
  });

  api.get("/accounts/:accountId/holdings", (c) => {
    const u = authUser(c);
    if (u instanceof Response) return u;
    const acct = ownAccount(c, u, c.req.param("accountId"));
    if (acct instanceof Response) return acct;
    return c.json({
      account: accountJson(acct),
      balances: balancesJson(acct),
      positions: acct.data.holdings.filter((h) => !h.security.option).map((h) =>
        positionJson(acct, h)
      ),
      option_positions: acct.data.holdings.filter((h) => h.security.option).map(
        optionPositionJson,
      ),
      orders: acct.orders.map((o) => o.record),
      total_value: { value: num(accountValue(acct.data)), currency: acct.data.currency },
    });
  });

  api.get("/accounts/:accountId/activities", (c) => {
    const u = authUser(c);
    if (u instanceof Response) return u;
    const acct = ownAccount(c, u, c.req.param("accountId"));
    if (acct instanceof Response) return acct;
    const q = z.object({
      startDate: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).optional(),
      endDate: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).optional(),
      offset: z.coerce.number().int().min(0).default(0),
      limit: z.coerce.number().int().min(1).max(1000).default(1000),
      type: z.string().optional(),
    }).safeParse(c.req.query());
    if (!q.success) return fail(c, 400, "Invalid query parameters", "1068");
    const { startDate, endDate, offset, limit: pageSize, type } = q.data;
    const types = type ? new Set(type.split(",").map((t) => t.trim().toUpperCase())) : null;
    const all = acct.data.transactions.filter((t) =>
      (!startDate || t.date >= startDate) && (!endDate || t.date <= endDate) &&
      (!types || types.has(t.type))
    );
    return c.json({
      data: all.slice(offset, offset + pageSize).map((t) => activityJson(acct, t)),
      pagination: { offset, limit: pageSize, total: all.length },
    });
  });

  api.get("/accounts/:accountId/orders", (c) => {
    const u = authUser(c);
    if (u instanceof Response) return u;
    const acct = ownAccount(c, u, c.req.param("accountId"));
    if (acct instanceof Response) return acct;
    const state = c.req.query("state") ?? "all";
    const days = Number(c.req.query("days") ?? "30");
    const since = core.now() - (Number.isFinite(days) ? days : 30) * 86_400_000;
    return c.json(
      acct.orders.filter((o) =>
        o.placedAt >= since &&
        (state === "all" || (state === "open" ? o.open : state === "executed" ? o.executed : true))
      ).map((o) => o.record),
    );
  });

  api.get("/accounts/:accountId/recentOrders", (c) => {
    const u = authUser(c);
    if (u instanceof Response) return u;
    const acct = ownAccount(c, u, c.req.param("accountId"));
    if (acct instanceof Response) return acct;
    const since = core.now() - 86_400_000;
    return c.json({
      orders: acct.orders.filter((o) => o.executed && o.placedAt >= since).map((o) => o.record),
    });
  });

  api.get("/authorizations", (c) => {
    const u = authUser(c);
    if (u instanceof Response) return u;
    return c.json([...auths.values()].filter((a) => a.userId === u.userId).map(authJson));
  });

  const ownAuth = (c: Context, u: User): Authorization | Response => {
    const a = auths.get(c.req.param("authorizationId") ?? "");
    if (!a || a.userId !== u.userId) {
      return fail(c, 404, "Unable to find the specified connection", "1011");
    }
    return a;
  };

  api.get("/authorizations/:authorizationId", (c) => {
    const u = authUser(c);
    if (u instanceof Response) return u;
    const a = ownAuth(c, u);
    return a instanceof Response ? a : c.json(authJson(a));
  });

  api.post("/authorizations/:authorizationId/refresh", (c) => {
    const u = authUser(c);
    if (u instanceof Response) return u;
    const a = ownAuth(c, u);
    if (a instanceof Response) return a;
    if (a.disabled) {
      return c.json({ detail: "This connection has been disabled.", code: "3003" }, 402);
    }
    const now = core.now();
    if (a.lastRefreshAt !== null && now - a.lastRefreshAt < cooldown) {
      return c.json({
        detail: "Connection refreshed too recently. Please wait before refreshing again.",
        status_code: 429,
        code: "throttled",
      }, 429);
    }
    a.lastRefreshAt = now;
    // The refresh is "queued"; SnapTrade reports its end with ACCOUNT_HOLDINGS_UPDATED.
    emitHoldingsUpdated(a, 50);
    return c.json({
      detail: `Connection ${a.id} scheduled for refresh`,
      brokerage_authorization: authJson(a),
    });
  });

  function removeAuth(a: Authorization) {
    auths.delete(a.id);
    for (const acct of accountsOf(a.id)) accounts.delete(acct.id);
  }

  api.delete("/authorizations/:authorizationId", (c) => {
    const u = authUser(c);
    if (u instanceof Response) return u;
    const a = ownAuth(c, u);
    if (a instanceof Response) return a;
    removeAuth(a);
    emit("CONNECTION_DELETED", a.userId, connectionFields(a));
    return c.body(null, 204);
  });

  api.post("/accounts/:accountId/symbols", async (c) => {
    const u = authUser(c);
    if (u instanceof Response) return u;
    const acct = ownAccount(c, u, c.req.param("accountId"), false);
    if (acct instanceof Response) return acct;
    const body = await c.req.json().catch(() => ({}));
    const sub = String((body as { substring?: unknown }).substring ?? "").toUpperCase();
    const held = acct.data.holdings.filter((h) => !h.security.option).map((h) => h.security.ticker);
    const tickers = [...new Set([...held, ...KNOWN_TICKERS])];
    const found = tickers.map(securityFor).filter((s) =>
      s.ticker.startsWith(sub) || s.name.toUpperCase().includes(sub)
    ).sort((x, y) => Number(!x.ticker.startsWith(sub)) - Number(!y.ticker.startsWith(sub)))
      .slice(0, 20);
    return c.json(found.map(universalSymbol));
  });

  // ---- trading ----------------------------------------------------------------------------

  const dec = z.union([z.number(), z.string().regex(/^-?\d+(\.\d+)?$/)]).transform(String);
  const ImpactBody = z.object({
    account_id: z.string(),
    action: z.enum(["BUY", "SELL"]),
    universal_symbol_id: z.string(),
    order_type: z.enum(["Limit", "Market", "StopLimit", "Stop"]),
    time_in_force: z.enum(["FOK", "Day", "GTC", "IOC"]),
    price: dec.nullish(),
    stop: dec.nullish(),
    units: dec.nullish(),
    notional_value: dec.nullish(),
  });
  const ForceBody = z.object({
    account_id: z.string(),
    action: z.enum(["BUY", "SELL", "BUY_TO_OPEN", "BUY_TO_CLOSE", "SELL_TO_OPEN", "SELL_TO_CLOSE"]),
    universal_symbol_id: z.string().nullish(),
    symbol: z.string().nullish(),
    order_type: z.enum(["Limit", "Market", "StopLimit", "Stop"]),
    time_in_force: z.enum(["FOK", "Day", "GTC", "IOC", "GTD"]),
    trading_session: z.enum(["REGULAR", "EXTENDED"]).nullish(),
    expiry_date: z.string().nullish(),
    price: dec.nullish(),
    stop: dec.nullish(),
    units: dec.nullish(),
    notional_value: dec.nullish(),
    client_order_id: z.string().nullish(),
  });

  function symbolById(acct: Account, id: string): Security | undefined {
    const held = acct.data.holdings.find((h) => h.security.id === id)?.security;
    return held ?? KNOWN_TICKERS.map(securityFor).find((s) => s.id === id);
  }

  /** Checks a trade is allowed; answers the refusal or the units to trade. */
  function checkTrade(
    c: Context,
    acct: Account,
    sec: Security,
    action: "BUY" | "SELL",
    units: string | null | undefined,
    notional: string | null | undefined,
    limitPrice: string | null | undefined,
  ): Response | string {
    const a = auths.get(acct.authorizationId)!;
    if (a.type !== "trade" || !a.brokerage.allowsTrading) {
      return fail(
        c,
        403,
        "This connection is read-only. Reconnect it with connectionType=trade to place trades.",
        "1141",
      );
    }
    const price = new Decimal(limitPrice ?? sec.price);
    let u: Decimal;
    if (units) u = new Decimal(units);
    else if (notional) u = new Decimal(notional).div(price).toDecimalPlaces(6, Decimal.ROUND_DOWN);
    else return fail(c, 400, "Either units or notional_value is required", "1068");
    if (u.lte(0)) return fail(c, 400, "units must be positive", "1068");
    if (!u.isInteger() && !a.brokerage.allowsFractional) {
      return fail(c, 400, `${a.brokerage.name} does not support fractional units`, "1068");
    }
    if (action === "SELL") {
      const held = acct.data.holdings.find((h) => h.security.id === sec.id);
      if (!held || new Decimal(held.units).lt(u)) {
        return fail(c, 400, "Insufficient units to sell", "1068");
      }
    } else if (u.mul(price).gt(acct.data.cash)) {
      return fail(c, 400, "Insufficient buying power", "1068");
    }
    return u.toFixed();
  }

  function placeOrder(
    acct: Account,
    sec: Security,
    action: "BUY" | "SELL",
    orderType: string,
    timeInForce: string,
    units: string,
    limitPrice: string | null,
    stopPrice: string | null,
  ): Record<string, unknown> {
    const now = core.now();
    const market = new Decimal(sec.price);
    const fills = orderType === "Market" ||
      (orderType === "Limit" && limitPrice !== null &&
        (action === "BUY" ? market.lte(limitPrice) : market.gte(limitPrice)));
    const record: Record<string, unknown> = {
      brokerage_order_id: crypto.randomUUID(),
      status: fills ? "EXECUTED" : "ACCEPTED",
      universal_symbol: universalSymbol(sec),
      option_symbol: null,
      action,
      total_quantity: units,
      open_quantity: fills ? "0" : units,
      canceled_quantity: "0",
      filled_quantity: fills ? units : "0",
      execution_price: fills ? sec.price : null,
      limit_price: limitPrice,
      stop_price: stopPrice,
      order_type: orderType,
      time_in_force: timeInForce,
      time_placed: iso(now),
      time_updated: iso(now),
      time_executed: fills ? iso(now) : null,
      expiry_date: null,
      symbol: sec.id,
      child_brokerage_order_ids: null,
    };
    acct.orders.push({ record, placedAt: now, open: !fills, executed: fills });
    if (fills) {
      applyFill(acct, sec, action, units);
      const a = auths.get(acct.authorizationId)!;
      emit(
        "ACCOUNT_HOLDINGS_UPDATED",
        a.userId,
        accountFields(a, acct, "ACCOUNT_HOLDINGS_UPDATED"),
        50,
      );
    }
    return record;
  }

  function applyFill(acct: Account, sec: Security, action: "BUY" | "SELL", units: string) {
    const d = acct.data;
    const cost = new Decimal(units).mul(sec.price);
    const existing = d.holdings.find((h) => h.security.id === sec.id);
    if (action === "BUY") {
      d.cash = new Decimal(d.cash).minus(cost).toFixed(2);
      if (existing) {
        const total = new Decimal(existing.units).plus(units);
        existing.averageCost = new Decimal(existing.units).mul(existing.averageCost).plus(cost)
          .div(total).toDecimalPlaces(4).toFixed();
        existing.units = total.toFixed();
      } else d.holdings.push({ security: sec, units, averageCost: sec.price });
    } else if (existing) {
      d.cash = new Decimal(d.cash).plus(cost).toFixed(2);
      const left = new Decimal(existing.units).minus(units);
      if (left.isZero()) d.holdings.splice(d.holdings.indexOf(existing), 1);
      else existing.units = left.toFixed();
    }
    d.transactions.push({
      id: crypto.randomUUID(),
      date: iso(core.now()).slice(0, 10),
      type: action,
      security: sec,
      units: action === "BUY" ? units : new Decimal(units).neg().toFixed(),
      price: sec.price,
      amount: (action === "BUY" ? cost.neg() : cost).toFixed(2),
      fee: "0",
      currency: d.currency,
      description: `${action === "BUY" ? "Bought" : "Sold"} ${units} ${sec.ticker}`,
    });
  }

  api.post("/trade/impact", async (c) => {
    const u = authUser(c);
    if (u instanceof Response) return u;
    const parsed = ImpactBody.safeParse(await c.req.json().catch(() => null));
    if (!parsed.success) return fail(c, 400, "Invalid trade parameters", "1068");
    const b = parsed.data;
    const acct = ownAccount(c, u, b.account_id);
    if (acct instanceof Response) return acct;
    const sec = symbolById(acct, b.universal_symbol_id);
    if (!sec) return fail(c, 400, "Unknown universal_symbol_id", "1068");
    if ((b.order_type === "Limit" || b.order_type === "StopLimit") && !b.price) {
      return fail(c, 400, "price is required for limit orders", "1068");
    }
    const units = checkTrade(c, acct, sec, b.action, b.units, b.notional_value, b.price);
    if (units instanceof Response) return units;
    const quote: TradeQuote = {
      id: crypto.randomUUID(),
      accountId: acct.id,
      userId: u.userId,
      security: sec,
      action: b.action,
      orderType: b.order_type,
      timeInForce: b.time_in_force,
      units,
      price: b.price ?? null,
      stop: b.stop ?? null,
      createdAt: core.now(),
      placed: false,
    };
    trades.set(quote.id, quote);
    const value = new Decimal(units).mul(b.price ?? sec.price);
    const remaining = b.action === "BUY"
      ? new Decimal(acct.data.cash).minus(value)
      : new Decimal(acct.data.cash).plus(value);
    const impact = {
      account: acct.id,
      currency: acct.data.currency,
      remaining_cash: remaining.toDecimalPlaces(2).toNumber(),
      estimated_commission: 0,
      forex_fees: 0,
    };
    return c.json({
      trade: {
        id: quote.id,
        account: acct.id,
        order_type: b.order_type,
        time_in_force: b.time_in_force,
        symbol: {
          universal_symbol_id: sec.id,
          currency: currency(sec.currency),
          local_id: null,
          description: sec.name,
          symbol: sec.ticker,
          brokerage_symbol_id: sec.id,
        },
        action: b.action,
        units: Number(units),
        price: num(b.price ?? sec.price),
      },
      trade_impacts: [impact],
      combined_remaining_balance: {
        account: accountJson(acct),
        currency: currency(acct.data.currency),
        cash: impact.remaining_cash,
      },
    });
  });

  api.post("/trade/place", async (c) => {
    const u = authUser(c);
    if (u instanceof Response) return u;
    const parsed = ForceBody.safeParse(await c.req.json().catch(() => null));
    if (!parsed.success) return fail(c, 400, "Invalid trade parameters", "1068");
    const b = parsed.data;
    const acct = ownAccount(c, u, b.account_id);
    if (acct instanceof Response) return acct;
    const sec = b.universal_symbol_id
      ? symbolById(acct, b.universal_symbol_id)
      : b.symbol
      ? securityFor(b.symbol)
      : undefined;
    if (!sec) return fail(c, 400, "Unknown symbol", "1068");
    const action = b.action.startsWith("BUY") ? "BUY" : "SELL";
    if ((b.order_type === "Limit" || b.order_type === "StopLimit") && !b.price) {
      return fail(c, 400, "price is required for limit orders", "1068");
    }
    const units = checkTrade(c, acct, sec, action, b.units, b.notional_value, b.price);
    if (units instanceof Response) return units;
    return c.json(
      placeOrder(
        acct,
        sec,
        action,
        b.order_type,
        b.time_in_force,
        units,
        b.price ?? null,
        b.stop ?? null,
      ),
    );
  });

  api.post("/trade/:tradeId", (c) => {
    const u = authUser(c);
    if (u instanceof Response) return u;
    const quote = trades.get(c.req.param("tradeId"));
    if (!quote || quote.userId !== u.userId) {
      return fail(c, 404, "Unable to find the specified trade", "1011");
    }
    if (quote.placed) return fail(c, 400, "This trade has already been placed", "1071");
    if (core.now() - quote.createdAt > TRADE_TTL_MS) {
      return fail(c, 400, "This trade has expired; request a new trade impact", "1072");
    }
    const acct = ownAccount(c, u, quote.accountId);
    if (acct instanceof Response) return acct;
    const units = checkTrade(c, acct, quote.security, quote.action, quote.units, null, quote.price);
    if (units instanceof Response) return units;
    quote.placed = true;
    return c.json(
      placeOrder(
        acct,
        quote.security,
        quote.action,
        quote.orderType,
        quote.timeInForce,
        units,
        quote.price,
        quote.stop,
      ),
    );
  });

  const cancel = (legacy: boolean) => async (c: Context) => {
    const u = authUser(c);
    if (u instanceof Response) return u;
    const acct = ownAccount(c, u, c.req.param("accountId") ?? "");
    if (acct instanceof Response) return acct;
    const body = await c.req.json().catch(() => ({})) as { brokerage_order_id?: string };
    const o = acct.orders.find((o) => o.record.brokerage_order_id === body.brokerage_order_id);
    if (!o) return fail(c, 404, "Unable to find the specified order", "1011");
    if (!o.open) return fail(c, 400, "The order can no longer be canceled", "1073");
    o.open = false;
    Object.assign(o.record, {
      status: "CANCELED",
      canceled_quantity: o.record.open_quantity,
      open_quantity: "0",
      time_updated: iso(core.now()),
    });
    return c.json(
      legacy ? o.record : { brokerage_order_id: o.record.brokerage_order_id, raw_response: null },
    );
  };
  api.post("/accounts/:accountId/trading/cancel", cancel(false));
  api.post("/accounts/:accountId/orders/cancel", cancel(true));

  api.notFound((c) => fail(c, 404, "Not found", "1011"));

  // ---- connection portal ------------------------------------------------------------------

  const portal = new Hono();

  function liveToken(token: string | undefined): LoginToken | null {
    const t = token ? logins.get(token) : undefined;
    return t && !t.used && t.expiresAt > core.now() ? t : null;
  }

  function redirectTo(t: LoginToken, params: Record<string, string>): string {
    const target = t.customRedirect || `${core.publicUrl()}/snaptrade/portal/done`;
    const url = new URL(target);
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    return url.toString();
  }

  portal.get("/portal", (c) => {
    const token = c.req.query("token") ?? "";
    const t = liveToken(token);
    if (!t) {
      return c.html(
        page(
          "Link expired",
          "<h1>This connection link has expired</h1><p>Start again from the app.</p>",
        ),
        410,
      );
    }
    const reconnect = t.reconnect ? auths.get(t.reconnect) : undefined;
    const access = t.connectionType === "read" ? "Read-only" : "Trading";
    const options = reconnect ? [reconnect.brokerage] : BROKERAGES;
    const chosen = reconnect?.brokerage.slug ?? t.broker ?? options[0].slug;
    const radios = options.map((b) =>
      `<label><input type="radio" name="broker" value="${esc(b.slug)}"${
        b.slug === chosen ? " checked" : ""
      } required> ${esc(b.name)}${b.allowsTrading ? "" : " (read-only)"}</label>`
    ).join("\n");
    return c.html(page(
      "Connect your brokerage — SnapTrade sandbox",
      `<h1>${
        reconnect ? `Reconnect ${esc(reconnect.brokerage.name)}` : "Connect your brokerage"
      }</h1>
<p id="access">Access requested: <strong>${access}</strong> (${esc(t.connectionType)})</p>
<form method="post" action="portal">
<input type="hidden" name="token" value="${esc(token)}">
<fieldset><legend>Brokerage</legend>
${radios}
</fieldset>
<label>Username <input name="username" value="sandbox-user" autocomplete="username"></label>
<label>Password <input name="password" type="password" value="sandbox-pass" autocomplete="current-password"></label>
<button type="submit" name="action" value="connect">${reconnect ? "Reconnect" : "Connect"}</button>
<button type="submit" name="action" value="abandon" formnovalidate>Cancel</button>
</form>`,
    ));
  });

  portal.post("/portal", async (c) => {
    const form = await c.req.parseBody();
    const token = String(form.token ?? "");
    const t = liveToken(token);
    if (!t) {
      return c.html(page("Link expired", "<h1>This connection link has expired</h1>"), 410);
    }
    if (form.action === "abandon") {
      t.used = true;
      return c.redirect(redirectTo(t, { status: "ABANDONED" }), 303);
    }
    if (t.reconnect) {
      const a = auths.get(t.reconnect);
      if (!a) return c.html(page("Not found", "<h1>Connection not found</h1>"), 404);
      t.used = true;
      const wasDisabled = a.disabled;
      a.disabled = false;
      a.disabledAt = null;
      a.updatedAt = core.now();
      if (t.connectionType === "trade" && a.brokerage.allowsTrading) a.type = "trade";
      if (wasDisabled) emit("CONNECTION_FIXED", a.userId, connectionFields(a));
      emitHoldingsUpdated(a, 50);
      return c.redirect(redirectTo(t, { status: "SUCCESS", connection_id: a.id }), 303);
    }
    const brokerage = BROKERAGES.find((b) => b.slug === String(form.broker ?? t.broker ?? ""));
    if (!brokerage) {
      return c.html(page("Choose a brokerage", "<h1>Choose a brokerage</h1>"), 400);
    }
    if (t.connectionType === "trade" && !brokerage.allowsTrading) {
      t.used = true;
      return c.redirect(
        redirectTo(t, {
          status: "ERROR",
          status_code: "400",
          error_code: "TRADING_NOT_SUPPORTED",
        }),
        303,
      );
    }
    t.used = true;
    const a = createAuthorization(
      t.userId,
      brokerage,
      t.connectionType !== "read" && brokerage.allowsTrading ? "trade" : "read",
    );
    return c.redirect(redirectTo(t, { status: "SUCCESS", connection_id: a.id }), 303);
  });

  portal.get("/portal/done", (c) => {
    const status = c.req.query("status") ?? "";
    const id = c.req.query("connection_id") ?? "";
    return c.html(page(
      "Connection finished",
      `<h1>Connection ${esc(status.toLowerCase() || "finished")}</h1>${
        id ? `<p>Connection id: <code>${esc(id)}</code></p>` : ""
      }<p>You can close this window.</p>`,
    ));
  });

  function createAuthorization(userId: string, brokerage: DemoBrokerage, type: "read" | "trade") {
    const now = core.now();
    const a: Authorization = {
      id: crypto.randomUUID(),
      userId,
      brokerage,
      type,
      disabled: false,
      disabledAt: null,
      createdAt: now,
      updatedAt: now,
      lastRefreshAt: null,
      name: `Connection-${auths.size + 1}`,
    };
    auths.set(a.id, a);
    for (const data of snaptradeDemoAccounts(brokerage.slug)) {
      const acct: Account = {
        id: crypto.randomUUID(),
        authorizationId: a.id,
        userId,
        createdAt: now,
        data,
        orders: [],
      };
      accounts.set(acct.id, acct);
    }
    emit("CONNECTION_ADDED", userId, connectionFields(a));
    emitHoldingsUpdated(a, 50);
    return a;
  }

  // ---- admin ------------------------------------------------------------------------------

  function adminAuth(connection: string): Authorization {
    const a = auths.get(connection);
    if (!a) throw new AdminError(404, `no SnapTrade authorization ${connection}`);
    return a;
  }

  function adminAccount(a: Authorization, account?: string): Account {
    const list = accountsOf(a.id);
    const acct = account
      ? list.find((x) => x.id === account || x.data.number === account)
      : list[0];
    if (!acct) throw new AdminError(404, `no account ${account ?? ""} in authorization ${a.id}`);
    return acct;
  }

  return {
    api,
    portal,
    snapshot: () => ({
      users: [...users.values()],
      authorizations: [...auths.values()].map((a) => ({ ...a, brokerage: a.brokerage.slug })),
      accounts: [...accounts.values()],
      logins: [...logins],
      trades: [...trades.values()],
    }),
    admin: {
      setHolding(connection, symbol, quantity, account) {
        const acct = adminAccount(adminAuth(connection), account);
        const q = new Decimal(quantity);
        const hs = acct.data.holdings;
        const i = hs.findIndex((h) =>
          h.security.ticker.trim() === symbol.toUpperCase() || h.security.ticker === symbol
        );
        if (q.isZero()) {
          if (i >= 0) hs.splice(i, 1);
        } else if (i >= 0) hs[i].units = q.toFixed();
        else {
          const sec = securityFor(symbol);
          hs.push({ security: sec, units: q.toFixed(), averageCost: sec.price });
        }
      },
      async fireWebhook(eventType, connection, account) {
        if (!webhookUrl) throw new AdminError(409, "no SnapTrade webhook URL configured");
        const a = adminAuth(connection);
        const extra = eventType.startsWith("USER_")
          ? {}
          : eventType.startsWith("ACCOUNT_") || eventType.startsWith("TRADE_") ||
              eventType === "NEW_ACCOUNT_AVAILABLE"
          ? accountFields(a, adminAccount(a, account), eventType)
          : connectionFields(a);
        return await core.webhooks.deliver(await build(eventType, a.userId, extra));
      },
      breakConnection(connection) {
        const a = adminAuth(connection);
        if (a.disabled) return;
        a.disabled = true;
        a.disabledAt = core.now();
        a.updatedAt = core.now();
        emit("CONNECTION_BROKEN", a.userId, connectionFields(a));
      },
      setWebhookUrl(url) {
        webhookUrl = url ?? undefined;
      },
      fixConnection(connection) {
        const a = adminAuth(connection);
        if (!a.disabled) return;
        a.disabled = false;
        a.disabledAt = null;
        a.updatedAt = core.now();
        emit("CONNECTION_FIXED", a.userId, connectionFields(a));
      },
    },
  };
}

/** The total market value of a holding, re-exported for tests. */
export { holdingValue };
