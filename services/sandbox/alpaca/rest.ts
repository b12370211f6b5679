/**
 * Alpaca's Trading REST API (`/v2/...`) over the simulated broker: key headers, `{code, message}`
 * errors, `X-Request-ID`, and a 200 requests/minute/account limit with `X-RateLimit-*` headers.
 * Never redirects (the SDK sets `redirect: "error"`).
 * @module
 */

import { type Context, Hono } from "hono";
import type { CallLog } from "../calls.ts";
import { listActivities } from "./activities.ts";
import { assetJson, findAsset, listAssets } from "./assets.ts";
import type { Broker } from "./broker.ts";
import { authenticateData } from "./data_keys.ts";
import { decimal } from "./decimal.ts";
import { AlpacaError } from "./errors.ts";
import type { Market } from "./market.ts";
import { listOrders } from "./order_list.ts";
import { orderJson } from "./shapes.ts";
import type { Account } from "./state.ts";

/** Requests per minute per account, as on Alpaca's Trading API. */
export const RATE_LIMIT_PER_MINUTE = 200;

type Env = { Variables: { acct: Account } };

/** The route pattern a concrete path belongs to, for the call log. */
export function routePattern(path: string): string {
  const i = path.indexOf("/v2/");
  const rest = i >= 0 ? path.slice(i + 4) : path.replace(/^\/+/, "");
  if (rest.startsWith("orders:by_client_order_id")) return "/v2/orders:by_client_order_id";
  if (rest === "account/activities") return "/v2/account/activities";
  if (rest.startsWith("account/activities/")) return "/v2/account/activities/:activity_type";
  const [head, ...tail] = rest.split("/");
  const params: Record<string, string> = {
    orders: ":order_id",
    positions: ":symbol_or_asset_id",
    assets: ":symbol_or_asset_id",
  };
  if (tail.length === 0 || tail.join("/") === "") return `/v2/${head}`;
  return `/v2/${head}/${params[head] ?? ":id"}`;
}

function requestId(): string {
  return crypto.randomUUID().replaceAll("-", "");
}

function fail(c: Context, e: AlpacaError): Response {
  return c.json(e.body(), e.status as 400);
}

