/**
 * Read-only views of the user's data: accounts, transactions and sync runs.
 * @module
 */
import { Hono } from "hono";
import type { ApiEnv, RouteContext } from "../context.ts";
import { ApiError, idParam, invalid, NOT_FOUND, query } from "../http.ts";
import * as Q from "../queries.ts";
import * as S from "../schemas.ts";

/** `/api/accounts`, `/api/transactions`, `/api/syncs`. */
export function readRoutes(ctx: RouteContext): Hono<ApiEnv> {
  const { sql } = ctx;
  const app = new Hono<ApiEnv>();

  app.get("/api/accounts", async (c) => {
    return c.json({ accounts: await Q.listAccounts(sql, c.get("user").id) });
  });
  app.get("/api/accounts/:id", async (c) => {
    const [account] = await Q.listAccounts(sql, c.get("user").id, idParam(c));
    if (!account) throw new ApiError(404, NOT_FOUND);
    return c.json(account);
  });

  app.get("/api/transactions", async (c) => {
    const f = query(c, S.TransactionsQuery);
    const userId = c.get("user").id;
    if (f.cursor && !Q.decodeCursor(f.cursor)) {
      throw invalid([{
        path: ["cursor"],
        message: "The page cursor is not one this api gave out.",
      }]);
    }
    if (f.from && f.to && f.from > f.to) {
      throw invalid([{ path: ["from"], message: "The start date is after the end date." }]);
    }
    if (f.account_id && !(await Q.ownsAccount(sql, userId, f.account_id))) {
      throw new ApiError(404, NOT_FOUND);
    }
    return c.json(await Q.listTransactions(sql, userId, f));
  });
  app.get("/api/transactions/:id", async (c) => {
    const page = await Q.listTransactions(sql, c.get("user").id, { limit: 1 }, idParam(c));
    if (!page.transactions[0]) throw new ApiError(404, NOT_FOUND);
    return c.json(page.transactions[0]);
  });

  app.get("/api/syncs", async (c) => {
    const f = query(c, S.SyncsQuery);
    const userId = c.get("user").id;
    if (f.connection_id && !(await Q.ownsConnection(sql, userId, f.connection_id))) {
      throw new ApiError(404, NOT_FOUND);
    }
    return c.json({ syncs: await Q.listSyncs(sql, userId, f) });
  });
  app.get("/api/syncs/:id", async (c) => {
    const [run] = await Q.listSyncs(sql, c.get("user").id, { limit: 1 }, idParam(c));
    if (!run) throw new ApiError(404, NOT_FOUND);
    return c.json(run);
  });

  return app;
}
