/** Connections: connect SnapTrade, Plaid and Alpaca; status, reconnect and removal. */
import { useEffect, useRef, useState } from "preact/hooks";
import { type Account, api, type Connection } from "./api.ts";
import { type AccountLabel, accountLabels, labelOf } from "./accounts.ts";
import { ProviderBadge } from "./badges.tsx";
import { PROVIDER_NAMES, REPAIRED_WITH_KEYS, timeAgo } from "./format.ts";
import { useNow } from "./hooks.ts";
import {
  connections,
  holdings,
  loadConnections,
  loadHoldings,
  loadMe,
  loadPending,
  me,
  syncingConnections,
  toast,
} from "./state.ts";

/** A sync the stream said started but never said ended is not shown as running for ever. */
const SYNC_SHOWN_MS = 120_000;

/** The connection's accounts, each named so that two of one provider read apart. */
function ConnectionAccounts(
  { accounts, labels }: { accounts: Account[]; labels: ReadonlyMap<string, AccountLabel> },
) {
  if (accounts.length === 0) return null;
  return (
    <ul class="conn-accounts" aria-label="Accounts">
      {accounts.map((a) => <li key={a.id}>{labelOf(labels, a.id, "short")}</li>)}
    </ul>
  );
}

/** Status, last sync and what the stream says about this connection now. */
function ConnectionMeta({ c, now }: { c: Connection; now: number }) {
  const started = syncingConnections.value.get(c.id);
  const running = started !== undefined && now - started < SYNC_SHOWN_MS;
  return (
    <div class="muted small" data-testid="connection-meta">
      {c.access === "trade" ? "Read and trade" : "Read only"} · {c.accounts}{" "}
      account{c.accounts === 1 ? "" : "s"} · {running
        ? (
          <span class="syncing">
            <span class="spinner" aria-hidden="true" /> Syncing…
          </span>
        )
        : (
          <>
            Last synced{" "}
            <time dateTime={c.last_synced_at ?? undefined} data-testid="last-synced">
              {timeAgo(c.last_synced_at, now)}
            </time>
          </>
        )}
      {c.has_pending_updates && !running && <span class="dot-amber">· updates available</span>}
    </div>
  );
}

function StatusPill({ c }: { c: Connection }) {
  if (c.status === "active") return <span class="pill pill-ok">Connected</span>;
  if (c.status === "error") return <span class="pill pill-error">Needs reconnecting</span>;
  return <span class="pill pill-muted">Disabled</span>;
}

function ConfirmRemove(
  { c, onCancel, onConfirm }: { c: Connection; onCancel: () => void; onConfirm: () => void },
) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
    return () => d?.open && d.close();
  }, []);
  return (
    <dialog ref={ref} class="dialog" aria-labelledby="remove-title" onCancel={onCancel}>
      <h2 id="remove-title">Remove {c.institution}?</h2>
      <p>
        Meridian will stop syncing this {PROVIDER_NAMES[c.provider]} connection and delete its{" "}
        {c.accounts}{" "}
        account{c.accounts === 1 ? "" : "s"}, holdings and transactions from this server. You can
        connect it again later.
      </p>
      <div class="dialog-actions">
        <button type="button" class="btn btn-secondary" onClick={onCancel} autofocus>
          Cancel
        </button>
        <button type="button" class="btn btn-danger" onClick={onConfirm}>
          Remove connection
        </button>
      </div>
    </dialog>
  );
}

