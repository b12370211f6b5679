/**
 * The connection routes: list, SnapTrade portal and callback, Plaid Hosted Link, link token
 * and exchange, Alpaca keys, reconnect and removal. The flows live behind `ConnectionsPort`.
 * @module
 */
import { type Context, Hono } from "hono";
import type { ApiEnv, RouteContext } from "../context.ts";
import { ApiError, idParam, invalid, jsonBody, NOT_FOUND } from "../http.ts";
import * as Q from "../queries.ts";
import * as S from "../schemas.ts";

/** `/api/connections…`. */
export function connectionRoutes(ctx: RouteContext): Hono<ApiEnv> {
  const { deps, sql, log, config, holdingsCache } = ctx;
  const app = new Hono<ApiEnv>();

  const callbackBase = `${config.PUBLIC_URL.replace(/\/$/, "")}/api/connections`;

  /** Back to the connections page, saying why in a sentence. */
  const back = (c: Context, params: Record<string, string>) =>
    c.redirect(`/connections?${new URLSearchParams(params)}`, 303);

  /**
   * Where a provider's own page returns: completes the connection (after checking that a
   * connection being repaired is this user's), then opens the dashboard on it.
   */
  const completeAndReturn = async (
    c: Context<ApiEnv>,
    provider: "snaptrade" | "plaid",
    reconnectId: string | undefined,
    failure: string,
    complete: () => Promise<{ connectionId: string }>,
  ) => {
    if (reconnectId && !(await Q.ownsConnection(sql, c.get("user").id, reconnectId))) {
      return back(c, { error: "That connection no longer exists." });
    }
    try {
      const { connectionId } = await complete();
      return c.redirect(
        `/?${new URLSearchParams({ connected: provider, connection: connectionId })}`,
        303,
      );
    } catch (e) {
      if (e instanceof ApiError) return back(c, { error: e.message });
      log.error("connection completion failed", { provider, error: e });
      return back(c, { error: failure });
    }
  };

  app.get("/api/connections", async (c) => {
    return c.json({ connections: await Q.listConnections(sql, c.get("user").id) });
  });

  app.post("/api/connections/snaptrade/portal", async (c) => {
    const body = await jsonBody(c, S.SnapTradePortalBody);
    const redirect = new URL(`${callbackBase}/snaptrade/callback`);
    redirect.searchParams.set("access", body.access);
    const { url } = await deps.connections.snaptradePortal(c.get("user").id, {
      access: body.access,
      broker: body.broker,
      redirectUrl: redirect.toString(),
    });
    return c.json({ url });
  });

  app.get("/api/connections/snaptrade/callback", async (c) => {
    const q = S.SnapTradeCallbackQuery.safeParse(c.req.query());
    if (!q.success) return back(c, { error: "The brokerage sent back an unexpected answer." });
    const authorizationId = q.data.connection_id ?? q.data.authorizationId;
    if (q.data.status && q.data.status.toUpperCase() !== "SUCCESS" || !authorizationId) {
      return back(c, { error: "The brokerage connection was not completed." });
    }
    return await completeAndReturn(
      c,
      "snaptrade",
      q.data.reconnect,
      "The brokerage connection could not be completed. Try again.",
      () =>
        deps.connections.snaptradeComplete(c.get("user").id, {
          authorizationId,
          access: q.data.access,
          reconnectId: q.data.reconnect,
        }),
    );
  });

  app.post("/api/connections/plaid/link-token", async (c) => {
    await jsonBody(c, S.PlaidLinkBody);
    const t = await deps.connections.plaidLinkToken(c.get("user").id, {
      completionRedirectUrl: `${callbackBase}/plaid/callback`,
    });
    return c.json({
      link_token: t.linkToken,
      hosted_link_url: t.hostedLinkUrl,
      expiration: t.expiration,
    });
  });

  app.post("/api/connections/plaid/exchange", async (c) => {
    const body = await jsonBody(c, S.PlaidExchangeBody);
    const { connectionId } = await deps.connections.plaidComplete(c.get("user").id, {
      publicToken: body.public_token,
      linkToken: body.link_token,
    });
    return c.json({ connection_id: connectionId }, 201);
  });

  app.get("/api/connections/plaid/callback", async (c) => {
    const q = S.PlaidCallbackQuery.safeParse(c.req.query());
    // Only the Link session this user opened (remembered server-side) is completed here:
    // tokens in the address are ignored, so a crafted link cannot attach someone else's
    // item to this account.
    if (!q.success || q.data.error) {
      return back(c, { error: "The bank connection was not completed." });
    }
    return await completeAndReturn(
      c,
      "plaid",
      q.data.reconnect,
      "The bank connection could not be completed. Try again.",
      () => deps.connections.plaidComplete(c.get("user").id, { reconnectId: q.data.reconnect }),
    );
  });

  app.post("/api/connections/alpaca", async (c) => {
    const body = await jsonBody(c, S.AlpacaBody);
    const { connectionId } = await deps.connections.alpacaConnect(c.get("user").id, {
      keyId: body.key_id,
      secretKey: body.secret_key,
      paper: body.paper,
    });
    return c.json({ connection_id: connectionId }, 201);
  });

  app.get("/api/connections/:id", async (c) => {
    const [conn] = await Q.listConnections(sql, c.get("user").id, idParam(c));
    if (!conn) throw new ApiError(404, NOT_FOUND);
    return c.json(conn);
  });

  app.post("/api/connections/:id/reconnect", async (c) => {
    const userId = c.get("user").id;
    const id = idParam(c);
    const conn = await Q.connectionProvider(sql, userId, id);
    if (!conn) throw new ApiError(404, NOT_FOUND);
    const body = await jsonBody(c, S.ReconnectBody);
    // The provider decides how it is repaired: its pages (back to its callback here, which
    // completes the repair of this connection) or the new keys in the body.
    const callbackUrl = (provider: string) => {
      const url = new URL(`${callbackBase}/${provider}/callback`);
      url.searchParams.set("reconnect", id);
      return url.toString();
    };
    const step = await deps.connections.reconnect(userId, id, {
      callbackUrl,
      keys: body.key_id && body.secret_key
        ? { keyId: body.key_id, secretKey: body.secret_key, paper: body.paper }
        : undefined,
    });
    if (step.kind === "needs_keys") throw invalid([{ path: ["key_id"], message: step.message }]);
    return c.json({
      provider: conn.provider,
      url: step.url,
      link_token: step.linkToken,
      connection_id: id,
    });
  });

  app.delete("/api/connections/:id", async (c) => {
    const userId = c.get("user").id;
    const id = idParam(c);
    if (!(await Q.ownsConnection(sql, userId, id))) throw new ApiError(404, NOT_FOUND);
    await deps.connections.remove(userId, id);
    holdingsCache.invalidate(userId);
    return c.body(null, 204);
  });

  return app;
}
