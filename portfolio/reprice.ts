/**
 * Re-pricing a holdings view at new quotes without the database: the view is turned back into
 * the rows it was built from and aggregated again, so the dashboard (which bundles this
 * module) and the api value holdings with the one implementation in `aggregate.ts` and
 * `pricing.ts`. For any rows and quotes A and B,
 * `repriceHoldings(aggregateHoldings(rows, A), B)` equals `aggregateHoldings(rows, B)` but for
 * `generated_at`, which stays when the rows were read.
 *
 * Browser-safe: decimal.js and types only (no database, no NATS).
 * @module
 */
import { aggregateHoldings, type BaseCurrency, type HoldingsRows } from "./aggregate.ts";
import type { Quotes } from "./pricing.ts";
import type { HoldingsView } from "./views.ts";

/** The rows and base currency a view was aggregated from (as far as the view depends on them). */
export function rowsOfView(view: HoldingsView): { rows: HoldingsRows; base: BaseCurrency } {
  const rows: HoldingsRows = { connections: [], accounts: [], positions: [], balances: [] };
  for (const p of view.providers) {
    for (const c of p.connections) {
      rows.connections.push({
        id: c.id,
        provider: p.provider,
        institution: c.institution,
        status: c.status,
        status_reason: c.status_reason,
        warning: c.warning,
        last_synced_at: c.last_synced === null ? null : new Date(c.last_synced),
        // Only whether there is one shows.
        pending_since: c.has_pending_updates ? new Date(0) : null,
      });
    }
  }
  for (const a of view.accounts) {
    rows.accounts.push({
      id: a.id,
      connection_id: a.connection_id,
      provider: a.provider,
      name: a.name,
      number_mask: a.number_mask,
      type: a.type,
      currency: a.currency,
      status: a.status,
      can_trade: a.can_trade,
      synced_at: new Date(a.synced_at),
    });
    for (const p of a.positions) {
      rows.positions.push({
        id: p.id,
        account_id: a.id,
        symbol: p.symbol,
        name: p.name,
        security_type: p.security_type,
        quantity: p.quantity,
        price: p.provider_price,
        previous_close: p.provider_previous_close,
        cost_basis: p.cost_basis,
        currency: p.currency,
        option_details: p.option_details,
        synced_at: new Date(p.synced_at),
        instrument_id: p.instrument_id,
        instrument_symbol: p.instrument_symbol,
        instrument_name: p.instrument_name,
        instrument_currency: p.instrument_currency,
        unresolved_reason: p.unresolved_reason,
      });
    }
    for (const b of a.balances) {
      rows.balances.push({
        account_id: a.id,
        currency: b.currency,
        cash: b.cash,
        buying_power: b.buying_power,
        synced_at: new Date(b.synced_at),
      });
    }
  }
  const eur = Object.entries(view.base.eur_rates);
  return {
    rows,
    base: {
      currency: view.base.currency,
      // The date shows only when something was converted, and then it is in the view.
      fx: { date: view.base.fx_date ?? "", rates: new Map(eur) },
    },
  };
}

/**
 * `view` valued at `quotes` (by market-data symbol, e.g. `PortfolioValue.quotes`) with the US
 * market open, closed or unknown (null) at `now`: every price, value, day change, total and
 * staleness flag as the server would compute them from the same rows.
 */
export function repriceHoldings(
  view: HoldingsView,
  quotes: Quotes,
  now: Date,
  marketOpen: boolean | null,
): HoldingsView {
  const { rows, base } = rowsOfView(view);
  const out = aggregateHoldings(view.user_id, rows, now, base, { quotes, marketOpen });
  out.generated_at = view.generated_at;
  return out;
}
