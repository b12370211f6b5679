/**
 * The live stream: one EventSource per browser tab, reconnected when it drops, resuming
 * from the last event id it saw.
 */
import { parseValue } from "./live_value.ts";
import { parseOrderEvent } from "./order_schema.ts";
import {
  loadHoldings,
  loadPending,
  onSyncProgress,
  onValue,
  pending,
  reloadConnectionsSoon,
  streamState,
} from "./state.ts";
import { catchUpOrders, onOrderEvent } from "./trading.ts";

let source: EventSource | null = null;
let lastId: string | null = null;
let retryTimer: ReturnType<typeof setTimeout> | undefined;
let attempts = 0;

/** Opens the stream (idempotent). */
export function connectStream(): void {
  if (source) return;
  clearTimeout(retryTimer);
  const url = lastId ? `/api/stream?last_event_id=${encodeURIComponent(lastId)}` : "/api/stream";
  const es = new EventSource(url, { withCredentials: true });
  source = es;
  streamState.value = attempts === 0 ? "connecting" : "reconnecting";
  es.onopen = () => {
    attempts = 0;
    streamState.value = "open";
    // Whatever happened while the stream was not open is read once from the database.
    void loadHoldings();
    void loadPending();
    reloadConnectionsSoon();
    catchUpOrders();
  };
  es.onerror = () => {
    streamState.value = "reconnecting";
    if (es.readyState === EventSource.CLOSED) {
      // The browser gave up (server gone, 401, dropped as too slow): retry with back-off.
      source = null;
      attempts++;
      retryTimer = setTimeout(connectStream, Math.min(30_000, 1000 * 2 ** Math.min(attempts, 5)));
    }
  };
  const track = (ev: MessageEvent) => {
    if (ev.lastEventId) lastId = ev.lastEventId;
  };
  es.addEventListener("pending", (ev) => {
    track(ev as MessageEvent);
    // The same view as GET /api/pending-updates.
    pending.value = JSON.parse((ev as MessageEvent<string>).data);
    // A webhook flags a connection (or marks it broken): the connections page shows it.
    reloadConnectionsSoon();
  });
  es.addEventListener("sync", (ev) => {
    track(ev as MessageEvent);
    onSyncProgress(JSON.parse((ev as MessageEvent<string>).data));
  });
  es.addEventListener("value", (ev) => {
    track(ev as MessageEvent);
    // The api forwards valuation's text as published: checked here, where it enters.
    const v = parseValue((ev as MessageEvent<string>).data);
    if (v) onValue(v);
    else console.warn("a value event that is not a PortfolioValue was ignored");
  });
  es.addEventListener("order", (ev) => {
    track(ev as MessageEvent);
    // An order's status changed (or it filled): the orders page and an open ticket show it.
    const o = parseOrderEvent((ev as MessageEvent<string>).data);
    if (o) onOrderEvent(o);
    else console.warn("an order event that is not an OrderEvent was ignored");
  });
  es.addEventListener("snapshot", (ev) => {
    track(ev as MessageEvent);
    const data = JSON.parse((ev as MessageEvent<string>).data);
    if (data.pending) pending.value = data.pending;
    catchUpOrders();
    // Holdings first: the snapshot's value then re-prices the fresh view if it is newer.
    const v = data.value ? parseValue(data.value) : null;
    void loadHoldings().then(() => {
      if (v) onValue(v);
    });
  });
}

/** Closes the stream (sign-out). */
export function disconnectStream(): void {
  clearTimeout(retryTimer);
  source?.close();
  source = null;
  lastId = null;
  attempts = 0;
}

// Back online or back to the tab: reconnect at once instead of waiting out the back-off.
globalThis.addEventListener("online", () => {
  if (!source) connectStream();
});
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible" && !source && streamState.value !== "open") {
    connectStream();
  }
});
