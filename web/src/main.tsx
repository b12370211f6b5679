/** Meridian's dashboard: routes, the app shell, the live stream and toasts. */
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { setUnauthorizedHandler } from "./api.ts";
import { AuthPage } from "./auth.tsx";
import { ConnectionsPage } from "./connections.tsx";
import { Dashboard } from "./dashboard.tsx";
import { IncomePage } from "./income_page.tsx";
import { connectStream, disconnectStream } from "./live.ts";
import { indicator } from "./live_value.ts";
import { OrdersPage } from "./orders_page.tsx";
import { TradeTicket } from "./trade_ticket.tsx";
import { TransactionsPage } from "./transactions_page.tsx";
import { resetTrading } from "./trading.ts";
import {
  authChecked,
  dismissToast,
  lastMoveAt,
  liveValue,
  loadMe,
  me,
  navigate,
  reloadAll,
  route,
  signOut,
  streamState,
  toast,
  toasts,
} from "./state.ts";

setUnauthorizedHandler(() => {
  if (me.value) {
    me.value = null;
    disconnectStream();
    toast("info", "Your session ended. Please sign in again.");
    navigate("/login");
  }
});

function NavLink({ href, children }: { href: string; children: preact.ComponentChildren }) {
  const current = route.value === href;
  return (
    <a
      href={href}
      aria-current={current ? "page" : undefined}
      onClick={(e) => {
        e.preventDefault();
        navigate(href);
      }}
    >
      {children}
    </a>
  );
}

/**
 * The header's stream state, honest: "Live" only while values that move arrive (see
 * `indicator`); it re-renders by itself when that window ends.
 */
function StreamIndicator() {
  const [now, setNow] = useState(Date.now());
  const ind = indicator(
    streamState.value,
    lastMoveAt.value,
    liveValue.value?.prices.market ?? null,
    now,
  );
  useEffect(() => {
    if (ind.until === null) return;
    const t = setTimeout(() => setNow(Date.now()), Math.max(0, ind.until - Date.now()));
    return () => clearTimeout(t);
  }, [ind.until]);
  return (
    <span
      class={`live live-${ind.state}`}
      role="status"
      aria-live="polite"
      data-testid="stream-state"
      title={ind.state === "idle"
        ? "The stream is open; no price has moved in the last few seconds."
        : undefined}
    >
      <span class="live-dot" aria-hidden="true" />
      {ind.label}
    </span>
  );
}

function Toasts() {
  return (
    <div class="toasts" aria-live="polite" aria-atomic="false">
      {toasts.value.map((t) => (
        <div
          key={t.id}
          class={`toast toast-${t.kind}`}
          role={t.kind === "error" ? "alert" : "status"}
        >
          <span>{t.text}</span>
          <button
            type="button"
            class="toast-close"
            aria-label="Dismiss"
            onClick={() => dismissToast(t.id)}
          >
            ×
          </button>
        </div>
      ))}
    </div>
  );
}

function Shell() {
  const user = me.value!;
  useEffect(() => {
    connectStream();
    void reloadAll();
    const params = new URLSearchParams(location.search);
    if (params.get("connected")) {
      toast("success", "Brokerage connected. Your holdings are being fetched.");
      history.replaceState(null, "", location.pathname);
    }
    return () => {
      disconnectStream();
      resetTrading();
    };
  }, []);
  const page = route.value === "/connections"
    ? <ConnectionsPage />
    : route.value === "/orders"
    ? <OrdersPage />
    : route.value === "/transactions"
    ? <TransactionsPage />
    : route.value === "/income"
    ? <IncomePage />
    : <Dashboard />;
  const modeLabel: Record<string, string> = {
    brokerage: "Brokerage mode",
    aggregation: "Aggregation mode",
    hybrid: "Hybrid mode",
    none: "",
  };
  return (
    <>
      <a class="skip" href="#main">Skip to content</a>
      <header class="topbar">
        <div class="topbar-inner">
          <a
            class="brand"
            href="/"
            onClick={(e) => {
              e.preventDefault();
              navigate("/");
            }}
          >
            <span class="logo" aria-hidden="true">M</span> Meridian
          </a>
          <nav aria-label="Main">
            <NavLink href="/">Dashboard</NavLink>
            <NavLink href="/transactions">Transactions</NavLink>
            <NavLink href="/income">Income</NavLink>
            <NavLink href="/orders">Orders</NavLink>
            <NavLink href="/connections">Connections</NavLink>
          </nav>
          <div class="topbar-right">
            <StreamIndicator />
            {modeLabel[user.portfolio_mode] && (
              <span class="mode">{modeLabel[user.portfolio_mode]}</span>
            )}
            <span class="user" title={user.user.email}>{user.user.email}</span>
            <button type="button" class="btn btn-ghost btn-small" onClick={() => void signOut()}>
              Sign out
            </button>
          </div>
        </div>
      </header>
      <main id="main" class="content" tabIndex={-1}>{page}</main>
      <TradeTicket />
      <Toasts />
    </>
  );
}

function App() {
  useEffect(() => {
    void loadMe();
  }, []);
  if (!authChecked.value) {
    return (
      <div class="loading" role="status">
        <span class="spinner" aria-hidden="true" /> Loading…
      </div>
    );
  }
  const path = route.value;
  if (!me.value) {
    if (path !== "/login" && path !== "/signup") {
      queueMicrotask(() => navigate("/login"));
    }
    return (
      <>
        <AuthPage mode={path === "/signup" ? "signup" : "login"} />
        <Toasts />
      </>
    );
  }
  if (path === "/login" || path === "/signup") queueMicrotask(() => navigate("/"));
  return <Shell />;
}

render(<App />, document.getElementById("app")!);
