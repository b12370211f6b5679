/**
 * The trade ticket: a dialog opened from a holding's Buy or Sell, or from the symbol search.
 * Three steps: the order (account among those that can take it, side, size, type, prices, time
 * in force), its confirmation (everything the preview priced, the risk line, the preview's
 * time left), and the order as sent, its status live from the stream.
 * @module
 */
import { useEffect, useId, useRef, useState } from "preact/hooks";
import { api, ApiError, type IneligibleAccount } from "./api.ts";
import { ProviderBadge } from "./badges.tsx";
import { formatMoney, formatQuantity, PROVIDER_NAMES } from "./format.ts";
import {
  checked,
  type EligibleAccount,
  type Order,
  OrderAccounts,
  OrderOne,
  type OrderType,
  Preview,
  type Side,
  type TimeInForce,
} from "./order_schema.ts";
import {
  actionText,
  fillText,
  isFinal,
  SIDE_WORDS,
  STATE_LABELS,
  stateTone,
  TIF_LABELS,
  TYPE_LABELS,
  typeText,
} from "./orders.ts";
import {
  amountLabel,
  expiry,
  needsLimit,
  needsStop,
  newIdempotencyKey,
  normalise,
  previewBody,
  priceLabel,
  type TicketField,
  type TicketForm,
  TYPE_HINTS,
} from "./ticket.ts";
import { accountLabels } from "./accounts.ts";
import { holdings, navigate } from "./state.ts";
import { closeTicket, knownOrders, putOrder, ticket, type TicketRequest } from "./trading.ts";

/**
 * A refusal as the ticket shows it: the api's sentence and, when it named them, why each
 * account could not take the order.
 */
interface Refusal {
  text: string;
  ineligible: readonly IneligibleAccount[];
}

function refusalOf(e: unknown): Refusal {
  if (e instanceof ApiError) return { text: e.message, ineligible: e.ineligible };
  return { text: (e as Error).message || "Something went wrong. Try again.", ineligible: [] };
}

function RefusalBox({ r, testId }: { r: Refusal | null; testId: string }) {
  if (!r) return null;
  return (
    <div class="form-error" role="alert" data-testid={testId}>
      <p>{r.text}</p>
      {r.ineligible.length > 0 && (
        <ul class="reasons">
          {r.ineligible.map((i) => <li key={i.account_id}>{i.reason}</li>)}
        </ul>
      )}
    </div>
  );
}

/** The ticket of `req`, modal; closing it (Escape, Cancel, Done) forgets it. */
export function TradeTicket() {
  const req = ticket.value;
  if (!req) return null;
  return <TicketDialog key={req.seq} req={req} />;
}

type Step =
  | { kind: "form" }
  | { kind: "confirm"; preview: Preview; key: string }
  | { kind: "sent"; order: Order; preview: Preview };

function TicketDialog({ req }: { req: TicketRequest }) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const [form, setForm] = useState<TicketForm>({
    symbol: req.symbol,
    side: req.side,
    accountId: null,
    sizeBy: "quantity",
    quantity: "",
    notional: "",
    type: "market",
    limitPrice: "",
    stopPrice: "",
    timeInForce: "day",
  });
  const [step, setStep] = useState<Step>({ kind: "form" });
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
    return () => d?.open && d.close();
  }, []);
  return (
    <dialog
      ref={ref}
      class="dialog ticket"
      aria-labelledby={titleId}
      data-testid="trade-ticket"
      onCancel={(e) => {
        e.preventDefault();
        closeTicket();
      }}
    >
      {step.kind === "form" && (
        <TicketStep
          req={req}
          titleId={titleId}
          form={form}
          setForm={setForm}
          onPreview={(preview) => setStep({ kind: "confirm", preview, key: newIdempotencyKey() })}
        />
      )}
      {step.kind === "confirm" && (
        <ConfirmStep
          key={step.preview.preview_id}
          titleId={titleId}
          preview={step.preview}
          idempotencyKey={step.key}
          form={form}
          onBack={() => setStep({ kind: "form" })}
          onPreviewAgain={(preview) =>
            setStep({ kind: "confirm", preview, key: newIdempotencyKey() })}
          onSent={(order) => setStep({ kind: "sent", order, preview: step.preview })}
        />
      )}
      {step.kind === "sent" && (
        <SentStep titleId={titleId} order={step.order} preview={step.preview} />
      )}
    </dialog>
  );
}

