/**
 * What the collector reads from PostgreSQL: the instruments each user holds (a position with
 * a resolved instrument and a non-zero quantity; cash has no instrument, so it never counts).
 * @module
 */
import type { InstrumentKind } from "@meridian/proto";
import type { Sql } from "@meridian/runtime";
import type { HeldInstrument } from "./classify.ts";

interface Row {
  user_id: string;
  symbol: string;
  kind: InstrumentKind;
  currency: string;
}

/** One entry per symbol: a US-dollar listing wins over another currency's (it can stream). */
function bySymbol(rows: readonly Row[]): HeldInstrument[] {
  const out = new Map<string, HeldInstrument>();
  for (const r of rows) {
    const seen = out.get(r.symbol);
    if (!seen || (seen.currency !== "USD" && r.currency === "USD")) {
      out.set(r.symbol, { symbol: r.symbol, kind: r.kind, currency: r.currency });
    }
  }
  return [...out.values()];
}

/** Every user's held instruments. */
export async function loadHeld(sql: Sql): Promise<Map<string, HeldInstrument[]>> {
  const rows = await sql<Row[]>`
    select distinct p.user_id, i.symbol, i.kind, i.currency
    from positions p join instruments i on i.id = p.instrument_id
    where p.quantity <> 0`;
  const byUser = new Map<string, Row[]>();
  for (const r of rows) byUser.set(r.user_id, [...byUser.get(r.user_id) ?? [], r]);
  return new Map([...byUser].map(([u, list]) => [u, bySymbol(list)]));
}

/** One user's held instruments. */
export async function heldOf(sql: Sql, userId: string): Promise<HeldInstrument[]> {
  const rows = await sql<Row[]>`
    select distinct p.user_id, i.symbol, i.kind, i.currency
    from positions p join instruments i on i.id = p.instrument_id
    where p.user_id = ${userId} and p.quantity <> 0`;
  return bySymbol(rows);
}
