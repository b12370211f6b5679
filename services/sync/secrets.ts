/**
 * Where each provider secret lives and what its ciphertext is bound to. The associated data
 * names the table, column, row and user, so a ciphertext copied to another row (or another
 * user's row) does not decrypt. What a secret holds is its provider's business
 * (`providers/<name>/`).
 * @module
 */
import type { Provider } from "@meridian/proto";
import type { Keyring, SecretContext } from "@meridian/runtime";

/** The context of a per-user provider secret (`provider_users`, one row per user and provider). */
export function providerUserContext(userId: string, provider = "snaptrade"): SecretContext {
  return {
    table: "provider_users",
    column: "secret_ciphertext",
    rowId: `${userId}:${provider}`,
    userId,
  };
}

/** The context of a connection's secret (Plaid access token, Alpaca key pair). */
export function connectionContext(connectionId: string, userId: string): SecretContext {
  return { table: "connections", column: "secret_ciphertext", rowId: connectionId, userId };
}

/** Bytes from a postgres.js bytea value. */
export function bytes(v: unknown): Uint8Array<ArrayBuffer> {
  if (v instanceof Uint8Array) return new Uint8Array(v);
  throw new Error("expected a bytea value");
}

/** The row fields credentials are read from. */
export interface SecretRow {
  id: string;
  user_id: string;
  provider: Provider;
  external_id: string;
  secret_key_id: string | null;
  secret_ciphertext: Uint8Array | null;
}

/** Decrypts the secret a connection row keeps itself (bound to that row and its user). */
export async function openConnectionSecret(keyring: Keyring, conn: SecretRow): Promise<string> {
  if (!conn.secret_key_id || !conn.secret_ciphertext) throw new Error("connection has no secret");
  return await keyring.open(
    { keyId: conn.secret_key_id, ciphertext: bytes(conn.secret_ciphertext) },
    connectionContext(conn.id, conn.user_id),
  );
}
