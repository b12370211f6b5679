/**
 * The orders page: a symbol search that opens the trade ticket, the kill switch ("Stop all my
 * trading"), and every order with its status as the stream reports it, Cancel on those not
 * final yet.
 * @module
 */
import { useEffect } from "preact/hooks";
import { accountLabels, labelOf } from "./accounts.ts";
import { ProviderBadge } from "./badges.tsx";
import { formatMoney } from "./format.ts";
import type { Halt, Order } from "./order_schema.ts";
import {
  actionText,
  fillText,
  isFinal,
  STATE_LABELS,
  stateTone,
  TIF_LABELS,
  typeText,
} from "./orders.ts";
import { holdings, me } from "./state.ts";
import { SymbolSearch } from "./symbol_search.tsx";
import {
  cancelling,
  cancelOrder,
  halts,
  haltsError,
  loadHalts,
  loadOrders,
  orderList,
  ordersError,
  ordersListed,
  releaseHalt,
  stopMyTrading,
} from "./trading.ts";

const when = (iso: string) =>
  new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });

function OrderItem({ o, account }: { o: Order; account: string }) {
  const fill = fillText(o);
  const asked = cancelling.value.has(o.id);
  const what = actionText(o, o.currency);
  return (
    <li class="order" data-order-id={o.id} data-state={o.state} data-symbol={o.symbol}>
      <div class="order-main">
        <p class="order-what">
          <span class={`side side-${o.side}`}>{what}</span>{" "}
          <span class="muted">{typeText(o, o.currency)} · {TIF_LABELS[o.time_in_force]}</span>
        </p>
        <p class="muted small">
          <ProviderBadge provider={o.provider} /> {account && `${account} · `}
          <time dateTime={o.created_at}>{when(o.created_at)}</time>
          {o.estimated_amount !== null && !fill && (
            <>{` · estimated ${formatMoney(o.estimated_amount, o.currency ?? "USD")}`}</>
          )}
        </p>
        {o.reason && !["filled", "accepted", "partially_filled"].includes(o.state) && (
          <p class="small warn-text">{o.reason}</p>
        )}
      </div>
      <div class="order-side">
        <span
          class={`state state-${stateTone(o.state)}`}
          data-testid="order-state"
          aria-live="polite"
        >
          {STATE_LABELS[o.state]}
        </span>
        {fill && <span class="small muted">{fill}</span>}
        {!isFinal(o.state) && (
          <button
            type="button"
            class="btn btn-secondary btn-small"
            disabled={asked}
            aria-label={`Cancel order: ${what}`}
            onClick={() => void cancelOrder(o.id)}
          >
            {asked ? "Canceling…" : "Cancel"}
          </button>
        )}
      </div>
    </li>
  );
}

function haltText(h: Halt, label: (id: string) => string): string {
  if (h.scope === "global") return `Trading is stopped on this server for everyone: ${h.reason}`;
  if (h.scope === "account" && h.account_id) {
    return `Trading in ${label(h.account_id)} is stopped: ${h.reason}`;
  }
  return `Your trading is stopped, in every account, until you resume it. ${h.reason}`;
}

/** The kill switch: every new order refused until resumed; orders already sent go on. */
function KillSwitch({ label }: { label: (id: string) => string }) {
  const list = halts.value;
  const owner = me.value?.user.role === "owner";
  const mine = list?.find((h) => h.scope === "user");
  return (
    <section class="card" aria-labelledby="halt-title" data-testid="kill-switch">
      <div class="card-head">
        <h2 id="halt-title">Stop trading</h2>
        {list && !mine && (
          <button
            type="button"
            class="btn btn-danger btn-small"
            onClick={() => void stopMyTrading()}
          >
            Stop all my trading
          </button>
        )}
      </div>
      {haltsError.value && <p class="form-error">{haltsError.value}</p>}
      {list && list.length === 0 && (
        <p class="muted small">
          Stopping refuses every new order of yours at once, in every account, until you resume.
          Orders already sent are not canceled by it: cancel those in the list above.
        </p>
      )}
      {list && list.length > 0 && (
        <ul class="halts">
          {list.map((h) => (
            <li key={h.id} class="banner banner-warn" role="status">
              <span>{haltText(h, label)}</span>
              {(h.scope !== "global" || owner) && (
                <button
                  type="button"
                  class="btn btn-secondary btn-small"
                  onClick={() => void releaseHalt(h.id)}
                >
                  Resume trading
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

export function OrdersPage() {
  useEffect(() => {
    void loadOrders();
    void loadHalts();
  }, []);
  const h = holdings.value;
  const labels = accountLabels(h?.accounts ?? []);
  // Before the holdings load, no account is named rather than one called gone.
  const label = (id: string) => h ? labelOf(labels, id) : "";
  const orders = orderList.value;
  return (
    <>
      <div class="page-head">
        <h1>Orders</h1>
      </div>
      <section class="card" aria-labelledby="new-order-title">
        <h2 id="new-order-title">New order</h2>
        <p class="muted small">
          Buy or sell from a holding's row on the Dashboard, or find a symbol here.
        </p>
        <SymbolSearch />
      </section>
      <section class="card" aria-labelledby="orders-title">
        <div class="card-head">
          <h2 id="orders-title">Your orders</h2>
        </div>
        {ordersError.value && (
          <p class="form-error" role="alert">Orders could not be loaded: {ordersError.value}</p>
        )}
        {ordersListed.value !== "yes" && !ordersError.value && (
          <p class="muted" role="status">
            <span class="spinner" aria-hidden="true" /> Loading your orders…
          </p>
        )}
        {ordersListed.value === "yes" && orders.length === 0 && <p class="muted">No orders yet.</p>}
        {ordersListed.value === "yes" && orders.length > 0 && (
          <ul class="orders" data-testid="orders">
            {orders.map((o) => <OrderItem key={o.id} o={o} account={label(o.account_id)} />)}
          </ul>
        )}
      </section>
      <KillSwitch label={label} />
    </>
  );
}
