/**
 * Plaid's API as the SDK calls it (every route a JSON POST): link tokens, public token exchange,
 * investments holdings and transactions, accounts and balances, item management, the webhook
 * verification key and the `/sandbox/...` helpers. The Hosted Link page comes from `link.ts`.
 * Paths are relative to `/plaid`.
 * @module
 */
import { type Context, Hono } from "hono";
import { z } from "zod";
import { iso, type SandboxCore } from "../core.ts";
import { INSTITUTIONS } from "../demo_data.ts";
import type { RollingLimit } from "../rolling_limit.ts";
import type { PlaidWebhookSigner } from "../webhooks.ts";
import { breakLogin } from "./errors.ts";
import { hostedLinkRoutes } from "./link.ts";
import { admitRequests, err, itemFor, limitedItemFor, ok, parse } from "./request.ts";
import {
  accountJson,
  holdingJson,
  holdingsOf,
  institution,
  itemJson,
  securityJson,
  transactionJson,
} from "./shapes.ts";
import {
  type Item,
  LINK_TTL_MS,
  type LinkSession,
  type LinkToken,
  type PlaidAccount,
  type PlaidStore,
} from "./state.ts";
import type { PlaidWebhooks } from "./webhooks.ts";

/** What the API works with. */
export interface PlaidRestDeps {
  core: SandboxCore;
  clientId: string;
  secret: string;
  store: PlaidStore;
  signer: PlaidWebhookSigner;
  hooks: PlaidWebhooks;
  /** Data requests per item per route per rolling minute. */
  limit: RollingLimit;
}

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

const PublicTokenCreate = z.object({
  institution_id: z.string(),
  initial_products: z.array(z.string()).min(1),
  options: z.object({ webhook: z.string().optional() }).passthrough().optional(),
}).passthrough();

const AccessBody = z.object({
  access_token: z.string(),
  options: z.object({ account_ids: z.array(z.string()).optional() }).passthrough().optional(),
}).passthrough();

const TransactionsBody = z.object({
  access_token: z.string(),
  start_date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  end_date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  options: z.object({
    account_ids: z.array(z.string()).optional(),
    count: z.number().int().min(1).max(500).optional(),
    offset: z.number().int().min(0).optional(),
  }).passthrough().optional(),
}).passthrough();

const FireWebhookBody = z.object({
  access_token: z.string(),
  webhook_type: z.string().optional(),
  webhook_code: z.string(),
}).passthrough();

// What `/sandbox/item/fire_webhook` may fire; ITEM ERROR only comes from a broken login.
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

function selectAccounts(item: Item, ids: unknown): PlaidAccount[] {
  if (!Array.isArray(ids) || ids.length === 0) return item.accounts;
  return item.accounts.filter((a) => ids.includes(a.accountId));
}

// One `/link/token/get` session: the item's public token and accounts once Link finished.
function sessionJson(store: PlaidStore, s: LinkSession) {
  const item = s.itemId ? store.items.get(s.itemId) : undefined;
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
}

