/**
 * Where each provider secret lives and what its ciphertext is bound to. The associated data
 * names the table, column, row and user, so a ciphertext copied to another row (or another
 * user's row) does not decrypt.
 * @module
 */
import type { Keyring, SecretContext } from "@meridian/runtime";
import type { Credentials } from "./providers/types.ts";

/** The context of a SnapTrade user secret (`provider_users`, one row per user and provider). */
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

/** What the `connections` secret holds for Alpaca. */
export interface AlpacaSecret {
  keyId: string;
  secret: string;
  paper: boolean;
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
  provider: "snaptrade" | "plaid" | "alpaca";
  external_id: string;
  secret_key_id: string | null;
  secret_ciphertext: Uint8Array | null;
}

/** Decrypts a connection's credentials; SnapTrade's come from `provider_users`. */
export async function openCredentials(
  keyring: Keyring,
  conn: SecretRow,
  snaptradeUser?: {
    external_user_id: string;
    secret_key_id: string;
    secret_ciphertext: Uint8Array;
  },
): Promise<Credentials> {
  if (conn.provider === "snaptrade") {
    if (!snaptradeUser) throw new Error("SnapTrade user is not registered");
    const userSecret = await keyring.open(
      { keyId: snaptradeUser.secret_key_id, ciphertext: bytes(snaptradeUser.secret_ciphertext) },
      providerUserContext(conn.user_id),
    );
    return {
      provider: "snaptrade",
      userId: snaptradeUser.external_user_id,
      userSecret,
      authorizationId: conn.external_id,
    };
  }
  if (!conn.secret_key_id || !conn.secret_ciphertext) throw new Error("connection has no secret");
  const plain = await keyring.open(
    { keyId: conn.secret_key_id, ciphertext: bytes(conn.secret_ciphertext) },
    connectionContext(conn.id, conn.user_id),
  );
  if (conn.provider === "plaid") {
    return { provider: "plaid", accessToken: plain, itemId: conn.external_id };
  }
  const a = JSON.parse(plain) as AlpacaSecret;
  return { provider: "alpaca", keyId: a.keyId, secret: a.secret, paper: a.paper };
}
