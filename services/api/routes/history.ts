/**
 * Value history with returns, income by month, and allocation.
 * @module
 */
import { Hono } from "hono";
import type { Context } from "hono";
import { allocation, type HoldingsView, unrealizedPl } from "@meridian/portfolio";
import { addDays, nyDay, resolveRange } from "@meridian/portfolio/history";
import type { ApiEnv, RouteContext } from "../context.ts";
import { ApiError, invalid, NOT_FOUND, query } from "../http.ts";
import {
  accountScope,
  type HistoryAnswer,
  readHistory,
  readIncome,
  type Scope,
} from "../history.ts";
import { AnswerCache } from "../answer_cache.ts";
import { TransactionsCache } from "../transactions_cache.ts";
import * as S from "../schemas.ts";

/**
 * History answers per user, range and scope while their holdings fingerprint stands: fresh for
 * 10 s, then served while recomputed for up to a minute. Points are recorded every
 * `SNAPSHOT_INTRADAY_S` (5 minutes) and the browser draws the live value itself, so that costs
 * nothing a person can see. At most 500 kept (each up to ~60 KB: a month drawn hourly).
 */
const ANSWERS = { freshMs: 10_000, staleMs: 60_000, maxKeys: 500 };

/** `/api/portfolio/history`, `/api/income`, `/api/allocation`. */
export function historyRoutes(ctx: RouteContext): Hono<ApiEnv> {
  const { sql, now, holdingsCache, quotes } = ctx;
  const app = new Hono<ApiEnv>();

  const ledgers = new TransactionsCache(sql);
  const answers = new AnswerCache<HistoryAnswer>(ANSWERS);
  /**
   * The priced holdings view `GET /api/holdings` shows (parsed once per cached answer), and the
   * user's transactions as of the same rows.
   */
  const parsed = new WeakMap<object, HoldingsView>();
  const holdings = async (userId: string) => {
    const entry = await holdingsCache.get(userId, now(), quotes);
    let view = parsed.get(entry);
    if (!view) parsed.set(entry, view = JSON.parse(entry.json) as HoldingsView);
    return {
      view,
      fingerprint: entry.fingerprint,
      ledger: () => ledgers.get(userId, entry.fingerprint),
    };
  };

  const scopeOf = async (c: Context<ApiEnv>, accountId: string | undefined): Promise<Scope> => {
    if (!accountId) return { kind: "portfolio" };
    const scope = await accountScope(sql, c.get("user").id, accountId);
    if (!scope) throw new ApiError(404, NOT_FOUND);
    return scope;
  };

  app.get("/api/portfolio/history", async (c) => {
    const q = query(c, S.HistoryQuery);
    const window = resolveRange(q.range, now());
    if ("error" in window) throw invalid([{ path: ["range"], message: window.error }]);
    const userId = c.get("user").id;
    const scope = await scopeOf(c, q.account_id);
    const { view, fingerprint, ledger } = await holdings(userId);
    const key = `${userId}|${window.range}|${q.account_id ?? ""}`;
    const answer = await answers.get(
      key,
      fingerprint,
      async () =>
        readHistory(sql, {
          userId,
          base: view.base.currency,
          window,
          scope,
          ledger: await ledger(),
        }),
    );
    return c.json({
      ...answer,
      returns: { ...answer.returns, unrealized_pl: unrealizedPl(view, q.account_id) },
    });
  });

  app.get("/api/income", async (c) => {
    const q = query(c, S.IncomeQuery);
    const today = nyDay(now());
    const to = q.to ?? today;
    const from = q.from ?? `${addDays(to, -365).slice(0, 7)}-01`;
    if (from > to) {
      throw invalid([{ path: ["from"], message: "The start date is after the end date." }]);
    }
    const userId = c.get("user").id;
    const scope = await scopeOf(c, q.account_id);
    const { view, ledger } = await holdings(userId);
    return c.json(
      await readIncome(sql, { base: view.base.currency, scope, from, to, ledger: await ledger() }),
    );
  });

  app.get("/api/allocation", async (c) => {
    const q = query(c, S.AllocationQuery);
    const userId = c.get("user").id;
    await scopeOf(c, q.account_id);
    const { view } = await holdings(userId);
    return c.json({ ...allocation(view, q.by, q.account_id), as_of: view.generated_at });
  });

  return app;
}
