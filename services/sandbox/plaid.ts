/**
 * The Plaid imitation: POST JSON routes with Plaid's credentials, error bodies and
 * `request_id`, the Hosted Link page, and webhooks signed with an ES256 JWT.
 * Mounted by `mod.ts` at `/plaid`; paths here are relative.
 * @module
 */
import { Decimal } from "decimal.js";
import { Hono } from "hono";
import type { Context } from "hono";
import { routePath } from "hono/route";
import { z } from "zod";
import { AdminError, alnumId, esc, num, page, type SandboxCore, timingSafeEqual } from "./core.ts";
import {
  accountValue,
  type DemoAccount,
  type Holding,
  INSTITUTIONS,
  plaidDemoAccounts,
  previousCloseFor,
  type Security,
  securityFor,
  type Transaction,
} from "./demo_data.ts";
import { stableUuid } from "./prng.ts";
import {
  type DeliveryResult,
  type OutgoingWebhook,
  type PlaidSignerState,
  PlaidWebhookSigner,
} from "./webhooks.ts";

/** Plaid credentials and behaviour of the imitation. */
export interface PlaidOptions {
  clientId: string;
  secret: string;
  /** Data requests per item per route per rolling minute (default 60). */
  itemRateLimitPerMinute?: number;
}

interface PlaidAccount {
  accountId: string;
  data: DemoAccount;
}

interface Item {
  itemId: string;
  accessToken: string;
  institutionId: string;
  webhook: string | null;
  accounts: PlaidAccount[];
  error: Record<string, unknown> | null;
  createdAt: number;
  newHoldings: number;
  updatedHoldings: number;
}

interface LinkSession {
  id: string;
  startedAt: number;
  finishedAt: number | null;
  publicToken: string | null;
  itemId: string | null;
  exited: boolean;
}

interface LinkToken {
  token: string;
  clientUserId: string;
  clientName: string;
  webhook: string | null;
  completionRedirect: string | null;
  hosted: boolean;
  updateItemId: string | null;
  products: string[];
  countryCodes: string[];
  language: string;
  createdAt: number;
  expiresAt: number;
  sessions: LinkSession[];
}

/** The Plaid imitation and its admin hooks. */
export interface PlaidSandbox {
  /** JSON API and the Hosted Link page; paths relative to `/plaid`. */
  app: Hono;
  signer: PlaidWebhookSigner;
  admin: {
    setHolding(connection: string, symbol: string, quantity: string, account?: string): void;
    fireWebhook(connection: string, type: string, code: string): Promise<DeliveryResult>;
    breakConnection(connection: string): void;
    fixConnection(connection: string): void;
  };
  /** What Plaid would keep (items, access tokens, link tokens and sessions, the signing key). */
  snapshot(): PlaidState;
}

/** The persisted Plaid state: plain JSON, decimals as strings; rate-limit windows left out. */
export interface PlaidState {
  signer: PlaidSignerState;
  items: Item[];
  linkTokens: LinkToken[];
  publicTokens: [string, PublicToken][];
}

interface PublicToken {
  itemId: string;
  expiresAt: number;
  used: boolean;
}

const LINK_TTL_MS = 4 * 3600_000;
const PUBLIC_TOKEN_TTL_MS = 30 * 60_000;

type PlaidStatus = 400 | 404 | 429;

/** A Plaid error body. */
export function plaidError(
  type: string,
  code: string,
  message: string,
  status: number,
  requestId = "",
  display: string | null = null,
): Record<string, unknown> {
  return {
    error_type: type,
    error_code: code,
    error_code_reason: null,
    error_message: message,
    display_message: display,
    request_id: requestId,
    causes: [],
    status,
    documentation_url: `https://plaid.com/docs/errors/${type.toLowerCase().replace("_", "-")}/`,
    suggested_action: null,
  };
}

const LOGIN_REQUIRED = (rid = "") =>
  plaidError(
    "ITEM_ERROR",
    "ITEM_LOGIN_REQUIRED",
    "the login details of this item have changed (credentials, MFA, or required user action) and a user login is required to update this information. use Link's update mode to restore the item to a good state",
    400,
    rid,
    "The login details of this item have changed. Please log in again.",
  );

function plaidSecurityId(sec: Security): string {
  return stableUuid(`plaid-security:${sec.ticker}`).replaceAll("-", "").slice(0, 27);
}

