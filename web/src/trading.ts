/**
 * Trading state as signals, and the actions that change it: the open trade ticket, every order
 * the dashboard knows of (kept current by the stream's `order` events), the kill switch.
 * @module
 */
import { computed, signal } from "@preact/signals";
import { api, ApiError } from "./api.ts";
import {
  checked,
  type Halt,
  HaltList,
  type Order,
  type OrderEvent,
  OrderList,
  OrderOne,
  type Side,
} from "./order_schema.ts";
import { applyOrderEvent, byNewest, eventFilled, fresher, isFinal } from "./orders.ts";
import { loadHoldings, toast } from "./state.ts";

/** What the ticket opens with. */
export interface TicketRequest {
  symbol: string;
  name: string | null;
  side: Side;
  /** The account to start with (the row's own account), when it can take the order. */
  accountId: string | null;
  /** Renews the ticket when it is opened again. */
  seq: number;
}

export const ticket = signal<TicketRequest | null>(null);
let ticketSeq = 0;

/** Opens the trade ticket (replacing one that is open). */
export function openTicket(req: Omit<TicketRequest, "seq">): void {
  ticket.value = { ...req, seq: ++ticketSeq };
}

export function closeTicket(): void {
  ticket.value = null;
}

/** Every order the dashboard has seen, by id. */
export const knownOrders = signal<ReadonlyMap<string, Order>>(new Map());
/** Whether `GET /api/orders` has been read (the orders page lists only then). */
export const ordersListed = signal<"no" | "loading" | "yes">("no");
export const ordersError = signal<string | null>(null);
/** The orders, newest first. */
export const orderList = computed(() => byNewest(knownOrders.value.values()));
/** Orders whose cancel was asked for and that are not final yet. */
export const cancelling = signal<ReadonlySet<string>>(new Set());

function putOrders(orders: Order[]): void {
  const next = new Map(knownOrders.value);
  for (const o of orders) {
    const known = next.get(o.id);
    next.set(o.id, known ? fresher(known, o) : o);
  }
  knownOrders.value = next;
}

/** Records an order the api answered with. */
export function putOrder(order: Order): void {
  putOrders([order]);
}

export async function loadOrders(): Promise<void> {
  if (ordersListed.value === "no") ordersListed.value = "loading";
  try {
    const { orders } = checked(OrderList, await api("/api/orders"), "order list");
    putOrders(orders);
    ordersListed.value = "yes";
    ordersError.value = null;
  } catch (e) {
    ordersError.value = (e as Error).message;
    if (ordersListed.value === "loading") ordersListed.value = "no";
  }
}

const fetching = new Set<string>();

async function fetchOrder(id: string): Promise<void> {
  if (fetching.has(id)) return;
  fetching.add(id);
  try {
    putOrder(checked(OrderOne, await api(`/api/orders/${id}`), "order").order);
  } catch {
    // The list read next time shows it.
  } finally {
    fetching.delete(id);
  }
}

/**
 * Reads again what the stream may have missed while it was not open: the list when it was
 * read, else each order not final yet.
 */
export function catchUpOrders(): void {
  if (ordersListed.value === "yes") {
    void loadOrders();
    return;
  }
  for (const o of knownOrders.value.values()) {
    if (!isFinal(o.state)) void fetchOrder(o.id);
  }
}

let holdingsTimer: ReturnType<typeof setTimeout> | undefined;
/** The holdings once more, shortly, for a burst of fills: a fill moves the position at once. */
function reloadHoldingsSoon(): void {
  clearTimeout(holdingsTimer);
  holdingsTimer = setTimeout(() => void loadHoldings(), 150);
}

/** Applies one stream `order` event. */
export function onOrderEvent(ev: OrderEvent): void {
  if (ev.order_id === null) return;
  const known = knownOrders.value.get(ev.order_id);
  // The position moved in the same transaction that recorded the fill, before this event.
  if (eventFilled(known, ev)) reloadHoldingsSoon();
  if (!known) {
    // Placed elsewhere (another tab, a script): read it whole.
    void fetchOrder(ev.order_id);
    return;
  }
  const next = applyOrderEvent(known, ev);
  if (next !== known) {
    const m = new Map(knownOrders.value);
    m.set(next.id, next);
    knownOrders.value = m;
  }
}

/** Asks the broker to cancel an order; the stream tells when it is canceled. */
export async function cancelOrder(id: string): Promise<void> {
  cancelling.value = new Set([...cancelling.value, id]);
  try {
    const { order } = checked(
      OrderOne,
      await api(`/api/orders/${id}`, { method: "DELETE" }),
      "cancel",
    );
    putOrder(order);
    toast("info", "Cancel requested. The order's status changes here once the broker confirms.");
  } catch (e) {
    toast("error", (e as Error).message);
    // It may have filled meanwhile (409): read it again.
    if (e instanceof ApiError && e.status === 409) void fetchOrder(id);
  } finally {
    const s = new Set(cancelling.value);
    s.delete(id);
    cancelling.value = s;
  }
}

/** The kill switches in force for this user (null until read). */
export const halts = signal<Halt[] | null>(null);
export const haltsError = signal<string | null>(null);

export async function loadHalts(): Promise<void> {
  try {
    halts.value = checked(HaltList, await api("/api/trading/halts"), "halts").halts;
    haltsError.value = null;
  } catch (e) {
    haltsError.value = (e as Error).message;
  }
}

/** Stops every new order of this user until resumed. */
export async function stopMyTrading(): Promise<void> {
  try {
    await api("/api/trading/halts", {
      method: "POST",
      body: { scope: "user", reason: "You stopped it on the Orders page." },
    });
  } catch (e) {
    // Already stopped (409): the list below says so.
    if (!(e instanceof ApiError && e.status === 409)) toast("error", (e as Error).message);
  }
  await loadHalts();
}

/** Releases one halt. */
export async function releaseHalt(id: string): Promise<void> {
  try {
    await api(`/api/trading/halts/${id}`, { method: "DELETE" });
  } catch (e) {
    toast("error", (e as Error).message);
  }
  await loadHalts();
}

/** Forgets everything (sign-out). */
export function resetTrading(): void {
  ticket.value = null;
  knownOrders.value = new Map();
  ordersListed.value = "no";
  ordersError.value = null;
  cancelling.value = new Set();
  halts.value = null;
}