/** The eligible accounts for the ticket's symbol and side, and why the others are not. */
function useAccounts(symbol: string, side: Side) {
  const [state, setState] = useState<
    | { kind: "loading" }
    | { kind: "ready"; eligible: EligibleAccount[]; ineligible: IneligibleAccount[] }
    | { kind: "error"; text: string }
  >({ kind: "loading" });
  useEffect(() => {
    let live = true;
    setState({ kind: "loading" });
    const q = new URLSearchParams({ symbol, side });
    api(`/api/orders/accounts?${q}`).then(
      (body) => {
        if (!live) return;
        try {
          const a = checked(OrderAccounts, body, "accounts");
          setState({ kind: "ready", eligible: a.eligible, ineligible: a.ineligible });
        } catch (e) {
          setState({ kind: "error", text: (e as Error).message });
        }
      },
      (e) => live && setState({ kind: "error", text: (e as Error).message }),
    );
    return () => {
      live = false;
    };
  }, [symbol, side]);
  return state;
}

/**
 * An account as the rest of the dashboard names it ("Robinhood · Individual ···0001"), or as
 * the api did when the holdings do not list it.
 */
function accountName(id: string, fallback: string): string {
  return accountLabels(holdings.value?.accounts ?? []).get(id)?.full ?? fallback;
}

/** "Robinhood · Individual ···0001 (SnapTrade) — holds 25". */
function accountOption(a: EligibleAccount): string {
  const held = /[1-9]/.test(a.held) ? ` — holds ${formatQuantity(a.held)}` : "";
  return `${accountName(a.account_id, a.name)} (${
    PROVIDER_NAMES[a.provider] ?? a.provider
  })${held}`;
}

function FieldError({ id, text }: { id: string; text: string | undefined }) {
  if (!text) return null;
  return <p class="field-error" id={id}>{text}</p>;
}

/** A decimal input of the ticket, with its label and its error. */
function DecimalField(
  { fieldId, label, value, error, onValue }: {
    fieldId: string;
    label: string;
    value: string;
    error: string | undefined;
    onValue: (value: string) => void;
  },
) {
  const errorId = `${fieldId}-error`;
  return (
    <>
      <label for={fieldId}>{label}</label>
      <input
        id={fieldId}
        class="field"
        type="text"
        inputMode="decimal"
        autocomplete="off"
        value={value}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? errorId : undefined}
        onInput={(e) => onValue((e.currentTarget as HTMLInputElement).value)}
      />
      <FieldError id={errorId} text={error} />
    </>
  );
}

