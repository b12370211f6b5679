/**
 * The trading audit trail (`trading_audit`, append-only in the database): every request,
 * decision and broker answer, with who, from where and when (UTC, the database's clock).
 * Details hold normalised facts, never credentials or raw provider bodies.
 * @module
 */
import type { Sql, TransactionSql } from "@meridian/runtime";

/** Who acts, and from where. */
export interface Actor {
  userId: string;
  /** The client's address, where known. */
  address: string | null;
}

/** The rows an audit entry names. */
export interface AuditRefs {
  userId?: string;
  accountId?: string | null;
  previewId?: string | null;
  orderId?: string | null;
}

/** Appends one entry (inside `sql`'s transaction when it is one). */
export async function audit(
  sql: Sql | TransactionSql,
  actor: Actor | null,
  action: string,
  refs: AuditRefs,
  detail: Record<string, unknown> = {},
): Promise<void> {
  await sql`
    insert into trading_audit (actor_id, client_address, action, user_id, account_id, preview_id,
                               order_id, detail)
    values (${actor?.userId ?? null}, ${actor?.address ?? null}, ${action},
            ${refs.userId ?? actor?.userId ?? null}, ${refs.accountId ?? null},
            ${refs.previewId ?? null}, ${refs.orderId ?? null}, ${sql.json(detail as never)})`;
}
