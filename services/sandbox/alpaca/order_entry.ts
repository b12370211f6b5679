/**
 * Order entry (`POST /v2/orders`): Alpaca's validation rules for the order's shape, then the
 * buying-power or available-shares check, in the order Alpaca applies them and with its error
 * codes and messages.
 * @module
 */

import { type AlpacaAsset, findAsset } from "./assets.ts";
import { D, type Dec, decimalOrNull, exact } from "./decimal.ts";
import { AlpacaError, invalid } from "./errors.ts";
import type { PriceBook } from "./prices.ts";
import { type Account, buyingPower, type OrderRec, reservedSells } from "./state.ts";

const SIDES = new Set(["buy", "sell"]);
const TYPES = new Set(["market", "limit", "stop", "stop_limit", "trailing_stop"]);
const TIFS = new Set(["day", "gtc", "opg", "cls", "ioc", "fok"]);

/** Parses a positive decimal given as a string or a JSON number. */
function positive(name: string, v: unknown): Dec {
  if (typeof v !== "string" && typeof v !== "number") throw invalid(`invalid ${name}`);
  let d: Dec;
  try {
    d = new D(String(v).trim());
  } catch {
    throw invalid(`invalid ${name}`);
  }
  if (!d.isFinite()) throw invalid(`invalid ${name}`);
  if (d.lte(0)) throw invalid(`${name} must be > 0`);
  return d;
}

/** What a well-formed order asks for. */
interface Terms {
  asset: AlpacaAsset;
  side: "buy" | "sell";
  type: string;
  tif: string;
  qty: Dec | null;
  notional: Dec | null;
  limit: Dec | null;
  stop: Dec | null;
  trailPrice: Dec | null;
  trailPercent: Dec | null;
  extended: boolean;
  clientId: string;
}

/** Checks the order's shape (422 `40010001`, or 400 for a body that is no object). */
function terms(acct: Account, body: unknown): Terms {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new AlpacaError(400, 40010000, "request body format is invalid");
  }
  const b = body as Record<string, unknown>;
  const has = (k: string) => b[k] !== undefined && b[k] !== null && b[k] !== "";

  if (!has("symbol") || typeof b.symbol !== "string") throw invalid("symbol is required");
  const asset = findAsset(b.symbol);
  if (!asset) throw invalid(`asset "${b.symbol}" not found`);
  if (!asset.tradable) throw invalid(`asset ${asset.symbol} is not tradable`);
  if (!has("side") || !SIDES.has(String(b.side))) throw invalid("invalid side");
  const side = b.side as "buy" | "sell";
  if (!has("type") || !TYPES.has(String(b.type))) throw invalid("invalid order type");
  const type = String(b.type);
  if (!has("time_in_force") || !TIFS.has(String(b.time_in_force))) {
    throw invalid("invalid time_in_force");
  }
  const tif = String(b.time_in_force);
  if (has("order_class") && !["simple", ""].includes(String(b.order_class))) {
    throw invalid(`order_class ${String(b.order_class)} is not supported by the sandbox`);
  }

  if (has("qty") && has("notional")) throw invalid("only one of qty or notional is accepted");
  if (!has("qty") && !has("notional")) throw invalid("qty or notional is required");
  const qty = has("qty") ? positive("qty", b.qty) : null;
  const notional = has("notional") ? positive("notional", b.notional) : null;

  const isCrypto = asset.class === "crypto";
  if (isCrypto) {
    if (tif !== "gtc" && tif !== "ioc") throw invalid("invalid crypto time_in_force");
    if (type === "trailing_stop" || type === "stop") throw invalid("invalid crypto order type");
    if (qty && asset.min_order_size && qty.lt(asset.min_order_size)) {
      throw invalid(`qty must be >= ${asset.min_order_size}`);
    }
  }
  if (notional) {
    if (type !== "market" || (!isCrypto && tif !== "day")) {
      throw invalid(
        "notional orders are only supported for market orders with time_in_force=day",
      );
    }
    if (!isCrypto && notional.lt(1)) throw invalid("notional must be >= 1");
  }
  if (qty && !qty.isInteger() && !isCrypto) {
    if (!asset.fractionable) throw invalid(`asset ${asset.symbol} is not fractionable`);
    if (tif !== "day") throw invalid("fractional orders must be DAY orders");
  }

  const priceOf = (name: "limit_price" | "stop_price" | "trail_price"): Dec => {
    const p = positive(name, b[name]);
    if (!isCrypto) {
      const maxDp = p.gte(1) ? 2 : 4;
      if (p.decimalPlaces() > maxDp) {
        throw invalid("sub-penny increment does not fulfill minimum pricing criteria");
      }
    }
    return p;
  };
  let limit: Dec | null = null;
  let stop: Dec | null = null;
  let trailPrice: Dec | null = null;
  let trailPercent: Dec | null = null;
  if (type === "limit" || type === "stop_limit") {
    if (!has("limit_price")) throw invalid("limit_price is required");
    limit = priceOf("limit_price");
  } else if (has("limit_price")) {
    throw invalid(`limit_price must not be set for ${type} orders`);
  }
  if (type === "stop" || type === "stop_limit") {
    if (!has("stop_price")) throw invalid("stop_price is required");
    stop = priceOf("stop_price");
  } else if (has("stop_price")) {
    throw invalid(`stop_price must not be set for ${type} orders`);
  }
  if (type === "trailing_stop") {
    if (has("trail_price") === has("trail_percent")) {
      throw invalid("exactly one of trail_price or trail_percent is required");
    }
    if (has("trail_price")) trailPrice = priceOf("trail_price");
    else trailPercent = positive("trail_percent", b.trail_percent);
    if (tif !== "day" && tif !== "gtc") throw invalid("trailing_stop orders must be day or gtc");
  }
  const extended = b.extended_hours === true;
  if (extended && (type !== "limit" || (tif !== "day" && tif !== "gtc"))) {
    throw invalid("extended hours order must be DAY limit orders");
  }

  let clientId: string;
  if (has("client_order_id")) {
    if (typeof b.client_order_id !== "string") throw invalid("invalid client_order_id");
    clientId = b.client_order_id;
    if (clientId.length > 128) {
      throw invalid("client_order_id must be no more than 128 characters");
    }
    if (acct.byClientId.has(clientId)) throw invalid("client_order_id must be unique");
  } else {
    clientId = crypto.randomUUID();
  }
  return {
    asset,
    side,
    type,
    tif,
    qty,
    notional,
    limit,
    stop,
    trailPrice,
    trailPercent,
    extended,
    clientId,
  };
}

