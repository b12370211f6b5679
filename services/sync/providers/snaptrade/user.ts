/**
 * SnapTrade keeps one registration per Meridian user (`provider_users`): its user id and the
 * user secret, sealed to that row (AAD: provider_users/secret_ciphertext/<user>:snaptrade/<user>).
 * A connection's credentials are that registration plus its brokerage authorization.
 * @module
 */
import type { Keyring, Sql, TransactionSql } from "@meridian/runtime";
import { ConnectionFlowError, NotFoundError, providerFailure } from "../../connections/errors.ts";
import type { SyncDeps } from "../../deps.ts";
import { bytes, providerUserContext, type SecretRow } from "../../secrets.ts";
import type { SnaptradeCredentials } from "./mod.ts";

/** A SnapTrade registration as stored. */
interface Registration {
  external_user_id: string;
  secret_key_id: string;
  secret_ciphertext: Uint8Array;
}

/** The SnapTrade user id Meridian registers for a Meridian user (no personal data in it). */
function snaptradeUserId(userId: string): string {
  return `meridian-${userId}`;
}

/** The SnapTrade registration of a user, or null. */
async function loadSnaptradeUser(
  sql: Sql | TransactionSql,
  userId: string,
): Promise<Registration | null> {
  const [row] = await sql<Registration[]>`
    select external_user_id, secret_key_id, secret_ciphertext from provider_users
    where user_id = ${userId} and provider = 'snaptrade'`;
  return row ?? null;
}

async function open(keyring: Keyring, userId: string, r: Registration) {
  const userSecret = await keyring.open(
    { keyId: r.secret_key_id, ciphertext: bytes(r.secret_ciphertext) },
    providerUserContext(userId),
  );
  return { userId: r.external_user_id, userSecret };
}

/** A connection's credentials: the user's registration and the connection's authorization. */
export async function snaptradeCredentials(
  deps: Pick<SyncDeps, "sql" | "keyring">,
  conn: SecretRow,
): Promise<SnaptradeCredentials> {
  const registration = await loadSnaptradeUser(deps.sql, conn.user_id);
  if (!registration) throw new Error("SnapTrade user is not registered");
  const user = await open(deps.keyring, conn.user_id, registration);
  return { ...user, authorizationId: conn.external_id };
}

/** The user's SnapTrade credentials, registering the user at SnapTrade on first use. */
export async function ensureSnaptradeUser(
  deps: SyncDeps,
  userId: string,
): Promise<{ userId: string; userSecret: string }> {
  const existing = await loadSnaptradeUser(deps.sql, userId);
  if (existing) return await open(deps.keyring, userId, existing);
  const st = deps.providers.snaptrade.interactive();
  return await deps.sql.begin(async (tx) => {
    // One registration per user, even when two requests race.
    await tx`select pg_advisory_xact_lock(hashtextextended(${
      "meridian.snaptrade-user:" + userId
    }, 0))`;
    const again = await loadSnaptradeUser(tx, userId);
    if (again) return await open(deps.keyring, userId, again);
    const [u] = await tx<{ id: string }[]>`select id from users where id = ${userId}`;
    if (!u) throw new NotFoundError("user");
    const res = await st.call(
      "registerSnapTradeUser",
      () => st.client.authentication.registerSnapTradeUser({ userId: snaptradeUserId(userId) }),
    ).catch((e) => providerFailure(e, "SnapTrade registration failed"));
    const ext = String(res.data.userId ?? snaptradeUserId(userId));
    const secret = String(res.data.userSecret ?? "");
    if (!secret) throw new ConnectionFlowError("SnapTrade returned no user secret", 502);
    const sealed = await deps.keyring.seal(secret, providerUserContext(userId));
    await tx`insert into provider_users (user_id, provider, external_user_id, secret_key_id, secret_ciphertext)
      values (${userId}, 'snaptrade', ${ext}, ${sealed.keyId}, ${sealed.ciphertext})`;
    return { userId: ext, userSecret: secret };
  });
}
