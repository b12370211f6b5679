/**
 * SnapTrade's REST API as the SDK calls it: status, users and portal logins, accounts with their
 * balances, positions, activities and orders, connections (authorizations) and symbol search;
 * trading comes from `trading.ts`. Paths are relative to the mount.
 * @module
 */
import { Hono } from "hono";
import { z } from "zod";
import { iso, num, randomToken, type SandboxCore } from "../core.ts";
import { accountValue, BROKERAGES, KNOWN_TICKERS, securityFor } from "../demo_data.ts";
import type { RollingLimit } from "../rolling_limit.ts";
import { admitRequests, authUser, callerAccount, callerAuth, fail } from "./request.ts";
import {
  accountJson,
  activityJson,
  allPositionJson,
  authJson,
  balancesJson,
  optionPositionJson,
  positionJson,
  universalSymbol,
} from "./shapes.ts";
import { LOGIN_TTL_MS, type SnapTradeStore } from "./state.ts";
import { type TradingDeps, tradingRoutes } from "./trading.ts";
import { connectionFields, type SnapTradeWebhooks } from "./webhooks.ts";

/** What the API works with (trading's needs included). */
export interface SnapTradeRestDeps extends TradingDeps {
  core: SandboxCore;
  clientId: string;
  consumerKey: string;
  store: SnapTradeStore;
  hooks: SnapTradeWebhooks;
  /** Requests per rolling minute per client id. */
  limit: RollingLimit;
  /** Minimum time between two refreshes of one connection. */
  refreshCooldownMs: number;
}

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

const ActivitiesQuery = z.object({
  startDate: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).optional(),
  endDate: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).optional(),
  offset: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(1000).default(1000),
  type: z.string().optional(),
});