function AlpacaForm(
  { onDone, reconnectId }: { onDone: () => void; reconnectId?: string },
) {
  const prefix = reconnectId ? `re-${reconnectId.slice(0, 8)}-` : "";
  const [keyId, setKeyId] = useState("");
  const [secret, setSecret] = useState("");
  const [paper, setPaper] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      if (reconnectId) {
        await api(`/api/connections/${reconnectId}/reconnect`, {
          method: "POST",
          body: { key_id: keyId.trim(), secret_key: secret.trim(), paper },
        });
      } else {
        await api("/api/connections/alpaca", {
          method: "POST",
          body: { key_id: keyId.trim(), secret_key: secret.trim(), paper },
        });
      }
      setKeyId("");
      setSecret("");
      toast(
        "success",
        reconnectId ? "Alpaca reconnected." : "Alpaca connected. Fetching your holdings…",
      );
      onDone();
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="alpaca-form" onSubmit={submit}>
      <label for={`${prefix}alpaca-key`}>API key ID</label>
      <input
        id={`${prefix}alpaca-key`}
        autocomplete="off"
        spellcheck={false}
        required
        value={keyId}
        onInput={(e) => setKeyId((e.target as HTMLInputElement).value)}
      />
      <label for={`${prefix}alpaca-secret`}>Secret key</label>
      <input
        id={`${prefix}alpaca-secret`}
        type="password"
        autocomplete="off"
        required
        value={secret}
        onInput={(e) => setSecret((e.target as HTMLInputElement).value)}
      />
      <label class="check">
        <input
          type="checkbox"
          checked={paper}
          onChange={(e) => setPaper((e.target as HTMLInputElement).checked)}
        />
        Paper trading account
      </label>
      {error && <p class="form-error" role="alert">{error}</p>}
      <button type="submit" class="btn btn-primary" disabled={busy}>
        {busy && <span class="spinner" aria-hidden="true" />}{" "}
        {reconnectId ? "Save new keys" : "Connect Alpaca"}
      </button>
      <p class="hint">The keys are checked with one account call, then stored encrypted.</p>
    </form>
  );
}

