/**
 * Recording a connection a flow has verified at its provider, the same way for every provider:
 * one upsert scoped to the user, its own secret sealed to its row, then its first sync.
 * @module
 */
import type { Provider } from "@meridian/proto";
import { publishSyncRequest } from "@meridian/portfolio";
import type { SyncDeps } from "../deps.ts";
import { connectionContext } from "../secrets.ts";
import { NotFoundError } from "./errors.ts";

/** A connection as the API may show it: never a secret. */
export interface ConnectionInfo {
  id: string;
  provider: Provider;
  institution: string;
  access: "read" | "trade";
  status: "active" | "error" | "disabled";
  status_reason: string | null;
  last_synced_at: string | null;
  created_at: string;
}

/** One connection of the user, as the API may show it; another user's id is not found. */
export async function connectionInfo(
  deps: Pick<SyncDeps, "sql">,
  userId: string,
  id: string,
): Promise<ConnectionInfo> {
  const [r] = await deps.sql<
    (Omit<ConnectionInfo, "last_synced_at" | "created_at"> & {
      last_synced_at: Date | null;
      created_at: Date;
    })[]
  >`
    select id, provider, institution, access, status, status_reason, last_synced_at, created_at
    from connections where id = ${id} and user_id = ${userId}`;
  if (!r) throw new NotFoundError();
  return {
    id: r.id,
    provider: r.provider,
    institution: r.institution,
    access: r.access,
    status: r.status,
    status_reason: r.status_reason ?? null,
    last_synced_at: r.last_synced_at ? new Date(r.last_synced_at).toISOString() : null,
    created_at: new Date(r.created_at).toISOString(),
  };
}

/** A connection a flow has verified at its provider. */
export interface VerifiedConnection {
  provider: Provider;
  /** SnapTrade authorization id, Plaid item id, Alpaca account id. */
  externalId: string;
  institution: string;
  access: "read" | "trade";
  /** Its own secret (Plaid access token, Alpaca keys); none where the secret is per user. */
  secret?: string;
  /** Keep the stored institution of an existing connection: the name given may be a fallback. */
  keepInstitution?: boolean;
  /** What to throw when another user already has this connection. */
  taken(): Error;
}

/**
 * Records `c` for the user, or repairs the user's existing connection to the same account
 * (active again, with the new secret), and requests its initial sync. Another user's
 * connection is never touched.
 */
export async function recordConnection(
  deps: Pick<SyncDeps, "sql" | "js" | "keyring">,
  userId: string,
  c: VerifiedConnection,
): Promise<ConnectionInfo> {
  const { sql } = deps;
  const [existing] = await sql<{ id: string; user_id: string }[]>`
    select id, user_id from connections
    where provider = ${c.provider} and external_id = ${c.externalId}`;
  if (existing && existing.user_id !== userId) throw c.taken();
  // The secret is bound to its row, so the row's id is known before it is sealed.
  const id = existing?.id ?? crypto.randomUUID();
  const sealed = c.secret === undefined
    ? null
    : await deps.keyring.seal(c.secret, connectionContext(id, userId));
  const institution = c.keepInstitution ? sql`connections.institution` : sql`excluded.institution`;
  const [row] = await sql<{ id: string }[]>`
    insert into connections (id, user_id, provider, external_id, access, institution,
      secret_key_id, secret_ciphertext)
    values (${id}, ${userId}, ${c.provider}, ${c.externalId}, ${c.access}, ${c.institution},
      ${sealed?.keyId ?? null}, ${sealed?.ciphertext ?? null})
    on conflict (provider, external_id) do update set access = excluded.access,
      institution = ${institution},
      secret_key_id = coalesce(excluded.secret_key_id, connections.secret_key_id),
      secret_ciphertext = coalesce(excluded.secret_ciphertext, connections.secret_ciphertext),
      status = 'active', status_reason = null, updated_at = now()
    where connections.user_id = excluded.user_id
    returning id`;
  if (!row) throw c.taken();
  await publishSyncRequest(deps.js, {
    userId,
    provider: c.provider,
    connectionIds: [row.id],
    reason: "initial",
  });
  return await connectionInfo(deps, userId, row.id);
}