/** Builds the signed API app; `mod.ts` mounts it at `/snaptrade` and `/snaptrade/api/v1`. */
export function snapTradeRest(deps: SnapTradeRestDeps): Hono {
  const { core, store, hooks } = deps;
  const api = new Hono();
  api.use("*", admitRequests(deps));

  api.get("/", (c) => c.json({ version: 151, timestamp: iso(core.now()), online: true }));

  // ---- users ------------------------------------------------------------------------------

  api.post("/snapTrade/registerUser", async (c) => {
    const parsed = z.object({ userId: z.string().min(1) }).safeParse(
      await c.req.json().catch(() => null),
    );
    if (!parsed.success) return fail(c, 400, "userId is required", "1068");
    const { userId } = parsed.data;
    if (store.users.has(userId)) return fail(c, 400, "User already exist", "1010");
    const u = { userId, userSecret: crypto.randomUUID(), createdAt: core.now() };
    store.users.set(userId, u);
    hooks.emit("USER_REGISTERED", userId, {});
    return c.json({ userId, userSecret: u.userSecret });
  });

  api.delete("/snapTrade/deleteUser", (c) => {
    const userId = c.req.query("userId");
    if (!userId || !store.users.has(userId)) return fail(c, 404, "User not found", "1011");
    store.users.delete(userId);
    for (const a of [...store.auths.values()].filter((a) => a.userId === userId)) {
      store.removeAuthorization(a);
    }
    hooks.emit("USER_DELETED", userId, {});
    return c.json({ status: "deleted", detail: `User ${userId} deleted`, userId });
  });

  api.post("/snapTrade/login", async (c) => {
    const u = authUser(c, store);
    if (u instanceof Response) return u;
    const text = await c.req.text();
    const parsed = LoginBody.safeParse(text ? JSON.parse(text) : {});
    if (!parsed.success) return fail(c, 400, "Invalid login parameters", "1068");
    const b = parsed.data;
    if (b.broker && !BROKERAGES.some((x) => x.slug === b.broker)) {
      return fail(c, 400, `Unknown brokerage ${b.broker}`, "1068");
    }
    if (b.reconnect) {
      const a = store.auths.get(b.reconnect);
      if (!a || a.userId !== u.userId) {
        return fail(c, 404, "Unable to find the specified connection", "1011");
      }
    }
    const token = randomToken();
    const sessionId = crypto.randomUUID();
    store.logins.set(token, {
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
    url.searchParams.set("clientId", deps.clientId);
    if (b.broker) url.searchParams.set("broker", b.broker);
    url.searchParams.set("connectionPortalVersion", "v4");
    url.searchParams.set("sessionId", sessionId);
    return c.json({ redirectURI: url.toString(), sessionId });
  });

  // ---- accounts ---------------------------------------------------------------------------

  api.get("/accounts", (c) => {
    const u = authUser(c, store);
    if (u instanceof Response) return u;
    return c.json(
      [...store.accounts.values()].filter((a) => a.userId === u.userId).map((acct) =>
        accountJson(acct, store.authOf(acct))
      ),
    );
  });

  api.get("/accounts/:accountId", (c) => {
    const acct = callerAccount(c, store, false);
    return acct instanceof Response ? acct : c.json(accountJson(acct, store.authOf(acct)));
  });

  api.get("/accounts/:accountId/balances", (c) => {
    const acct = callerAccount(c, store);
    return acct instanceof Response ? acct : c.json(balancesJson(acct));
  });

  api.get("/accounts/:accountId/positions", (c) => {
    const acct = callerAccount(c, store);
    if (acct instanceof Response) return acct;
    const a = store.authOf(acct);
    return c.json(
      acct.data.holdings.filter((h) => !h.security.option).map((h) => positionJson(a, h)),
    );
  });

  api.get("/accounts/:accountId/options", (c) => {
    const acct = callerAccount(c, store);
    if (acct instanceof Response) return acct;
    return c.json(acct.data.holdings.filter((h) => h.security.option).map(optionPositionJson));
  });

  api.get("/accounts/:accountId/positions/all", (c) => {
    const acct = callerAccount(c, store);
    if (acct instanceof Response) return acct;
    const a = store.authOf(acct);
    return c.json({
      results: acct.data.holdings.map(allPositionJson),
      data_freshness: { as_of: iso(a.lastRefreshAt ?? acct.createdAt) },
    });
  });

  api.get("/accounts/:accountId/holdings", (c) => {
    const acct = callerAccount(c, store);
    if (acct instanceof Response) return acct;
    const a = store.authOf(acct);
    return c.json({
      account: accountJson(acct, a),
      balances: balancesJson(acct),
      positions: acct.data.holdings.filter((h) => !h.security.option).map((h) =>
        positionJson(a, h)
      ),
      option_positions: acct.data.holdings.filter((h) => h.security.option).map(
        optionPositionJson,
      ),
      orders: acct.orders.map((o) => o.record),
      total_value: { value: num(accountValue(acct.data)), currency: acct.data.currency },
    });
  });

  api.get("/accounts/:accountId/activities", (c) => {
    const acct = callerAccount(c, store);
    if (acct instanceof Response) return acct;
    const q = ActivitiesQuery.safeParse(c.req.query());
    if (!q.success) return fail(c, 400, "Invalid query parameters", "1068");
    const { startDate, endDate, offset, limit: pageSize, type } = q.data;
    const types = type ? new Set(type.split(",").map((t) => t.trim().toUpperCase())) : null;
    const all = acct.data.transactions.filter((t) =>
      (!startDate || t.date >= startDate) && (!endDate || t.date <= endDate) &&
      (!types || types.has(t.type))
    );
    const a = store.authOf(acct);
    return c.json({
      data: all.slice(offset, offset + pageSize).map((t) => activityJson(acct, a, t)),
      pagination: { offset, limit: pageSize, total: all.length },
    });
  });

  api.get("/accounts/:accountId/orders", (c) => {
    const acct = callerAccount(c, store);
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
    const acct = callerAccount(c, store);
    if (acct instanceof Response) return acct;
    const since = core.now() - 86_400_000;
    return c.json({
      orders: acct.orders.filter((o) => o.executed && o.placedAt >= since).map((o) => o.record),
    });
  });

  // ---- connections ------------------------------------------------------------------------

  api.get("/authorizations", (c) => {
    const u = authUser(c, store);
    if (u instanceof Response) return u;
    return c.json([...store.auths.values()].filter((a) => a.userId === u.userId).map(authJson));
  });

  api.get("/authorizations/:authorizationId", (c) => {
    const a = callerAuth(c, store);
    return a instanceof Response ? a : c.json(authJson(a));
  });

  api.post("/authorizations/:authorizationId/refresh", (c) => {
    const a = callerAuth(c, store);
    if (a instanceof Response) return a;
    if (a.disabled) {
      return c.json({ detail: "This connection has been disabled.", code: "3003" }, 402);
    }
    const now = core.now();
    if (a.lastRefreshAt !== null && now - a.lastRefreshAt < deps.refreshCooldownMs) {
      return c.json({
        detail: "Connection refreshed too recently. Please wait before refreshing again.",
        status_code: 429,
        code: "throttled",
      }, 429);
    }
    a.lastRefreshAt = now;
    // The refresh is "queued"; SnapTrade reports its end with ACCOUNT_HOLDINGS_UPDATED.
    hooks.connectionHoldingsUpdated(a, 50);
    return c.json({
      detail: `Connection ${a.id} scheduled for refresh`,
      brokerage_authorization: authJson(a),
    });
  });

  api.delete("/authorizations/:authorizationId", (c) => {
    const a = callerAuth(c, store);
    if (a instanceof Response) return a;
    store.removeAuthorization(a);
    hooks.emit("CONNECTION_DELETED", a.userId, connectionFields(a));
    return c.body(null, 204);
  });

  api.post("/accounts/:accountId/symbols", async (c) => {
    const acct = callerAccount(c, store, false);
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

  tradingRoutes(api, deps);

  api.notFound((c) => fail(c, 404, "Not found", "1011"));
  return api;
}
