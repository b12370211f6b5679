/** Application state as signals, and the actions that change it. */
import { computed, signal } from "@preact/signals";
import {
  api,
  ApiError,
  type Connection,
  type Holdings,
  type Me,
  type PendingUpdates,
  type RefreshAnswer,
} from "./api.ts";
import { PROVIDER_NAMES } from "./format.ts";
import { type PortfolioValue, valueMoved, valueStep } from "./live_value.ts";
import {
  applySyncEvent,
  cooldownMessage,
  type Refreshing,
  startRefresh,
  type SyncEvent,
} from "./refresh_machine.ts";

export const me = signal<Me | null>(null);
export const authChecked = signal(false);
/** The last `GET /api/holdings` answer: what every re-pricing starts from. */
export const holdings = signal<Holdings | null>(null);
/**
 * What the dashboard shows: the server's view, or that view re-priced at the last value
 * applied to it (`value`), so the summary and every row come from one set of prices.
 */
export const shown = signal<{ view: Holdings; value: PortfolioValue | null } | null>(null);
export const holdingsError = signal<string | null>(null);
export const pending = signal<PendingUpdates | null>(null);
export const connections = signal<Connection[] | null>(null);
/** The last value received (applied or not): the market's state and the price counts. */
export const liveValue = signal<PortfolioValue | null>(null);
/** When (Date.now()) the last value that moved something arrived: what "Live" rests on. */
export const lastMoveAt = signal<number | null>(null);
/** Whether the event stream is open; the indicator also asks whether values arrive. */
export const streamState = signal<"connecting" | "open" | "reconnecting">("connecting");
/** The `seq` of the last value applied (-1: none); older and repeated values are dropped. */
let lastSeq = -1;
/** That value: a republished, unchanged one is not movement. */
let lastApplied: PortfolioValue | null = null;
/** A value that arrived before the holdings view (or in a newer currency than it). */
let waiting: PortfolioValue | null = null;
let currencyReload: ReturnType<typeof setTimeout> | undefined;
let lastCurrencyReload = 0;
/** The request ids of a refresh in flight. */
export const syncing = signal<Refreshing | null>(
  null,
);
export const syncNote = signal<string | null>(null);
export const refreshMessage = signal<string | null>(null);
/** Connections a sync is running for, as the stream reports it, with when it started. */
export const syncingConnections = signal<ReadonlyMap<string, number>>(new Map());
export const route = signal(location.pathname);

export interface Toast {
  id: number;
  kind: "success" | "error" | "info";
  text: string;
}
export const toasts = signal<Toast[]>([]);
let toastSeq = 0;
/** Shows a toast for a few seconds. */
export function toast(kind: Toast["kind"], text: string): void {
  const id = ++toastSeq;
  toasts.value = [...toasts.value, { id, kind, text }];
  setTimeout(() => dismissToast(id), kind === "error" ? 8000 : 5000);
}
export function dismissToast(id: number): void {
  toasts.value = toasts.value.filter((t) => t.id !== id);
}

export const hasPending = computed(() => pending.value?.has_pending_updates ?? false);

/** Client-side navigation. */
export function navigate(path: string): void {
  if (path !== location.pathname + location.search) history_.pushState(null, "", path);
  route.value = location.pathname;
  globalThis.scrollTo?.(0, 0);
  // Keyboard and screen-reader users land on the new page's content.
  queueMicrotask(() => document.getElementById("main")?.focus({ preventScroll: true }));
}
const history_ = globalThis.history;
globalThis.addEventListener("popstate", () => (route.value = location.pathname));

export async function loadMe(): Promise<void> {
  try {
    me.value = await api<Me>("/api/me", { quiet401: true });
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 401) throw e;
    me.value = null;
  } finally {
    authChecked.value = true;
  }
}

/** Holdings requests started, and the newest whose answer is shown. */
let loadsStarted = 0;
let loadShown = 0;

export async function loadHoldings(): Promise<void> {
  const load = ++loadsStarted;
  try {
    const view = await api<Holdings>("/api/holdings");
    // An older request answering late (say, from before a currency change) is out of date.
    if (load < loadShown) return;
    loadShown = load;
    holdings.value = view;
    holdingsError.value = null;
    shown.value = { view, value: null };
    // A value that came first applies now unless it is older than the view's own prices;
    // otherwise the next value re-prices it.
    const w = waiting;
    waiting = null;
    if (w) applyValue(w, false);
  } catch (e) {
    holdingsError.value = (e as Error).message;
  }
}

/** Applies one value event (or a snapshot's value): re-prices the server's view at its quotes. */
export function onValue(value: PortfolioValue): void {
  if (value.seq > (liveValue.value?.seq ?? -1)) liveValue.value = value;
  applyValue(value, true);
}

function applyValue(value: PortfolioValue, fresh: boolean): void {
  const step = valueStep(holdings.value, lastSeq, value, new Date());
  switch (step.kind) {
    case "old":
    case "older_than_view":
      return;
    case "no_view":
      waiting = value;
      return;
    case "currency":
      // The base currency changed (here or in another tab): the view is out of date. Once
      // per burst, since values keep coming until the view is read again.
      if (!fresh) return;
      waiting = value;
      if (currencyReload === undefined) {
        // At most every 5 s: valuation may take a moment to publish in a new currency.
        const delay = Math.max(250, lastCurrencyReload + 5_000 - Date.now());
        currencyReload = setTimeout(() => {
          currencyReload = undefined;
          lastCurrencyReload = Date.now();
          void loadHoldings();
        }, delay);
      }
      return;
    case "apply": {
      // "Live" means moving values on screen: one that is not shown does not count.
      const before = lastApplied;
      lastSeq = value.seq;
      lastApplied = value;
      shown.value = { view: step.view, value };
      if (valueMoved(before, value)) lastMoveAt.value = Date.now();
    }
  }
}

