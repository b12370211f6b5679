/**
 * A fill moves the position at once: the account's row for the symbol gains (a buy) or loses
 * (a sell) the filled units, marked provisional, and its cash moves by their cost, in the
 * transaction that records the fill. The brokerage's next sync replaces these rows with its
 * own. Returns the user's new holdings version, for `holdings.changed`.
 * @module
 */
import { Exact as Decimal } from "@meridian/portfolio/exact";
import type { TransactionSql } from "@meridian/runtime";

/** What a fill changes. */
export interface Fill {
  userId: string;
  accountId: string;
  connectionId: string;
  provider: string;
  currency: string;
  symbol: string;
  side: "buy" | "sell";
  /** Units newly filled. */
  units: string;
  price: string;
}

/** Applies `fill` to the account's position and cash; the user's new holdings version. */
export async function applyFillProvisionally(tx: TransactionSql, fill: Fill): Promise<number> {
  const signed = fill.side === "buy" ? new Decimal(fill.units) : new Decimal(fill.units).neg();
  const cost = signed.mul(fill.price);
  const [held] = await tx<{ id: string; quantity: string }[]>`
    select id, quantity::text from positions
     where account_id = ${fill.accountId} and symbol = ${fill.symbol} and security_type <> 'option'
     order by id limit 1 for update`;
  const now = new Date();
  if (held) {
    const quantity = signed.plus(held.quantity);
    if (quantity.isZero()) await tx`delete from positions where id = ${held.id}`;
    else {
      await tx`
        update positions set quantity = ${quantity.toFixed()}, provisional = true,
               cost_basis = case when cost_basis is null then null else cost_basis + ${cost.toFixed()} end
         where id = ${held.id}`;
    }
  } else if (signed.gt(0)) {
    const [instrument] = await tx<{ id: string }[]>`
      select id from instruments where symbol = ${fill.symbol} and currency = ${fill.currency}`;
    await tx`
      insert into positions (user_id, account_id, connection_id, provider, symbol, security_type,
                             quantity, price, cost_basis, currency, synced_at, instrument_id,
                             unresolved_reason, provisional)
      values (${fill.userId}, ${fill.accountId}, ${fill.connectionId}, ${fill.provider},
              ${fill.symbol}, 'equity', ${signed.toFixed()}, ${fill.price}, ${cost.toFixed()},
              ${fill.currency}, ${now}, ${instrument?.id ?? null},
              ${
      instrument ? null : "a provisional position from a fill: the next sync resolves it"
    },
              true)`;
  }
  await tx`
    update balances set cash = cash - ${cost.toFixed()}
     where account_id = ${fill.accountId} and currency = ${fill.currency}`;
  const [u] = await tx<{ holdings_version: string }[]>`
    update users set holdings_version = holdings_version + 1 where id = ${fill.userId}
    returning holdings_version`;
  return Number(u.holdings_version);
}
