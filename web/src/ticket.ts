/**
 * The trade ticket's rules, pure: which fields an order needs, the `POST /api/orders/preview`
 * body a filled-in ticket makes (or the sentences saying what to fix), how long a preview has
 * left, and the words of its confirmation.
 * @module
 */
import type { OrderType, Preview, Side, TimeInForce } from "./order_schema.ts";

/** What the ticket's fields hold: text as typed. */
export interface TicketForm {
  symbol: string;
  side: Side;
  accountId: string | null;
  /** Shares, or an amount of money (a notional market order for the day). */
  sizeBy: "quantity" | "notional";
  quantity: string;
  notional: string;
  type: OrderType;
  limitPrice: string;
  stopPrice: string;
  timeInForce: TimeInForce;
}

/** The fields of a ticket a sentence may be about. */
export type TicketField = "account" | "quantity" | "notional" | "limitPrice" | "stopPrice";

/** The body of `POST /api/orders/preview` (decimals as strings). */
export interface PreviewBody {
  symbol: string;
  side: Side;
  quantity?: string;
  notional?: string;
  type: OrderType;
  limit_price?: string;
  stop_price?: string;
  time_in_force: TimeInForce;
  account_id?: string;
}

export const needsLimit = (t: OrderType): boolean => t === "limit" || t === "stop_limit";
export const needsStop = (t: OrderType): boolean => t === "stop" || t === "stop_limit";

/**
 * A positive amount as the api takes it ("10", "2.5", "187.25"), or null. Spaces around it and
 * thousands separators ("1,000") are dropped; anything else is not a number here.
 */
export function amountOf(text: string): string | null {
  let t = text.trim().replace(/\s+/g, "");
  if (/^\d{1,3}(,\d{3})+(\.\d+)?$/.test(t)) t = t.replace(/,/g, "");
  if (/^\.\d+$/.test(t)) t = `0${t}`;
  if (!/^\d{1,12}(\.\d{1,9})?$/.test(t) || !/[1-9]/.test(t)) return null;
  return t;
}

/** A ticket with a notional size is a market order for the day: the only kind that can be. */
export function normalise(form: TicketForm): TicketForm {
  if (form.sizeBy !== "notional") return form;
  return { ...form, type: "market", timeInForce: "day" };
}

/** The preview body of `form`, or a sentence per field to fix. */
export function previewBody(
  input: TicketForm,
): { ok: true; body: PreviewBody } | { ok: false; errors: Partial<Record<TicketField, string>> } {
  const form = normalise(input);
  const errors: Partial<Record<TicketField, string>> = {};
  if (!form.accountId) errors.account = "Choose the account to place the order in.";
  const body: PreviewBody = {
    symbol: form.symbol,
    side: form.side,
    type: form.type,
    time_in_force: form.timeInForce,
  };
  if (form.accountId) body.account_id = form.accountId;
  if (form.sizeBy === "quantity") {
    const q = amountOf(form.quantity);
    if (q === null) {
      errors.quantity = form.quantity.trim()
        ? "Enter the number of shares with digits, more than zero, like 10 or 2.5."
        : `Enter how many shares to ${form.side}.`;
    } else body.quantity = q;
  } else {
    const n = amountOf(form.notional);
    if (n === null) {
      errors.notional = form.notional.trim()
        ? "Enter the amount with digits, more than zero, like 500 or 250.50."
        : `Enter how much to ${form.side}.`;
    } else body.notional = n;
  }
  if (needsLimit(form.type)) {
    const p = amountOf(form.limitPrice);
    if (p === null) errors.limitPrice = "Enter the limit price, like 180 or 179.50.";
    else body.limit_price = p;
  }
  if (needsStop(form.type)) {
    const p = amountOf(form.stopPrice);
    if (p === null) errors.stopPrice = "Enter the stop price, like 170 or 169.50.";
    else body.stop_price = p;
  }
  return Object.keys(errors).length ? { ok: false, errors } : { ok: true, body };
}

/** How long a preview has left at `now`: expired, or minutes and seconds ("4:05"). */
export function expiry(expiresAt: string, now: number): { expired: boolean; left: string } {
  const ms = Date.parse(expiresAt) - now;
  if (!(ms > 0)) return { expired: true, left: "0:00" };
  const s = Math.ceil(ms / 1000);
  return { expired: false, left: `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}` };
}

/** "Estimated cost" for a buy, "Estimated proceeds" for a sell. */
export function amountLabel(side: Side): string {
  return side === "buy" ? "Estimated cost" : "Estimated proceeds";
}

/** A new Idempotency-Key: one per confirmation screen, reused when that confirmation is retried. */
export function newIdempotencyKey(): string {
  return `web-${crypto.randomUUID()}`;
}

/** What the confirmation names its price: the limit for a limit order, else an estimate. */
export function priceLabel(p: Pick<Preview, "type">): string {
  return p.type === "market" ? "Estimated price" : "Price used for the estimate";
}

/** The short explanation under the order type. */
export const TYPE_HINTS: Record<OrderType, string> = {
  market: "Fills as soon as possible at the market price.",
  limit: "Fills only at the limit price or better.",
  stop: "Becomes a market order once the price reaches the stop.",
  stop_limit: "Becomes a limit order once the price reaches the stop.",
};

/** A symbol search as the api takes it: letters, digits, spaces and . & ' / -, at most 40. */
export function searchQuery(text: string): string | null {
  const q = text.trim().replace(/\s+/g, " ");
  if (!q || q.length > 40 || !/^[\p{L}\p{N} .&'/-]+$/u.test(q)) return null;
  return q;
}