function TicketStep(
  { req, titleId, form, setForm, onPreview }: {
    req: TicketRequest;
    titleId: string;
    form: TicketForm;
    setForm: (f: TicketForm) => void;
    onPreview: (p: Preview) => void;
  },
) {
  const uid = useId();
  const accounts = useAccounts(form.symbol, form.side);
  const [errors, setErrors] = useState<Partial<Record<TicketField, string>>>({});
  const [refusal, setRefusal] = useState<Refusal | null>(null);
  const [busy, setBusy] = useState(false);
  const f = normalise(form);
  const set = (patch: Partial<TicketForm>) => {
    setForm({ ...form, ...patch });
    setRefusal(null);
  };
  // The account: the one chosen if still offered, else the row's own, else the best.
  const eligible = accounts.kind === "ready" ? accounts.eligible : [];
  useEffect(() => {
    if (accounts.kind !== "ready") return;
    const ids = eligible.map((a) => a.account_id);
    if (form.accountId && ids.includes(form.accountId)) return;
    const pick = req.accountId && ids.includes(req.accountId) ? req.accountId : ids[0] ?? null;
    if (pick !== form.accountId) setForm({ ...form, accountId: pick });
  }, [accounts]);
  const account = eligible.find((a) => a.account_id === form.accountId) ?? null;
  const currency = account?.currency ?? "USD";

  const submit = async (e: Event) => {
    e.preventDefault();
    const built = previewBody(form);
    if (!built.ok) {
      setErrors(built.errors);
      return;
    }
    setErrors({});
    setRefusal(null);
    setBusy(true);
    try {
      const p = checked(
        Preview,
        await api("/api/orders/preview", { method: "POST", body: built.body }),
        "preview",
      );
      onPreview(p);
    } catch (err) {
      setRefusal(refusalOf(err));
    } finally {
      setBusy(false);
    }
  };

  const id = (name: string) => `${uid}-${name}`;
  const described = (field: TicketField) => errors[field] ? id(`${field}-error`) : undefined;
  return (
    <form onSubmit={submit} noValidate>
      <h2 id={titleId}>
        {SIDE_WORDS[form.side]} <span data-testid="ticket-symbol">{form.symbol}</span>
        {req.name && <span class="muted ticket-name">{req.name}</span>}
      </h2>
      <div class="segmented side-switch" role="group" aria-label="Buy or sell">
        {(["buy", "sell"] as const).map((s) => (
          <button
            key={s}
            type="button"
            aria-pressed={form.side === s}
            onClick={() => set({ side: s })}
          >
            {SIDE_WORDS[s]}
          </button>
        ))}
      </div>

      <label for={id("account")}>Account</label>
      {accounts.kind === "loading" && (
        <p class="muted small" role="status">
          <span class="spinner" aria-hidden="true" /> Finding the accounts that can take it…
        </p>
      )}
      {accounts.kind === "error" && <p class="form-error" role="alert">{accounts.text}</p>}
      {accounts.kind === "ready" && eligible.length === 0 && (
        <p class="form-error" role="alert" data-testid="no-account">
          No account of yours can {form.side} {form.symbol}.
        </p>
      )}
      {accounts.kind === "ready" && eligible.length > 0 && (
        <select
          id={id("account")}
          class="field"
          value={form.accountId ?? ""}
          aria-describedby={described("account")}
          onChange={(e) => set({ accountId: (e.currentTarget as HTMLSelectElement).value })}
        >
          {eligible.map((a) => (
            <option key={a.account_id} value={a.account_id}>{accountOption(a)}</option>
          ))}
        </select>
      )}
      <FieldError id={id("account-error")} text={errors.account} />
      {accounts.kind === "ready" && accounts.ineligible.length > 0 && (
        <div class="ineligible small muted" data-testid="ineligible">
          <p>Not offered:</p>
          <ul>
            {accounts.ineligible.map((i) => <li key={i.account_id}>{i.reason}</li>)}
          </ul>
        </div>
      )}

      <fieldset class="size">
        <legend>Size</legend>
        <div class="segmented" role="group" aria-label="Size by">
          <button
            type="button"
            aria-pressed={form.sizeBy === "quantity"}
            onClick={() => set({ sizeBy: "quantity" })}
          >
            Shares
          </button>
          <button
            type="button"
            aria-pressed={form.sizeBy === "notional"}
            onClick={() => set({ sizeBy: "notional" })}
          >
            Amount
          </button>
        </div>
        {form.sizeBy === "quantity"
          ? (
            <>
              <DecimalField
                fieldId={id("quantity")}
                label="Quantity"
                value={form.quantity}
                error={errors.quantity}
                onValue={(v) => set({ quantity: v })}
              />
            </>
          )
          : (
            <>
              <DecimalField
                fieldId={id("notional")}
                label={`Amount in ${currency}`}
                value={form.notional}
                error={errors.notional}
                onValue={(v) => set({ notional: v })}
              />
              <p class="hint">An amount is placed as a market order for the day.</p>
            </>
          )}
      </fieldset>

      <div class="ticket-grid">
        <div>
          <label for={id("type")}>Order type</label>
          <select
            id={id("type")}
            class="field"
            value={f.type}
            disabled={form.sizeBy === "notional"}
            aria-describedby={id("type-hint")}
            onChange={(e) =>
              set({ type: (e.currentTarget as HTMLSelectElement).value as OrderType })}
          >
            {(Object.keys(TYPE_LABELS) as OrderType[]).map((t) => (
              <option key={t} value={t}>{TYPE_LABELS[t]}</option>
            ))}
          </select>
        </div>
        <div>
          <label for={id("tif")}>Time in force</label>
          <select
            id={id("tif")}
            class="field"
            value={f.timeInForce}
            disabled={form.sizeBy === "notional"}
            onChange={(e) =>
              set({ timeInForce: (e.currentTarget as HTMLSelectElement).value as TimeInForce })}
          >
            {(Object.keys(TIF_LABELS) as TimeInForce[]).map((t) => (
              <option key={t} value={t}>{TIF_LABELS[t]}</option>
            ))}
          </select>
        </div>
      </div>
      <p class="hint" id={id("type-hint")}>{TYPE_HINTS[f.type]}</p>
      {(needsStop(f.type) || needsLimit(f.type)) && (
        <div class="ticket-grid">
          {needsStop(f.type) && (
            <div>
              <DecimalField
                fieldId={id("stopPrice")}
                label={`Stop price (${currency})`}
                value={form.stopPrice}
                error={errors.stopPrice}
                onValue={(v) => set({ stopPrice: v })}
              />
            </div>
          )}
          {needsLimit(f.type) && (
            <div>
              <DecimalField
                fieldId={id("limitPrice")}
                label={`Limit price (${currency})`}
                value={form.limitPrice}
                error={errors.limitPrice}
                onValue={(v) => set({ limitPrice: v })}
              />
            </div>
          )}
        </div>
      )}

      <RefusalBox r={refusal} testId="ticket-error" />
      <div class="dialog-actions">
        <button type="button" class="btn btn-secondary" onClick={closeTicket}>Cancel</button>
        <button
          type="submit"
          class="btn btn-primary"
          disabled={busy || eligible.length === 0}
          aria-busy={busy}
        >
          {busy && <span class="spinner" aria-hidden="true" />}
          {busy ? "Previewing…" : "Preview order"}
        </button>
      </div>
    </form>
  );
}