/** Changes the base currency, then reads the holdings in it. */
export async function changeBaseCurrency(currency: string): Promise<void> {
  me.value = await api<Me>("/api/me", { method: "PATCH", body: { base_currency: currency } });
  await loadHoldings();
}

export async function loadPending(): Promise<void> {
  pending.value = await api<PendingUpdates>("/api/pending-updates");
}

export async function loadConnections(): Promise<void> {
  connections.value = (await api<{ connections: Connection[] }>("/api/connections")).connections;
}

let connectionsTimer: ReturnType<typeof setTimeout> | undefined;
/** Connections whose sync ended, shown as syncing until their new state is read. */
const syncEnded = new Set<string>();

function setSyncing(update: (m: Map<string, number>) => void): void {
  const next = new Map(syncingConnections.value);
  update(next);
  syncingConnections.value = next;
}

/**
 * Reads the connections again shortly, once for a burst of stream events, when they have
 * been loaded (the connections page is or was open): their last sync and status change
 * with every sync, and nobody should have to reload the page to see it.
 */
export function reloadConnectionsSoon(): void {
  clearTimeout(connectionsTimer);
  connectionsTimer = setTimeout(async () => {
    const ended = [...syncEnded];
    syncEnded.clear();
    if (connections.value !== null) await loadConnections().catch(() => {});
    // Only now, so "Syncing…" turns into the new "Last synced", never the old one first.
    setSyncing((m) => ended.forEach((id) => m.delete(id)));
  }, 250);
}

const SYNC_FINAL = new Set(["succeeded", "failed", "skipped"]);

/** Keeps `syncingConnections` in step with one sync progress event. */
function trackConnectionSync(p: SyncEvent): void {
  if (SYNC_FINAL.has(p.phase)) {
    syncEnded.add(p.connection_id);
    reloadConnectionsSoon();
  } else {
    syncEnded.delete(p.connection_id);
    setSyncing((m) => m.set(p.connection_id, Date.now()));
  }
}

/** Everything the dashboard shows, fetched again. */
export async function reloadAll(): Promise<void> {
  await Promise.all([loadHoldings(), loadPending(), loadMe()]);
}

let syncTimer: ReturnType<typeof setTimeout> | undefined;
let waitTimer: ReturnType<typeof setInterval> | undefined;

/** Finishes a refresh: fresh data, and a word on how it went. */
async function finishSync(failed: string[]): Promise<void> {
  clearTimeout(syncTimer);
  syncing.value = null;
  syncNote.value = null;
  await Promise.all([loadHoldings(), loadPending()]);
  if (failed.length) toast("error", `Refresh finished with problems: ${failed.join("; ")}`);
  else toast("success", "Holdings updated");
}

/** Asks for a refresh of what is flagged or stale. */
export async function refresh(): Promise<void> {
  if (syncing.value) return;
  refreshMessage.value = null;
  try {
    const answer = await api<RefreshAnswer>("/api/holdings/refresh", { method: "POST", body: {} });
    if (answer.status === "up_to_date") {
      toast("info", "Everything is already up to date.");
      await Promise.all([loadHoldings(), loadPending()]);
      return;
    }
    const ids = answer.connections.map((c) => c.connection_id);
    syncing.value = startRefresh(answer.request_ids, ids, Date.now());
    syncNote.value = `Syncing ${ids.length} connection${ids.length === 1 ? "" : "s"}…`;
    // If progress events never arrive (stream down), still finish after a while.
    syncTimer = setTimeout(() => finishSync([]), 90_000);
    // A fast sync may have reported before this answer arrived.
    const mine = new Set(answer.request_ids);
    for (const e of recentSync.filter((e) => mine.has(e.request_id))) onSyncProgress(e, true);
  } catch (e) {
    if (e instanceof ApiError && e.status === 429) {
      // Counts down, so the person sees when a refresh will be accepted.
      const until = Date.now() + (e.retryAfterS ?? 60) * 1000;
      clearInterval(waitTimer);
      const show = () => {
        refreshMessage.value = cooldownMessage((until - Date.now()) / 1000);
        if (refreshMessage.value === null) clearInterval(waitTimer);
      };
      show();
      waitTimer = setInterval(show, 1000);
    } else {
      toast("error", (e as Error).message);
    }
  }
}

/** Recent sync events, kept in case they arrive before the refresh request's answer. */
const recentSync: SyncEvent[] = [];

/** Applies one sync progress event. */
export function onSyncProgress(p: SyncEvent, replay = false): void {
  if (!replay) {
    recentSync.push(p);
    if (recentSync.length > 100) recentSync.shift();
    trackConnectionSync(p);
  }
  const step = applySyncEvent(syncing.value, p, (key) => PROVIDER_NAMES[key] ?? key);
  if (step.kind === "foreign") {
    if (step.reload) void Promise.all([loadHoldings(), loadPending()]);
  } else if (step.kind === "done") {
    void finishSync(step.failures);
  } else {
    syncing.value = step.state;
    if (step.note) syncNote.value = step.note;
  }
}

/** Signs out everywhere in this browser. */
export async function signOut(): Promise<void> {
  await api("/api/auth/logout", { method: "POST" }).catch(() => {});
  me.value = null;
  holdings.value = null;
  shown.value = null;
  liveValue.value = null;
  lastMoveAt.value = null;
  lastSeq = -1;
  lastApplied = null;
  waiting = null;
  pending.value = null;
  connections.value = null;
  syncingConnections.value = new Map();
  navigate("/login");
}