/**
 * What the order holds back (cash for a buy, shares for a sell), or 403 `40310000` when the
 * account cannot cover it; checked after the shape like Alpaca does.
 */
function reserve(acct: Account, t: Terms, market: Dec): Dec {
  const { asset, qty, notional } = t;
  if (t.side === "buy") {
    const unit = t.limit ?? t.stop ?? market;
    const reserved = notional ?? qty!.mul(unit);
    const bp = buyingPower(acct);
    if (reserved.gt(bp)) {
      throw new AlpacaError(403, 40310000, "insufficient buying power", {
        buying_power: bp.toFixed(),
        cost_basis: reserved.toFixed(),
      });
    }
    return reserved;
  }
  const h = acct.holdings.get(asset.symbol);
  const available = h ? h.qty.minus(reservedSells(acct, asset.symbol)) : new D(0);
  const wanted = qty ?? notional!.div(market).toDecimalPlaces(9, D.ROUND_DOWN);
  if (!h) {
    // No position: a sell would open a short, and this paper account cannot short.
    throw new AlpacaError(403, 40310000, `account is not allowed to short`);
  }
  if (wanted.gt(available)) {
    throw new AlpacaError(
      403,
      40310000,
      `insufficient qty available for order (requested: ${wanted.toFixed()}, available: ${available.toFixed()})`,
      {
        available: available.toFixed(),
        existing_qty: h.qty.toFixed(),
        held_for_orders: h.qty.minus(available).toFixed(),
        symbol: asset.symbol,
      },
    );
  }
  return wanted;
}

/**
 * Validates an order for `acct` and returns it as accepted (`status: "new"`), not yet booked;
 * throws `AlpacaError` like Alpaca.
 */
export function newOrder(
  acct: Account,
  body: unknown,
  prices: PriceBook,
  now: () => number,
): OrderRec {
  const t = terms(acct, body);
  const market = exact(prices.price(t.asset.symbol));
  const reserved = reserve(acct, t, market);
  const ts = new Date(now()).toISOString();
  return {
    id: crypto.randomUUID(),
    client_order_id: t.clientId,
    created_at: ts,
    updated_at: ts,
    submitted_at: ts,
    filled_at: null,
    expired_at: null,
    canceled_at: null,
    failed_at: null,
    asset: t.asset,
    notional: t.notional ? t.notional.toFixed() : null,
    qty: t.qty ? t.qty.toFixed() : null,
    filled_qty: new D(0),
    filled_cost: new D(0),
    type: t.type,
    side: t.side,
    time_in_force: t.tif,
    limit_price: decimalOrNull(t.limit),
    stop_price: decimalOrNull(t.stop),
    trail_price: decimalOrNull(t.trailPrice),
    trail_percent: decimalOrNull(t.trailPercent),
    hwm: t.type === "trailing_stop" ? market : null,
    triggered: false,
    status: "new",
    extended_hours: t.extended,
    position_intent: t.side === "buy" ? "buy_to_open" : "sell_to_close",
    reserved,
  };
}
