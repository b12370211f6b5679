/**
 * Finding a symbol to trade: `GET /api/orders/symbols` (SnapTrade's symbol search, Alpaca's
 * assets, through the accounts that can trade), asked once typing pauses; a match opens the
 * trade ticket.
 * @module
 */
import { useEffect, useId, useState } from "preact/hooks";
import { api } from "./api.ts";
import { checked, SymbolList, type SymbolMatch } from "./order_schema.ts";
import { searchQuery } from "./ticket.ts";
import { openTicket } from "./trading.ts";

export function SymbolSearch() {
  const uid = useId();
  const [text, setText] = useState("");
  const [state, setState] = useState<
    | { kind: "idle" }
    | { kind: "searching" }
    | { kind: "done"; q: string; symbols: SymbolMatch[] }
    | { kind: "error"; text: string }
  >({ kind: "idle" });
  const q = searchQuery(text);
  useEffect(() => {
    if (q === null) {
      setState(
        text.trim() ? { kind: "error", text: "Use letters, digits or spaces." } : {
          kind: "idle",
        },
      );
      return;
    }
    let live = true;
    const t = setTimeout(async () => {
      setState({ kind: "searching" });
      try {
        const body = await api(`/api/orders/symbols?${new URLSearchParams({ q })}`);
        if (live) {
          setState({ kind: "done", q, symbols: checked(SymbolList, body, "symbols").symbols });
        }
      } catch (e) {
        if (live) setState({ kind: "error", text: (e as Error).message });
      }
    }, 300);
    return () => {
      live = false;
      clearTimeout(t);
    };
  }, [q]);
  return (
    <div class="symbol-search">
      <label for={`${uid}-q`}>Find a symbol to trade</label>
      <input
        id={`${uid}-q`}
        class="field"
        type="search"
        autocomplete="off"
        placeholder="AAPL, Apple…"
        value={text}
        aria-describedby={`${uid}-status`}
        onInput={(e) => setText((e.currentTarget as HTMLInputElement).value)}
      />
      <div id={`${uid}-status`} aria-live="polite">
        {state.kind === "searching" && (
          <p class="muted small">
            <span class="spinner" aria-hidden="true" /> Searching…
          </p>
        )}
        {state.kind === "error" && <p class="field-error">{state.text}</p>}
        {state.kind === "done" && state.symbols.length === 0 && (
          <p class="muted small">No tradable symbol matches “{state.q}”.</p>
        )}
      </div>
      {state.kind === "done" && state.symbols.length > 0 && (
        <ul class="symbol-results" aria-label="Matching symbols" data-testid="symbol-results">
          {state.symbols.map((s) => (
            <li key={s.symbol}>
              <span class="sym strong">{s.symbol}</span>
              <span class="muted symbol-name">{s.name}</span>
              <span class="symbol-actions">
                <button
                  type="button"
                  class="btn btn-secondary btn-small"
                  aria-label={`Buy ${s.symbol}`}
                  onClick={() =>
                    openTicket({ symbol: s.symbol, name: s.name, side: "buy", accountId: null })}
                >
                  Buy
                </button>
                <button
                  type="button"
                  class="btn btn-secondary btn-small"
                  aria-label={`Sell ${s.symbol}`}
                  onClick={() =>
                    openTicket({ symbol: s.symbol, name: s.name, side: "sell", accountId: null })}
                >
                  Sell
                </button>
              </span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