export function ConnectionsPage() {
  const [busy, setBusy] = useState<string | null>(null);
  const [removing, setRemoving] = useState<Connection | null>(null);
  const params = new URLSearchParams(location.search);
  const [error, setError] = useState<string | null>(params.get("error"));

  useEffect(() => {
    void loadConnections().catch((e) => setError((e as Error).message));
  }, []);

  const go = async (key: string, fn: () => Promise<string | null>) => {
    setBusy(key);
    setError(null);
    try {
      const url = await fn();
      if (url) location.assign(url);
      else setBusy(null);
    } catch (e) {
      setError((e as Error).message);
      setBusy(null);
    }
  };
  const snaptrade = (access: "read" | "trade") =>
    go(
      `snaptrade-${access}`,
      async () =>
        (await api<{ url: string }>("/api/connections/snaptrade/portal", {
          method: "POST",
          body: { access },
        })).url,
    );
  const plaid = () =>
    go("plaid", async () => {
      const t = await api<{ hosted_link_url: string | null }>("/api/connections/plaid/link-token", {
        method: "POST",
        body: {},
      });
      if (!t.hosted_link_url) throw new Error("Plaid did not return a Link address. Try again.");
      return t.hosted_link_url;
    });
  const [alpacaFix, setAlpacaFix] = useState<string | null>(null);
  const reconnect = (c: Connection) =>
    REPAIRED_WITH_KEYS.has(c.provider)
      ? setAlpacaFix(alpacaFix === c.id ? null : c.id)
      : go(`reconnect-${c.id}`, async () => {
        const r = await api<{ url: string | null }>(`/api/connections/${c.id}/reconnect`, {
          method: "POST",
          body: {},
        });
        return r.url;
      });
  const remove = async (c: Connection) => {
    setRemoving(null);
    setBusy(`remove-${c.id}`);
    try {
      await api(`/api/connections/${c.id}`, { method: "DELETE" });
      toast("success", `${c.institution} removed`);
      await Promise.all([loadConnections(), loadHoldings(), loadPending(), loadMe()]);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(null);
    }
  };
  const refreshAll = () => Promise.all([loadConnections(), loadHoldings(), loadMe()]);

  const list = connections.value;
  const accounts = holdings.value?.accounts ?? [];
  const labels = accountLabels(accounts);
  // Renders again every 15 s so "Last synced" and a forgotten "Syncing…" stay true.
  const now = useNow(15_000);
  const tradingOffered = me.value?.features.snaptrade_trading ?? true;
  return (
    <>
      <div class="page-head">
        <h1>Connections</h1>
      </div>
      {error && <div class="banner banner-error" role="alert">{error}</div>}
      <section class="card" aria-labelledby="your-connections">
        <h2 id="your-connections">Your connections</h2>
        {list === null
          ? (
            <p role="status">
              <span class="spinner" aria-hidden="true" /> Loading…
            </p>
          )
          : list.length === 0
          ? <p class="muted">Nothing connected yet. Choose a way to connect below.</p>
          : (
            <ul class="conn-list">
              {list.map((c) => (
                <li key={c.id} class="conn" data-connection={c.id}>
                  <div class="conn-main">
                    <ProviderBadge provider={c.provider} />
                    <div>
                      <div class="strong">{c.institution}</div>
                      <ConnectionMeta c={c} now={now} />
                      <ConnectionAccounts
                        accounts={accounts.filter((a) => a.connection_id === c.id)}
                        labels={labels}
                      />
                      {c.status !== "active" && c.status_reason && (
                        <div class="small warn-text">{c.status_reason}</div>
                      )}
                      {c.warning && <div class="small warn-text">{c.warning}</div>}
                    </div>
                  </div>
                  <div class="conn-actions">
                    <StatusPill c={c} />
                    {c.status !== "active" && (
                      <button
                        type="button"
                        class="btn btn-primary btn-small"
                        disabled={busy !== null}
                        onClick={() => reconnect(c)}
                      >
                        {busy === `reconnect-${c.id}` && (
                          <span class="spinner" aria-hidden="true" />
                        )}
                        Reconnect<span class="sr-only">{` ${c.institution}`}</span>
                      </button>
                    )}
                    <button
                      type="button"
                      class="btn btn-ghost btn-small"
                      disabled={busy !== null}
                      onClick={() => setRemoving(c)}
                    >
                      Remove<span class="sr-only">{` ${c.institution}`}</span>
                    </button>
                  </div>
                  {alpacaFix === c.id && (
                    <div class="conn-fix">
                      <p class="small">Enter new API keys for this Alpaca account.</p>
                      <AlpacaForm
                        reconnectId={c.id}
                        onDone={() => {
                          setAlpacaFix(null);
                          void refreshAll();
                        }}
                      />
                    </div>
                  )}
                </li>
              ))}
            </ul>
          )}
      </section>
      <section class="connect-grid" aria-label="Add a connection">
        <div class="card connect-card">
          <h2>
            <ProviderBadge provider="snaptrade" /> Brokerage via SnapTrade
          </h2>
          <p class="muted">
            Schwab, Fidelity, Robinhood, Interactive Brokers and many more.
            {tradingOffered ? " Choose read-only, or allow trading." : " Read-only."}
          </p>
          <div class="row">
            <button
              type="button"
              class="btn btn-primary"
              disabled={busy !== null}
              onClick={() => snaptrade("read")}
            >
              {busy === "snaptrade-read" && <span class="spinner" aria-hidden="true" />}{" "}
              Connect read-only
            </button>
            {tradingOffered && (
              <button
                type="button"
                class="btn btn-secondary"
                disabled={busy !== null}
                onClick={() => snaptrade("trade")}
              >
                {busy === "snaptrade-trade" && <span class="spinner" aria-hidden="true" />}{" "}
                Connect with trading
              </button>
            )}
          </div>
        </div>
        <div class="card connect-card">
          <h2>
            <ProviderBadge provider="plaid" /> Investment accounts via Plaid
          </h2>
          <p class="muted">Retirement plans, banks and brokerages Plaid supports. Read-only.</p>
          <button type="button" class="btn btn-primary" disabled={busy !== null} onClick={plaid}>
            {busy === "plaid" && <span class="spinner" aria-hidden="true" />} Connect with Plaid
          </button>
        </div>
        <div class="card connect-card">
          <h2>
            <ProviderBadge provider="alpaca" /> Alpaca API keys
          </h2>
          <AlpacaForm onDone={() => void refreshAll()} />
        </div>
      </section>
      {removing && (
        <ConfirmRemove
          c={removing}
          onCancel={() => setRemoving(null)}
          onConfirm={() => void remove(removing)}
        />
      )}
    </>
  );
}