const PLAID_TYPES: Record<string, [string, string]> = {
  stock: ["equity", "common stock"],
  etf: ["etf", "etf"],
  crypto: ["cryptocurrency", "cryptocurrency"],
  mutualfund: ["mutual fund", "mutual fund"],
  option: ["derivative", "option"],
  cash: ["cash", "cash"],
};

/** Builds the Plaid imitation, starting from `saved` when given (throws if it is malformed). */
export async function createPlaid(
  core: SandboxCore,
  opts: PlaidOptions,
  saved?: PlaidState,
): Promise<PlaidSandbox> {
  const signer = saved
    ? await PlaidWebhookSigner.restore(saved.signer)
    : await PlaidWebhookSigner.create(Math.floor(core.now() / 1000));
  const linkTokens = new Map<string, LinkToken>();
  const publicTokens = new Map<string, PublicToken>();
  const items = new Map<string, Item>();
  const byAccessToken = new Map<string, string>();
  const hits = new Map<string, number[]>();
  const itemLimit = opts.itemRateLimitPerMinute ?? 60;
  const iso = (ms: number) => new Date(ms).toISOString();

  // ---- webhooks ---------------------------------------------------------------------------

  async function buildWebhook(
    url: string,
    body: Record<string, unknown>,
  ): Promise<OutgoingWebhook> {
    const text = JSON.stringify(body);
    const jwt = await signer.sign(text, Math.floor(core.now() / 1000));
    return {
      provider: "plaid",
      url,
      body: text,
      headers: { "Plaid-Verification": jwt },
      event: `${body.webhook_type} ${body.webhook_code} ${body.item_id}`,
    };
  }

  function webhookBody(item: Item, type: string, code: string): Record<string, unknown> {
    const base = { webhook_type: type, webhook_code: code, item_id: item.itemId };
    const env = { environment: "sandbox" };
    if (type === "HOLDINGS") {
      const b = {
        ...base,
        error: null,
        new_holdings: item.newHoldings,
        updated_holdings: item.updatedHoldings,
        ...env,
      };
      item.newHoldings = 0;
      item.updatedHoldings = 0;
      return b;
    }
    if (type === "INVESTMENTS_TRANSACTIONS") {
      return {
        ...base,
        error: null,
        new_investments_transactions: 0,
        cancelled_investments_transactions: 0,
        ...env,
      };
    }
    if (type === "ITEM" && code === "ERROR") {
      return { ...base, error: item.error ?? LOGIN_REQUIRED(), ...env };
    }
    if (type === "ITEM" && code === "PENDING_DISCONNECT") {
      return {
        ...base,
        reason: "INSTITUTION_TOKEN_EXPIRATION",
        disconnect_time: iso(core.now() + 7 * 86_400_000),
        ...env,
      };
    }
    if (type === "ITEM" && code === "NEW_ACCOUNTS_AVAILABLE") {
      return { ...base, error: null, ...env };
    }
    return { ...base, ...env };
  }

  function emit(item: Item, type: string, code: string, url = item.webhook) {
    if (!url) return;
    core.webhooks.enqueueSoon(buildWebhook(url, webhookBody(item, type, code)));
  }

  // ---- JSON shapes ------------------------------------------------------------------------

  function institution(id: string) {
    return INSTITUTIONS.find((i) => i.id === id)!;
  }

  function accountBase(a: PlaidAccount) {
    const cashLike = a.data.holdings.filter((h) => h.security.cashEquivalent)
      .reduce(
        (s, h) => s.plus(new Decimal(h.units).mul(h.security.price)),
        new Decimal(a.data.cash),
      );
    return {
      account_id: a.accountId,
      balances: {
        available: num(cashLike.toFixed(2)),
        current: num(accountValue(a.data)),
        limit: null,
        iso_currency_code: a.data.currency,
        unofficial_currency_code: null,
        last_updated_datetime: null,
      },
      mask: a.data.number.slice(-4),
      name: a.data.name,
      official_name: `${a.data.name} (${institution(itemOf(a).institutionId).name})`,
      type: a.data.type,
      subtype: a.data.subtype,
      verification_status: null,
      persistent_account_id: a.accountId,
      holder_category: "personal",
    };
  }

  const accountOwner = new Map<string, Item>();
  const itemOf = (a: PlaidAccount) => accountOwner.get(a.accountId)!;
  if (saved) {
    for (const item of saved.items) {
      if (!Array.isArray(item.accounts) || typeof item.accessToken !== "string") {
        throw new Error(`saved Plaid state: bad item ${item.itemId}`);
      }
      items.set(item.itemId, item);
      byAccessToken.set(item.accessToken, item.itemId);
      for (const a of item.accounts) accountOwner.set(a.accountId, item);
    }
    for (const t of saved.linkTokens) linkTokens.set(t.token, t);
    for (const [token, p] of saved.publicTokens) publicTokens.set(token, p);
  }

  function securityJson(sec: Security) {
    const [type, subtype] = PLAID_TYPES[sec.kind];
    const ticker = sec.ticker.replaceAll(" ", "");
    return {
      security_id: plaidSecurityId(sec),
      isin: null,
      cusip: null,
      sedol: null,
      institution_security_id: null,
      institution_id: null,
      proxy_security_id: null,
      name: sec.name,
      ticker_symbol: ticker,
      is_cash_equivalent: sec.cashEquivalent,
      type,
      subtype,
      // The previous session's close; holdings are priced a session later.
      close_price: num(previousCloseFor(sec)),
      close_price_as_of: "2026-10-29",
      update_datetime: null,
      iso_currency_code: sec.currency,
      unofficial_currency_code: null,
      market_identifier_code: sec.kind === "option" ? "XCBO" : sec.kind === "cash" ? null : "XNAS",
      sector: null,
      industry: null,
      option_contract: sec.option
        ? {
          contract_type: sec.option.type.toLowerCase(),
          expiration_date: sec.option.expiration,
          strike_price: Number(sec.option.strike),
          underlying_security_ticker: sec.option.underlying,
        }
        : null,
      fixed_income: null,
    };
  }

  const CASH = securityFor("CUR:USD");

  /** Holdings as Plaid reports them: cash is a holding of the "U S Dollar" security. */
  function holdingsOf(a: PlaidAccount): Holding[] {
    const cash: Holding = { security: CASH, units: a.data.cash, averageCost: "1.00" };
    return [...a.data.holdings, cash];
  }

  function holdingJson(a: PlaidAccount, h: Holding) {
    const mult = h.security.option ? h.security.option.multiplier : "1";
    const value = new Decimal(h.units).mul(h.security.price).mul(mult).toFixed(2);
    return {
      account_id: a.accountId,
      security_id: plaidSecurityId(h.security),
      institution_price: num(h.security.price),
      institution_price_as_of: "2026-10-30",
      institution_price_datetime: null,
      institution_value: num(value),
      cost_basis: num(new Decimal(h.units).mul(h.averageCost).mul(mult).toFixed(2)),
      quantity: num(h.units),
      iso_currency_code: h.security.currency,
      unofficial_currency_code: null,
      vested_quantity: null,
      vested_value: null,
    };
  }

  const TXN_TYPES: Record<string, [string, string]> = {
    BUY: ["buy", "buy"],
    SELL: ["sell", "sell"],
    DIVIDEND: ["cash", "dividend"],
    FEE: ["fee", "account fee"],
    CONTRIBUTION: ["cash", "contribution"],
    INTEREST: ["cash", "interest"],
  };

  function transactionJson(a: PlaidAccount, t: Transaction) {
    const [type, subtype] = TXN_TYPES[t.type];
    return {
      investment_transaction_id: t.id.replaceAll("-", ""),
      cancel_transaction_id: null,
      account_id: a.accountId,
      security_id: t.security ? plaidSecurityId(t.security) : null,
      date: t.date,
      transaction_datetime: null,
      name: t.description,
      quantity: Number(t.units),
      // Plaid's sign convention: positive amounts are money leaving the account.
      amount: Number(new Decimal(t.amount).neg().toFixed(2)),
      price: Number(t.price),
      fees: Number(t.fee),
      type,
      subtype,
      iso_currency_code: t.currency,
      unofficial_currency_code: null,
    };
  }

  function itemJson(item: Item) {
    return {
      item_id: item.itemId,
      institution_id: item.institutionId,
      institution_name: institution(item.institutionId).name,
      webhook: item.webhook,
      auth_method: null,
      error: item.error,
      available_products: ["balance"],
      billed_products: ["investments"],
      products: ["investments"],
      consented_products: ["investments"],
      consent_expiration_time: null,
      update_type: "background",
    };
  }

  // ---- plumbing ---------------------------------------------------------------------------

  const app = new Hono();
  const rid = (c: Context) => c.get("requestId" as never) as string;
  const err = (c: Context, status: PlaidStatus, type: string, code: string, message: string) =>
    c.json(plaidError(type, code, message, status, rid(c)), status);
  const ok = (c: Context, body: Record<string, unknown>) => c.json({ ...body, request_id: rid(c) });

  app.use("*", async (c, next) => {
    const requestId = alnumId(15);
    c.set("requestId" as never, requestId as never);
    c.header("X-Request-Id", requestId);
    // The Hosted Link page's GET is a browser page, not an API call.
    if (c.req.method !== "POST") return await next();
    const route = routePath(c, -1);
    if (route && route !== "*" && route !== "/*" && !route.startsWith("/link/:")) {
      core.calls.record("plaid", c.req.method, route);
    }
    if (route.startsWith("/link/:")) return await next();
    let body: Record<string, unknown> = {};
    const text = await c.req.raw.clone().text();
    if (text) {
      try {
        const parsed = JSON.parse(text);
        if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) body = parsed;
        else throw new Error("not an object");
      } catch {
        return err(c, 400, "INVALID_REQUEST", "INVALID_BODY", "body could not be parsed as JSON");
      }
    }
    c.set("body" as never, body as never);
    const clientId = c.req.header("PLAID-CLIENT-ID") ?? body.client_id;
    const secret = c.req.header("PLAID-SECRET") ?? body.secret;
    if (typeof clientId !== "string" || typeof secret !== "string") {
      return err(
        c,
        400,
        "INVALID_REQUEST",
        "MISSING_FIELDS",
        "the following required fields are missing: client_id, secret",
      );
    }
    if (!timingSafeEqual(clientId, opts.clientId) || !timingSafeEqual(secret, opts.secret)) {
      return err(
        c,
        400,
        "INVALID_INPUT",
        "INVALID_API_KEYS",
        "invalid client_id or secret provided",
      );
    }
    await next();
  });

  const bodyOf = (c: Context) => c.get("body" as never) as Record<string, unknown>;

  function parse<T extends z.ZodType>(c: Context, schema: T): z.infer<T> | Response {
    const r = schema.safeParse(bodyOf(c));
    if (r.success) return r.data;
    const issue = r.error.issues[0];
    return err(
      c,
      400,
      "INVALID_REQUEST",
      issue?.code === "invalid_type" ? "MISSING_FIELDS" : "INVALID_FIELD",
      `${issue?.path.join(".") || "body"}: ${issue?.message ?? "invalid"}`,
    );
  }

  function itemFor(c: Context, accessToken: unknown, data = true): Item | Response {
    const id = typeof accessToken === "string" ? byAccessToken.get(accessToken) : undefined;
    const item = id ? items.get(id) : undefined;
    if (!item) {
      return err(
        c,
        400,
        "INVALID_INPUT",
        "INVALID_ACCESS_TOKEN",
        "provided access token is invalid",
      );
    }
    if (data && item.error) return c.json({ ...item.error, request_id: rid(c) }, 400);
    return item;
  }

  function rateLimited(c: Context, item: Item, route: string, code: string): Response | null {
    const key = `${item.itemId} ${route}`;
    const now = core.now();
    const w = (hits.get(key) ?? []).filter((t) => t > now - 60_000);
    hits.set(key, w);
    if (w.length >= itemLimit) {
      return err(
        c,
        429,
        "RATE_LIMIT_EXCEEDED",
        code,
        "rate limit exceeded for attempts to access this item. please try again later",
      );
    }
    w.push(now);
    return null;
  }

  function selectAccounts(item: Item, ids: unknown): PlaidAccount[] {
    if (!Array.isArray(ids) || ids.length === 0) return item.accounts;
    return item.accounts.filter((a) => ids.includes(a.accountId));
  }

  function createItem(institutionId: string, webhook: string | null): Item {
    const itemId = alnumId(37);
    const item: Item = {
      itemId,
      accessToken: `access-sandbox-${crypto.randomUUID()}`,
      institutionId,
      webhook,
      accounts: plaidDemoAccounts(institutionId).map((data) => ({ accountId: alnumId(37), data })),
      error: null,
      createdAt: core.now(),
      newHoldings: 0,
      updatedHoldings: 0,
    };
    for (const a of item.accounts) accountOwner.set(a.accountId, item);
    items.set(itemId, item);
    byAccessToken.set(item.accessToken, itemId);
    return item;
  }

  function newPublicToken(item: Item): string {
    const pt = `public-sandbox-${crypto.randomUUID()}`;
    publicTokens.set(pt, {
      itemId: item.itemId,
      expiresAt: core.now() + PUBLIC_TOKEN_TTL_MS,
      used: false,
    });
    return pt;
  }

  // ---- routes -----------------------------------------------------------------------------

  const LinkCreate = z.object({
    client_name: z.string().min(1),
    language: z.string().min(1),
    country_codes: z.array(z.string()).min(1),
    user: z.object({ client_user_id: z.string().min(1) }).passthrough(),
    products: z.array(z.string()).optional(),
    webhook: z.string().url().optional(),
    access_token: z.string().optional(),
    redirect_uri: z.string().optional(),
    hosted_link: z.object({ completion_redirect_uri: z.string().optional() }).passthrough()
      .optional(),
  }).passthrough();

  app.post("/link/token/create", (c) => {
    const b = parse(c, LinkCreate);
    if (b instanceof Response) return b;
    let updateItemId: string | null = null;
    if (b.access_token) {
      const item = itemFor(c, b.access_token, false);
      if (item instanceof Response) return item;
      updateItemId = item.itemId;
    } else if (!b.products?.length) {
      return err(
        c,
        400,
        "INVALID_REQUEST",
        "MISSING_FIELDS",
        "products: required unless access_token is given",
      );
    }
    const now = core.now();
    const token = `link-sandbox-${crypto.randomUUID()}`;
    const t: LinkToken = {
      token,
      clientUserId: b.user.client_user_id,
      clientName: b.client_name,
      webhook: b.webhook ?? null,
      completionRedirect: b.hosted_link?.completion_redirect_uri ?? null,
      hosted: b.hosted_link !== undefined,
      updateItemId,
      products: b.products ?? [],
      countryCodes: b.country_codes,
      language: b.language,
      createdAt: now,
      expiresAt: now + LINK_TTL_MS,
      sessions: [],
    };
    linkTokens.set(token, t);
    return ok(c, {
      link_token: token,
      expiration: iso(t.expiresAt),
      ...(t.hosted ? { hosted_link_url: `${core.publicUrl()}/plaid/link/${token}` } : {}),
    });
  });

  app.post("/link/token/get", (c) => {
    const b = parse(c, z.object({ link_token: z.string() }).passthrough());
    if (b instanceof Response) return b;
    const t = linkTokens.get(b.link_token);
    if (!t) {
      return err(c, 400, "INVALID_INPUT", "INVALID_LINK_TOKEN", "provided link token is invalid");
    }
    return ok(c, {
      link_token: t.token,
      created_at: iso(t.createdAt),
      expiration: iso(t.expiresAt),
      user_id: undefined,
      metadata: {
        initial_products: t.products,
        webhook: t.webhook,
        country_codes: t.countryCodes,
        language: t.language,
        institution_data: null,
        account_filters: null,
        redirect_uri: null,
        client_name: t.clientName,
      },
      link_sessions: t.sessions.map((s) => {
        const item = s.itemId ? items.get(s.itemId) : undefined;
        return {
          link_session_id: s.id,
          started_at: iso(s.startedAt),
          finished_at: s.finishedAt === null ? null : iso(s.finishedAt),
          exit: s.exited ? { error: null, metadata: { status: "requires_credentials" } } : null,
          results: s.publicToken && item
            ? {
              item_add_results: [{
                public_token: s.publicToken,
                accounts: item.accounts.map((a) => ({
                  id: a.accountId,
                  name: a.data.name,
                  mask: a.data.number.slice(-4),
                  type: a.data.type,
                  subtype: a.data.subtype,
                  verification_status: null,
                  class_type: null,
                })),
                institution: {
                  name: institution(item.institutionId).name,
                  institution_id: item.institutionId,
                },
              }],
              cra_item_add_results: [],
              cra_update_results: [],
              bank_income_results: [],
              payroll_income_results: [],
              document_income_results: null,
            }
            : null,
        };
      }),
    });
  });

  app.post("/sandbox/public_token/create", (c) => {
    const b = parse(
      c,
      z.object({
        institution_id: z.string(),
        initial_products: z.array(z.string()).min(1),
        options: z.object({ webhook: z.string().optional() }).passthrough().optional(),
      }).passthrough(),
    );
    if (b instanceof Response) return b;
    if (!INSTITUTIONS.some((i) => i.id === b.institution_id)) {
      return err(c, 400, "INVALID_INPUT", "INVALID_INSTITUTION", "invalid institution_id provided");
    }
    const item = createItem(b.institution_id, b.options?.webhook ?? null);
    return ok(c, { public_token: newPublicToken(item) });
  });

  app.post("/item/public_token/exchange", (c) => {
    const b = parse(c, z.object({ public_token: z.string() }).passthrough());
    if (b instanceof Response) return b;
    const p = publicTokens.get(b.public_token);
    if (!p || p.used || p.expiresAt < core.now() || !items.has(p.itemId)) {
      return err(
        c,
        400,
        "INVALID_INPUT",
        "INVALID_PUBLIC_TOKEN",
        "provided public token is expired or invalid",
      );
    }
    p.used = true;
    const item = items.get(p.itemId)!;
    return ok(c, { access_token: item.accessToken, item_id: item.itemId });
  });

  const AccessBody = z.object({
    access_token: z.string(),
    options: z.object({ account_ids: z.array(z.string()).optional() }).passthrough().optional(),
  }).passthrough();

  app.post("/investments/holdings/get", (c) => {
    const b = parse(c, AccessBody);
    if (b instanceof Response) return b;
    const item = itemFor(c, b.access_token);
    if (item instanceof Response) return item;
    const limited = rateLimited(c, item, "holdings", "INVESTMENT_HOLDINGS_GET_LIMIT");
    if (limited) return limited;
    const accts = selectAccounts(item, b.options?.account_ids);
    const holdings = accts.flatMap((a) => holdingsOf(a).map((h) => [a, h] as const));
    const secs = new Map(holdings.map(([, h]) => [h.security.id, h.security]));
    return ok(c, {
      accounts: accts.map(accountBase),
      holdings: holdings.map(([a, h]) => holdingJson(a, h)),
      securities: [...secs.values()].map(securityJson),
      item: itemJson(item),
    });
  });

  app.post("/investments/transactions/get", (c) => {
    const b = parse(
      c,
      z.object({
        access_token: z.string(),
        start_date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
        end_date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
        options: z.object({
          account_ids: z.array(z.string()).optional(),
          count: z.number().int().min(1).max(500).optional(),
          offset: z.number().int().min(0).optional(),
        }).passthrough().optional(),
      }).passthrough(),
    );
    if (b instanceof Response) return b;
    const item = itemFor(c, b.access_token);
    if (item instanceof Response) return item;
    const limited = rateLimited(c, item, "transactions", "INVESTMENT_TRANSACTIONS_LIMIT");
    if (limited) return limited;
    const accts = selectAccounts(item, b.options?.account_ids);
    const all = accts.flatMap((a) =>
      a.data.transactions.filter((t) => t.date >= b.start_date && t.date <= b.end_date)
        .map((t) => [a, t] as const)
    ).sort(([, x], [, y]) => x.date < y.date ? 1 : x.date > y.date ? -1 : 0);
    const count = b.options?.count ?? 100;
    const offset = b.options?.offset ?? 0;
    const pageItems = all.slice(offset, offset + count);
    const secs = new Map(
      pageItems.flatMap(([, t]) => t.security ? [[t.security.id, t.security] as const] : []),
    );
    return ok(c, {
      accounts: accts.map(accountBase),
      securities: [...secs.values()].map(securityJson),
      investment_transactions: pageItems.map(([a, t]) => transactionJson(a, t)),
      total_investment_transactions: all.length,
      item: itemJson(item),
      is_investments_fallback_item: false,
    });
  });

  app.post("/accounts/balance/get", (c) => {
    const b = parse(c, AccessBody);
    if (b instanceof Response) return b;
    const item = itemFor(c, b.access_token);
    if (item instanceof Response) return item;
    const limited = rateLimited(c, item, "balance", "ACCOUNTS_BALANCE_GET_LIMIT");
    if (limited) return limited;
    return ok(c, {
      accounts: selectAccounts(item, b.options?.account_ids).map(accountBase),
      item: itemJson(item),
    });
  });

  app.post("/accounts/get", (c) => {
    const b = parse(c, AccessBody);
    if (b instanceof Response) return b;
    const item = itemFor(c, b.access_token);
    if (item instanceof Response) return item;
    return ok(c, {
      accounts: selectAccounts(item, b.options?.account_ids).map(accountBase),
      item: itemJson(item),
    });
  });

  app.post("/item/get", (c) => {
    const b = parse(c, AccessBody);
    if (b instanceof Response) return b;
    const item = itemFor(c, b.access_token, false);
    if (item instanceof Response) return item;
    return ok(c, { item: itemJson(item), status: null });
  });

  app.post("/item/remove", (c) => {
    const b = parse(c, AccessBody);
    if (b instanceof Response) return b;
    const item = itemFor(c, b.access_token, false);
    if (item instanceof Response) return item;
    items.delete(item.itemId);
    byAccessToken.delete(item.accessToken);
    return ok(c, {});
  });

  app.post("/item/webhook/update", (c) => {
    const b = parse(
      c,
      z.object({ access_token: z.string(), webhook: z.string().url().nullish() }).passthrough(),
    );
    if (b instanceof Response) return b;
    const item = itemFor(c, b.access_token, false);
    if (item instanceof Response) return item;
    item.webhook = b.webhook ?? null;
    if (item.webhook) {
      const body = {
        webhook_type: "ITEM",
        webhook_code: "WEBHOOK_UPDATE_ACKNOWLEDGED",
        item_id: item.itemId,
        error: null,
        new_webhook_url: item.webhook,
        environment: "sandbox",
      };
      core.webhooks.enqueueSoon(buildWebhook(item.webhook, body));
    }
    return ok(c, { item: itemJson(item) });
  });

  app.post("/webhook_verification_key/get", (c) => {
    const b = parse(c, z.object({ key_id: z.string() }).passthrough());
    if (b instanceof Response) return b;
    if (b.key_id !== signer.kid) {
      return err(
        c,
        400,
        "INVALID_INPUT",
        "INVALID_WEBHOOK_VERIFICATION_KEY_ID",
        "invalid key_id provided",
      );
    }
    return ok(c, { key: signer.key() });
  });

  const FIREABLE: Record<string, string[]> = {
    HOLDINGS: ["DEFAULT_UPDATE"],
    INVESTMENTS_TRANSACTIONS: ["DEFAULT_UPDATE", "HISTORICAL_UPDATE"],
    ITEM: [
      "LOGIN_REPAIRED",
      "PENDING_DISCONNECT",
      "NEW_ACCOUNTS_AVAILABLE",
      "ERROR",
      "PENDING_EXPIRATION",
    ],
  };

  app.post("/sandbox/item/fire_webhook", (c) => {
    const b = parse(
      c,
      z.object({
        access_token: z.string(),
        webhook_type: z.string().optional(),
        webhook_code: z.string(),
      })
        .passthrough(),
    );
    if (b instanceof Response) return b;
    const item = itemFor(c, b.access_token, false);
    if (item instanceof Response) return item;
    const type = b.webhook_type ?? "TRANSACTIONS";
    if (
      !FIREABLE[type]?.includes(b.webhook_code) || (type === "ITEM" && b.webhook_code === "ERROR")
    ) {
      return err(
        c,
        400,
        "INVALID_INPUT",
        "INVALID_FIELD",
        `webhook_code ${b.webhook_code} cannot be fired for ${type}`,
      );
    }
    if (!item.webhook) {
      return err(c, 400, "INVALID_INPUT", "INVALID_FIELD", "the item has no webhook set");
    }
    emit(item, type, b.webhook_code);
    return ok(c, { webhook_fired: true });
  });

  app.post("/sandbox/item/reset_login", (c) => {
    const b = parse(c, AccessBody);
    if (b instanceof Response) return b;
    const item = itemFor(c, b.access_token, false);
    if (item instanceof Response) return item;
    breakItem(item);
    return ok(c, { reset_login: true });
  });

  // ---- Hosted Link ------------------------------------------------------------------------

  function liveLink(token: string): LinkToken | null {
    const t = linkTokens.get(token);
    return t && t.expiresAt > core.now() ? t : null;
  }

  app.get("/link/:linkToken", (c) => {
    const t = liveLink(c.req.param("linkToken"));
    if (!t) {
      return c.html(
        page("Link expired", "<h1>This link has expired</h1><p>Start again from the app.</p>"),
        410,
      );
    }
    const update = t.updateItemId ? items.get(t.updateItemId) : undefined;
    const choices = update
      ? INSTITUTIONS.filter((i) => i.id === update.institutionId)
      : INSTITUTIONS;
    const radios = choices.map((ins, i) =>
      `<label><input type="radio" name="institution_id" value="${esc(ins.id)}"${
        i === 0 ? " checked" : ""
      } required> ${esc(ins.name)}</label>`
    ).join("\n");
    return c.html(page(
      `${t.clientName} — Plaid sandbox`,
      `<h1>${
        update
          ? `Reconnect ${esc(institution(update.institutionId).name)}`
          : "Select your institution"
      }</h1>
<p>${esc(t.clientName)} uses Plaid to link your investment accounts.</p>
<form method="post">
<fieldset><legend>Institution</legend>
${radios}
</fieldset>
<label>Username <input name="username" value="user_good" autocomplete="username"></label>
<label>Password <input name="password" type="password" value="pass_good" autocomplete="current-password"></label>
<button type="submit" name="action" value="continue">Continue</button>
<button type="submit" name="action" value="exit" formnovalidate>Exit</button>
</form>`,
    ));
  });

  app.post("/link/:linkToken", async (c) => {
    const t = liveLink(c.req.param("linkToken"));
    if (!t) return c.html(page("Link expired", "<h1>This link has expired</h1>"), 410);
    const form = await c.req.parseBody();
    const now = core.now();
    const session: LinkSession = {
      id: crypto.randomUUID(),
      startedAt: now,
      finishedAt: now,
      publicToken: null,
      itemId: null,
      exited: false,
    };
    t.sessions.push(session);
    const done = () =>
      t.completionRedirect
        ? c.redirect(t.completionRedirect, 303)
        : c.html(page("Done", "<h1>All done</h1><p>You can close this window.</p>"));
    if (form.action === "exit") {
      session.exited = true;
      return done();
    }
    if (form.password !== undefined && form.password !== "pass_good") {
      return c.html(
        page(
          "Wrong password",
          "<h1>The credentials were not correct</h1><p>Use user_good / pass_good.</p>",
        ),
        400,
      );
    }
    let item: Item;
    if (t.updateItemId) {
      const existing = items.get(t.updateItemId);
      if (!existing) {
        return c.html(page("Not found", "<h1>This connection no longer exists</h1>"), 404);
      }
      item = existing;
      if (item.error) {
        item.error = null;
        emit(item, "ITEM", "LOGIN_REPAIRED");
      }
    } else {
      const ins = INSTITUTIONS.find((i) => i.id === String(form.institution_id ?? ""));
      if (!ins) return c.html(page("Choose an institution", "<h1>Choose an institution</h1>"), 400);
      item = createItem(ins.id, t.webhook);
    }
    session.itemId = item.itemId;
    session.publicToken = newPublicToken(item);
    return done();
  });

  app.notFound((c) => err(c, 404, "INVALID_REQUEST", "NOT_FOUND", "unknown endpoint"));

  // ---- admin ------------------------------------------------------------------------------

  function adminItem(connection: string): Item {
    const item = items.get(connection);
    if (!item) throw new AdminError(404, `no Plaid item ${connection}`);
    return item;
  }

  function breakItem(item: Item) {
    if (item.error) return;
    item.error = LOGIN_REQUIRED();
    emit(item, "ITEM", "ERROR");
  }

  return {
    app,
    signer,
    snapshot: () => ({
      signer: signer.state(),
      items: [...items.values()],
      linkTokens: [...linkTokens.values()],
      publicTokens: [...publicTokens],
    }),
    admin: {
      setHolding(connection, symbol, quantity, account) {
        const item = adminItem(connection);
        const acct = account
          ? item.accounts.find((a) => a.accountId === account || a.data.number === account)
          : item.accounts[0];
        if (!acct) throw new AdminError(404, `no account ${account} in item ${connection}`);
        const q = new Decimal(quantity);
        const hs = acct.data.holdings;
        const i = hs.findIndex((h) =>
          h.security.ticker.replaceAll(" ", "") === symbol.toUpperCase()
        );
        if (q.isZero()) {
          if (i >= 0) {
            hs.splice(i, 1);
            item.updatedHoldings++;
          }
        } else if (i >= 0) {
          hs[i].units = q.toFixed();
          item.updatedHoldings++;
        } else {
          const sec = securityFor(symbol);
          hs.push({ security: sec, units: q.toFixed(), averageCost: sec.price });
          item.newHoldings++;
        }
      },
      async fireWebhook(connection, type, code) {
        const item = adminItem(connection);
        if (!item.webhook) throw new AdminError(409, `item ${connection} has no webhook URL`);
        return await core.webhooks.deliver(
          await buildWebhook(item.webhook, webhookBody(item, type, code)),
        );
      },
      breakConnection(connection) {
        breakItem(adminItem(connection));
      },
      fixConnection(connection) {
        const item = adminItem(connection);
        if (!item.error) return;
        item.error = null;
        emit(item, "ITEM", "LOGIN_REPAIRED");
      },
    },
  };
}