/** The preview's time left, renewed every second; says so once it is over. */
function useExpiry(expiresAt: string) {
  const [now, setNow] = useState(Date.now());
  const e = expiry(expiresAt, now);
  useEffect(() => {
    if (e.expired) return;
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [expiresAt, e.expired]);
  return e;
}

function ConfirmStep(
  { titleId, preview: p, idempotencyKey, form, onBack, onPreviewAgain, onSent }: {
    titleId: string;
    preview: Preview;
    idempotencyKey: string;
    form: TicketForm;
    onBack: () => void;
    onPreviewAgain: (p: Preview) => void;
    onSent: (o: Order) => void;
  },
) {
  const left = useExpiry(p.expires_at);
  const [busy, setBusy] = useState<"placing" | "previewing" | null>(null);
  const [refusal, setRefusal] = useState<Refusal | null>(null);
  // The server said it expired, whatever this clock says.
  const [expiredHere, setExpiredHere] = useState(false);
  const [usedHere, setUsedHere] = useState(false);
  const [retryable, setRetryable] = useState(false);
  const expired = left.expired || expiredHere;
  const money = (v: string | null) => formatMoney(v, p.currency);

  const confirm = async () => {
    setBusy("placing");
    setRefusal(null);
    try {
      // The same key for every try of this confirmation: a retry never places a second order.
      const { order } = checked(
        OrderOne,
        await api("/api/orders", {
          method: "POST",
          body: { preview_id: p.preview_id },
          headers: { "Idempotency-Key": idempotencyKey },
        }),
        "order",
      );
      putOrder(order);
      onSent(order);
    } catch (e) {
      if (e instanceof ApiError && e.code === "preview_expired") setExpiredHere(true);
      if (e instanceof ApiError && e.code === "preview_used") setUsedHere(true);
      setRetryable(!(e instanceof ApiError) || e.status === 0 || e.status >= 500);
      setRefusal(refusalOf(e));
    } finally {
      setBusy(null);
    }
  };

  const previewAgain = async () => {
    const built = previewBody({ ...form, accountId: p.account_id });
    if (!built.ok) return onBack();
    setBusy("previewing");
    setRefusal(null);
    try {
      onPreviewAgain(
        checked(
          Preview,
          await api("/api/orders/preview", { method: "POST", body: built.body }),
          "preview",
        ),
      );
    } catch (e) {
      setRefusal(refusalOf(e));
    } finally {
      setBusy(null);
    }
  };

  // An answer lost on the way (no answer, 5xx) may still have placed the order: the retry
  // sends the same key, so the api answers with that order instead of placing another.
  const ambiguous = refusal !== null && !expired && !usedHere && retryable;
  return (
    <div data-testid="confirmation">
      <h2 id={titleId}>Confirm your order</h2>
      <dl class="confirm">
        <div>
          <dt>Account</dt>
          <dd data-testid="confirm-account" data-account-id={p.account_id}>
            {accountName(p.account_id, p.account_name)} <ProviderBadge provider={p.provider} />
          </dd>
        </div>
        <div>
          <dt>Symbol</dt>
          <dd>{p.symbol}</dd>
        </div>
        <div>
          <dt>Action</dt>
          <dd data-testid="confirm-action">{SIDE_WORDS[p.side]}</dd>
        </div>
        <div>
          <dt>Quantity</dt>
          <dd data-testid="confirm-quantity">
            {p.notional !== null
              ? `about ${formatQuantity(p.quantity)} (for ${money(p.notional)})`
              : formatQuantity(p.quantity)}
          </dd>
        </div>
        <div>
          <dt>Order type</dt>
          <dd>{typeText(p, p.currency)}</dd>
        </div>
        <div>
          <dt>{priceLabel(p)}</dt>
          <dd>{money(p.price)}</dd>
        </div>
        <div>
          <dt>Time in force</dt>
          <dd>{TIF_LABELS[p.time_in_force]}</dd>
        </div>
        <div>
          <dt>{amountLabel(p.side)}</dt>
          <dd class="strong" data-testid="confirm-amount">{money(p.estimated_amount)}</dd>
        </div>
        <div>
          <dt>Commission</dt>
          <dd>{money(p.commission)}</dd>
        </div>
        <div>
          <dt>Cash after the order</dt>
          <dd>{p.remaining_cash === null ? "Not reported" : money(p.remaining_cash)}</dd>
        </div>
        <div>
          <dt>Currency</dt>
          <dd>{p.currency}</dd>
        </div>
      </dl>
      <p class="risk" data-testid="risk">{p.risk}</p>
      {expired
        ? (
          <div class="banner banner-warn expiry" role="alert" data-testid="preview-expired">
            <span>This preview has expired. Preview again to see current figures.</span>
            <button
              type="button"
              class="btn btn-secondary btn-small"
              onClick={previewAgain}
              disabled={busy !== null}
            >
              {busy === "previewing" ? "Previewing…" : "Preview again"}
            </button>
          </div>
        )
        : (
          <p class="muted small expiry" data-testid="preview-expiry">
            This preview expires in{" "}
            <time class="countdown" dateTime={p.expires_at}>{left.left}</time>.
          </p>
        )}
      <RefusalBox r={expired ? null : refusal} testId="confirm-error" />
      {usedHere && (
        <p class="small">
          <a
            href="/orders"
            onClick={(e) => {
              e.preventDefault();
              closeTicket();
              navigate("/orders");
            }}
          >
            See your orders
          </a>
        </p>
      )}
      <div class="dialog-actions">
        <button type="button" class="btn btn-secondary" onClick={onBack} disabled={busy !== null}>
          Back
        </button>
        <button
          type="button"
          class="btn btn-primary"
          onClick={confirm}
          disabled={busy !== null || expired || usedHere}
          aria-busy={busy === "placing"}
        >
          {busy === "placing" && <span class="spinner" aria-hidden="true" />}
          {busy === "placing"
            ? "Placing…"
            : ambiguous
            ? "Try again"
            : `Confirm ${SIDE_WORDS[p.side].toLowerCase()}`}
        </button>
      </div>
      <p class="hint">
        Confirming sends this order to {PROVIDER_NAMES[p.provider] ?? p.provider}.
        {ambiguous && " Trying again never places it twice."}
      </p>
    </div>
  );
}

function SentStep({ titleId, order: sent, preview }: {
  titleId: string;
  order: Order;
  preview: Preview;
}) {
  const order = knownOrders.value.get(sent.id) ?? sent;
  const fill = fillText(order);
  return (
    <div data-testid="order-sent" data-order-id={order.id}>
      <h2 id={titleId}>Order sent</h2>
      <p>
        {actionText(order, order.currency)} ({typeText(order, order.currency)}) in{" "}
        {accountName(order.account_id, preview.account_name)}.
      </p>
      <p class="order-status-line" aria-live="polite">
        Status:{" "}
        <span
          class={`state state-${stateTone(order.state)}`}
          data-testid="order-status"
          data-state={order.state}
        >
          {STATE_LABELS[order.state]}
        </span>
        {fill && <span class="muted">{` · ${fill}`}</span>}
      </p>
      {order.reason && (order.state === "rejected" || order.state === "failed") && (
        <p class="form-error">{order.reason}</p>
      )}
      {!isFinal(order.state) && (
        <p class="muted small">
          The status updates here as the broker reports it. You can close this and follow it under
          Orders.
        </p>
      )}
      <div class="dialog-actions">
        <button
          type="button"
          class="btn btn-secondary"
          onClick={() => {
            closeTicket();
            navigate("/orders");
          }}
        >
          See orders
        </button>
        <button type="button" class="btn btn-primary" onClick={closeTicket} autofocus>
          Done
        </button>
      </div>
    </div>
  );
}