/** Builds the Hono app; mount it with `app.route("/alpaca", rest)`. */
export function alpacaRest(
  deps: { broker: Broker; calls: CallLog; market: Market; now: () => number },
): Hono<Env> {
  const { broker, calls, market, now } = deps;
  const app = new Hono<Env>();

  app.onError((err, c) => {
    if (err instanceof AlpacaError) return fail(c, err);
    return c.json({ code: 50010000, message: "internal server error" }, 500);
  });

  app.use("*", async (c, next) => {
    const url = new URL(c.req.url);
    calls.record("alpaca", c.req.method, routePattern(url.pathname));
    c.header("X-Request-ID", requestId());
    const acct = broker.authenticate(
      c.req.header("APCA-API-KEY-ID"),
      c.req.header("APCA-API-SECRET-KEY"),
    );
    if (!acct) {
      // The clock is for every key that may use Alpaca at all, the market-data keys included
      // (on Alpaca every key is an account's).
      const dataKey = url.pathname.endsWith("/v2/clock") && c.req.method === "GET" &&
        authenticateData(
          broker,
          c.req.header("APCA-API-KEY-ID"),
          c.req.header("APCA-API-SECRET-KEY"),
        );
      if (dataKey) return c.json(market.clockJson(now()));
      return c.json({ code: 40110000, message: "request is not authorized" }, 401);
    }

    // Fixed one-minute windows per account, like Alpaca's X-RateLimit-Reset (epoch seconds).
    const t = now();
    const window = Math.floor(t / 60_000) * 60_000;
    if (acct.rate.window !== window) acct.rate = { window, count: 0 };
    acct.rate.count++;
    const remaining = Math.max(0, RATE_LIMIT_PER_MINUTE - acct.rate.count);
    const reset = Math.ceil((window + 60_000) / 1000);
    c.header("X-RateLimit-Limit", String(RATE_LIMIT_PER_MINUTE));
    c.header("X-RateLimit-Remaining", String(remaining));
    c.header("X-RateLimit-Reset", String(reset));
    if (acct.rate.count > RATE_LIMIT_PER_MINUTE) {
      c.header("Retry-After", String(Math.max(1, reset - Math.floor(t / 1000))));
      return c.json({ code: 42910000, message: "rate limit exceeded" }, 429);
    }
    c.set("acct", acct);

    // Hono would read ":by_client_order_id" as a parameter, so this path is handled here.
    if (url.pathname.endsWith("/v2/orders:by_client_order_id")) {
      if (c.req.method !== "GET") {
        return c.json({ code: 40510000, message: "method not allowed" }, 405);
      }
      const id = url.searchParams.get("client_order_id");
      if (!id) return fail(c, new AlpacaError(422, 40010001, "client_order_id is required"));
      const o = acct.byClientId.get(id);
      if (!o) return fail(c, new AlpacaError(404, 40410000, "order not found"));
      return c.json(orderJson(o));
    }
    await next();
  });

  app.get("/v2/account", (c) => c.json(broker.accountJson(c.get("acct"))));

  app.get("/v2/account/activities", (c) => {
    return c.json(listActivities(c.get("acct"), new URL(c.req.url).searchParams));
  });

  app.get("/v2/account/activities/:type", (c) => {
    const q = new URL(c.req.url).searchParams;
    return c.json(listActivities(c.get("acct"), q, c.req.param("type")));
  });

  app.get("/v2/positions", (c) => c.json(broker.positionsJson(c.get("acct"))));

  /**
   * Like Alpaca, a crypto position is found by its slash-less symbol (`BTCUSD`) or asset id;
   * `BTC/USD` answers 404 there even though orders use it.
   */
  const positionAsset = (raw: string) => raw.includes("/") ? undefined : findAsset(raw);

  app.get("/v2/positions/:symbol", (c) => {
    const acct = c.get("acct");
    const asset = positionAsset(c.req.param("symbol"));
    const p = asset && broker.positionJson(acct, asset.symbol);
    if (!p) return fail(c, new AlpacaError(404, 40410000, "position does not exist"));
    return c.json(p);
  });

  /** Closes (part of) a position with a market sell; `qty` or `percentage` as on Alpaca. */
  const closePosition = (acct: Account, symbol: string, q: URLSearchParams) => {
    const asset = positionAsset(symbol);
    const h = asset && acct.holdings.get(asset.symbol);
    if (!asset || !h) throw new AlpacaError(404, 40410000, "position does not exist");
    let qty = h.qty;
    const qtyParam = q.get("qty");
    const pct = q.get("percentage");
    if (qtyParam !== null && pct !== null) {
      throw new AlpacaError(422, 40010001, "only one of qty or percentage is accepted");
    }
    try {
      if (qtyParam !== null) qty = decimal(qtyParam);
      if (pct !== null) {
        const p = decimal(pct);
        if (p.lte(0) || p.gt(100)) throw new Error("percentage out of range");
        qty = h.qty.mul(p).div(100).toDecimalPlaces(9, 1); // 1 = ROUND_DOWN
      }
    } catch {
      throw new AlpacaError(422, 40010001, "invalid qty or percentage");
    }
    return broker.placeOrder(acct, {
      symbol: asset.symbol,
      qty: qty.toFixed(),
      side: "sell",
      type: "market",
      time_in_force: asset.class === "crypto" ? "gtc" : "day",
    });
  };

  app.delete("/v2/positions/:symbol", (c) => {
    const acct = c.get("acct");
    const o = closePosition(acct, c.req.param("symbol"), new URL(c.req.url).searchParams);
    return c.json(orderJson(o));
  });

  app.delete("/v2/positions", (c) => {
    const acct = c.get("acct");
    if (new URL(c.req.url).searchParams.get("cancel_orders") === "true") broker.cancelAll(acct);
    const out = [];
    for (const p of broker.positionsJson(acct)) {
      const symbol = String(p.symbol);
      try {
        const o = closePosition(acct, symbol, new URLSearchParams());
        out.push({ symbol, status: 200, body: orderJson(o) });
      } catch (e) {
        if (!(e instanceof AlpacaError)) throw e;
        out.push({ symbol, status: e.status, body: e.body() });
      }
    }
    return c.json(out, 207);
  });

  app.post("/v2/orders", async (c) => {
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      return fail(c, new AlpacaError(400, 40010000, "request body format is invalid"));
    }
    const o = broker.placeOrder(c.get("acct"), body);
    return c.json(orderJson(o));
  });

  app.get("/v2/orders", (c) => {
    return c.json(listOrders(c.get("acct"), new URL(c.req.url).searchParams));
  });

  app.delete("/v2/orders", (c) => c.json(broker.cancelAll(c.get("acct")), 207));

  app.get("/v2/orders/:id", (c) => {
    const o = c.get("acct").orders.find((x) => x.id === c.req.param("id"));
    if (!o) return fail(c, new AlpacaError(404, 40410000, "order not found"));
    return c.json(orderJson(o));
  });

  app.delete("/v2/orders/:id", (c) => {
    broker.cancelOrder(c.get("acct"), c.req.param("id"));
    return c.body(null, 204);
  });

  app.get("/v2/clock", (c) => c.json(market.clockJson(now())));

  app.get("/v2/assets", (c) => c.json(listAssets(new URL(c.req.url).searchParams)));

  app.get("/v2/assets/:symbol", (c) => {
    const raw = c.req.param("symbol");
    const a = findAsset(raw);
    if (!a) return fail(c, new AlpacaError(404, 40410000, `asset not found for ${raw}`));
    return c.json(assetJson(a));
  });

  app.all("*", (c) => c.json({ code: 40410000, message: "endpoint not found" }, 404));

  return app;
}
