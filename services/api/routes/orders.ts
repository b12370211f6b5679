/**
 * Trading: `POST /api/orders/preview`, `POST /api/orders` (with `Idempotency-Key`),
 * `GET /api/orders`, `GET /api/orders/:id`, `DELETE /api/orders/:id`, and the kill switch
 * (`GET|POST /api/trading/halts`, `DELETE /api/trading/halts/:id`). The order flow is
 * `@meridian/sync/trading`'s `OrderDesk`; here requests are validated and its refusals
 * become answers.
 * @module
 */
import { type Context, Hono } from "hono";
import { type Actor, listHalts, type OrderDesk, TradingError } from "@meridian/sync/trading";
import type { ApiEnv, RouteContext } from "../context.ts";
import { ApiError, idParam, invalid, jsonBody, NOT_FOUND, query, retryLater } from "../http.ts";
import * as S from "../schemas.ts";

/** A refusal of the order flow as the api's answer. */
function answerOf(e: unknown): unknown {
  if (!(e instanceof TradingError)) return e;
  const { retryAfterS, ineligible, code } = e.extra;
  if (retryAfterS !== undefined && (e.status === 429 || e.status === 503)) {
    return retryLater(e.status, e.message, retryAfterS);
  }
  return new ApiError(e.status, e.message, {
    ...(code ? { code } : {}),
    ...(ineligible ? { ineligible } : {}),
  });
}

async function mapped<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw answerOf(e);
  }
}

/** The order and halt routes, over `desk`. */
export function orderRoutes(ctx: RouteContext, desk: OrderDesk): Hono<ApiEnv> {
  const { sql } = ctx;
  const app = new Hono<ApiEnv>();
  const actor = (c: Context<ApiEnv>): Actor => ({
    userId: c.get("user").id,
    address: ctx.clientAddress(c),
  });

  app.post("/api/orders/preview", async (c) => {
    const b = await jsonBody(c, S.OrderPreviewBody);
    const preview = await mapped(() =>
      desk.preview(actor(c), {
        symbol: b.symbol,
        side: b.side,
        quantity: b.quantity ?? null,
        notional: b.notional ?? null,
        type: b.type,
        limit_price: b.limit_price ?? null,
        stop_price: b.stop_price ?? null,
        time_in_force: b.time_in_force,
      }, b.account_id)
    );
    return c.json(preview, 200);
  });

  app.post("/api/orders", async (c) => {
    const key = S.IdempotencyKey.safeParse(c.req.header("idempotency-key") ?? "");
    if (!key.success) {
      throw invalid(key.error.issues.map((i) => ({ ...i, path: ["Idempotency-Key"] })));
    }
    const b = await jsonBody(c, S.OrderPlaceBody);
    const placed = await mapped(() => desk.place(actor(c), b.preview_id, key.data));
    return c.json({ order: placed.order }, placed.created ? 201 : 200);
  });

  app.get("/api/orders/accounts", async (c) => {
    const q = query(c, S.OrderAccountsQuery);
    return c.json(
      await desk.accountsFor(c.get("user").id, q.symbol, q.side, q.quantity ?? null),
    );
  });

  app.get("/api/orders/symbols", async (c) => {
    const q = query(c, S.SymbolSearchQuery);
    return c.json({ symbols: await mapped(() => desk.searchSymbols(c.get("user").id, q.q)) });
  });

  app.get("/api/orders", async (c) => {
    const q = query(c, S.OrdersQuery);
    return c.json({ orders: await desk.list(c.get("user").id, q) });
  });

  app.get("/api/orders/:id", async (c) => {
    const id = idParam(c);
    return c.json({ order: await mapped(() => desk.get(c.get("user").id, id)) });
  });

  app.delete("/api/orders/:id", async (c) => {
    const id = idParam(c);
    const order = await mapped(() => desk.cancel(actor(c), id));
    return c.json({ order }, 202);
  });

  app.get("/api/trading/halts", async (c) => {
    return c.json({ halts: await listHalts(sql, c.get("user").id) });
  });

  app.post("/api/trading/halts", async (c) => {
    const user = c.get("user");
    const b = await jsonBody(c, S.HaltBody);
    if (b.scope === "global" && user.role !== "owner") {
      throw new ApiError(403, "Only the owner of this Meridian can halt trading for everyone.");
    }
    if (b.account_id !== undefined) {
      const [own] =
        await sql`select 1 from accounts where id = ${b.account_id} and user_id = ${user.id}`;
      if (!own) throw new ApiError(404, NOT_FOUND);
    }
    const [halt] = await sql`
      insert into trading_halts (scope, user_id, account_id, reason, engaged_by)
      values (${b.scope}, ${b.scope === "global" ? null : user.id}, ${b.account_id ?? null},
              ${b.reason}, ${user.id})
      on conflict do nothing
      returning id, scope, account_id, reason, engaged_at`;
    if (!halt) throw new ApiError(409, "That halt is already engaged.");
    await desk.audit(actor(c), "halt.engaged", { accountId: b.account_id ?? null }, {
      scope: b.scope,
      reason: b.reason,
    });
    return c.json({ halt }, 201);
  });

  app.delete("/api/trading/halts/:id", async (c) => {
    const user = c.get("user");
    const id = idParam(c);
    const [halt] = await sql<{ scope: string; user_id: string | null }[]>`
      select scope, user_id from trading_halts where id = ${id}`;
    const mine = halt &&
      (halt.user_id === user.id || (halt.scope === "global" && user.role === "owner"));
    if (!mine) throw new ApiError(404, NOT_FOUND);
    await sql`delete from trading_halts where id = ${id}`;
    await desk.audit(actor(c), "halt.released", {}, { halt_id: id, scope: halt.scope });
    return c.body(null, 204);
  });

  return app;
}