/** Builds the API app with the Hosted Link page; `../mod.ts` mounts it at `/plaid`. */
export function plaidRest(deps: PlaidRestDeps): Hono {
  const { core, store, hooks } = deps;
  const app = new Hono();
  app.use("*", admitRequests(deps));
  const limitedItem = limitedItemFor(store, deps.limit, core.now);

  // ---- link and public tokens -------------------------------------------------------------

  app.post("/link/token/create", (c) => {
    const b = parse(c, LinkCreate);
    if (b instanceof Response) return b;
    let updateItemId: string | null = null;
    if (b.access_token) {
      const item = itemFor(c, store, b.access_token, false);
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
    store.linkTokens.set(token, t);
    return ok(c, {
      link_token: token,
      expiration: iso(t.expiresAt),
      ...(t.hosted ? { hosted_link_url: `${core.publicUrl()}/plaid/link/${token}` } : {}),
    });
  });

  app.post("/link/token/get", (c) => {
    const b = parse(c, z.object({ link_token: z.string() }).passthrough());
    if (b instanceof Response) return b;
    const t = store.linkTokens.get(b.link_token);
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
      link_sessions: t.sessions.map((s) => sessionJson(store, s)),
    });
  });

  app.post("/sandbox/public_token/create", (c) => {
    const b = parse(c, PublicTokenCreate);
    if (b instanceof Response) return b;
    if (!INSTITUTIONS.some((i) => i.id === b.institution_id)) {
      return err(c, 400, "INVALID_INPUT", "INVALID_INSTITUTION", "invalid institution_id provided");
    }
    const item = store.createItem(b.institution_id, b.options?.webhook ?? null, core.now());
    return ok(c, { public_token: store.newPublicToken(item, core.now()) });
  });

  app.post("/item/public_token/exchange", (c) => {
    const b = parse(c, z.object({ public_token: z.string() }).passthrough());
    if (b instanceof Response) return b;
    const p = store.publicTokens.get(b.public_token);
    if (!p || p.used || p.expiresAt < core.now() || !store.items.has(p.itemId)) {
      return err(
        c,
        400,
        "INVALID_INPUT",
        "INVALID_PUBLIC_TOKEN",
        "provided public token is expired or invalid",
      );
    }
    p.used = true;
    const item = store.items.get(p.itemId)!;
    return ok(c, { access_token: item.accessToken, item_id: item.itemId });
  });

  // ---- investments and accounts -----------------------------------------------------------

  app.post("/investments/holdings/get", (c) => {
    const b = parse(c, AccessBody);
    if (b instanceof Response) return b;
    const item = limitedItem(c, b.access_token, "holdings", "INVESTMENT_HOLDINGS_GET_LIMIT");
    if (item instanceof Response) return item;
    const accts = selectAccounts(item, b.options?.account_ids);
    const holdings = accts.flatMap((a) => holdingsOf(a).map((h) => [a, h] as const));
    const secs = new Map(holdings.map(([, h]) => [h.security.id, h.security]));
    return ok(c, {
      accounts: accts.map((a) => accountJson(item, a)),
      holdings: holdings.map(([a, h]) => holdingJson(a, h)),
      securities: [...secs.values()].map(securityJson),
      item: itemJson(item),
    });
  });

  app.post("/investments/transactions/get", (c) => {
    const b = parse(c, TransactionsBody);
    if (b instanceof Response) return b;
    const item = limitedItem(c, b.access_token, "transactions", "INVESTMENT_TRANSACTIONS_LIMIT");
    if (item instanceof Response) return item;
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
      accounts: accts.map((a) => accountJson(item, a)),
      securities: [...secs.values()].map(securityJson),
      investment_transactions: pageItems.map(([a, t]) => transactionJson(a, t)),
      total_investment_transactions: all.length,
      item: itemJson(item),
      is_investments_fallback_item: false,
    });
  });

  // `/accounts/balance/get` asks the institution, so it is rate limited; `/accounts/get` answers
  // Plaid's cached data and is not.
  const accounts = (limitCode: string | null) => (c: Context) => {
    const b = parse(c, AccessBody);
    if (b instanceof Response) return b;
    const item = limitCode === null
      ? itemFor(c, store, b.access_token)
      : limitedItem(c, b.access_token, "balance", limitCode);
    if (item instanceof Response) return item;
    return ok(c, {
      accounts: selectAccounts(item, b.options?.account_ids).map((a) => accountJson(item, a)),
      item: itemJson(item),
    });
  };
  app.post("/accounts/balance/get", accounts("ACCOUNTS_BALANCE_GET_LIMIT"));
  app.post("/accounts/get", accounts(null));

  // ---- items ------------------------------------------------------------------------------

  app.post("/item/get", (c) => {
    const b = parse(c, AccessBody);
    if (b instanceof Response) return b;
    const item = itemFor(c, store, b.access_token, false);
    if (item instanceof Response) return item;
    return ok(c, { item: itemJson(item), status: null });
  });

  app.post("/item/remove", (c) => {
    const b = parse(c, AccessBody);
    if (b instanceof Response) return b;
    const item = itemFor(c, store, b.access_token, false);
    if (item instanceof Response) return item;
    store.removeItem(item);
    return ok(c, {});
  });

  app.post("/item/webhook/update", (c) => {
    const b = parse(
      c,
      z.object({ access_token: z.string(), webhook: z.string().url().nullish() }).passthrough(),
    );
    if (b instanceof Response) return b;
    const item = itemFor(c, store, b.access_token, false);
    if (item instanceof Response) return item;
    item.webhook = b.webhook ?? null;
    hooks.acknowledgeUpdate(item);
    return ok(c, { item: itemJson(item) });
  });

  app.post("/webhook_verification_key/get", (c) => {
    const b = parse(c, z.object({ key_id: z.string() }).passthrough());
    if (b instanceof Response) return b;
    if (b.key_id !== deps.signer.kid) {
      return err(
        c,
        400,
        "INVALID_INPUT",
        "INVALID_WEBHOOK_VERIFICATION_KEY_ID",
        "invalid key_id provided",
      );
    }
    return ok(c, { key: deps.signer.key() });
  });

  // ---- sandbox helpers --------------------------------------------------------------------

  app.post("/sandbox/item/fire_webhook", (c) => {
    const b = parse(c, FireWebhookBody);
    if (b instanceof Response) return b;
    const item = itemFor(c, store, b.access_token, false);
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
    hooks.send(item, type, b.webhook_code);
    return ok(c, { webhook_fired: true });
  });

  app.post("/sandbox/item/reset_login", (c) => {
    const b = parse(c, AccessBody);
    if (b instanceof Response) return b;
    const item = itemFor(c, store, b.access_token, false);
    if (item instanceof Response) return item;
    breakLogin(item, hooks);
    return ok(c, { reset_login: true });
  });

  hostedLinkRoutes(app, deps);

  app.notFound((c) => err(c, 404, "INVALID_REQUEST", "NOT_FOUND", "unknown endpoint"));
  return app;
}
