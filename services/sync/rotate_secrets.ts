/**
 * `deno task secrets:rotate`: re-encrypts every provider secret under the first (newest)
 * key of SECRETS_KEYRING, in batches, each batch in one transaction with its rows locked.
 * Rows already under the newest key are left alone, so an interrupted run can be re-run.
 * @module
 */
import {
  connectDb,
  createLogger,
  type Keyring,
  keyringFromConfig,
  loadConfig,
  type Sql,
} from "@meridian/runtime";
import { bytes, connectionContext, providerUserContext } from "./secrets.ts";

/** What a rotation did. */
export interface RotationReport {
  keyId: string;
  providerUsers: number;
  connections: number;
}

/** Re-encrypts every secret not yet under `keyring.currentId`. */
export async function rotateSecrets(
  sql: Sql,
  keyring: Keyring,
  batchSize = 100,
): Promise<RotationReport> {
  const report: RotationReport = { keyId: keyring.currentId, providerUsers: 0, connections: 0 };
  for (;;) {
    const n = await sql.begin(async (tx) => {
      const rows = await tx<
        {
          user_id: string;
          provider: string;
          secret_key_id: string;
          secret_ciphertext: Uint8Array;
        }[]
      >`
        select user_id, provider, secret_key_id, secret_ciphertext from provider_users
        where secret_key_id <> ${keyring.currentId}
        order by user_id, provider limit ${batchSize} for update skip locked`;
      for (const r of rows) {
        const ctx = providerUserContext(r.user_id, r.provider);
        const plain = await keyring.open({
          keyId: r.secret_key_id,
          ciphertext: bytes(r.secret_ciphertext),
        }, ctx);
        const sealed = await keyring.seal(plain, ctx);
        await tx`update provider_users set secret_key_id = ${sealed.keyId}, secret_ciphertext = ${sealed.ciphertext}
          where user_id = ${r.user_id} and provider = ${r.provider}`;
      }
      return rows.length;
    });
    report.providerUsers += n;
    if (n < batchSize) break;
  }
  for (;;) {
    const n = await sql.begin(async (tx) => {
      const rows = await tx<
        { id: string; user_id: string; secret_key_id: string; secret_ciphertext: Uint8Array }[]
      >`
        select id, user_id, secret_key_id, secret_ciphertext from connections
        where secret_ciphertext is not null and secret_key_id <> ${keyring.currentId}
        order by id limit ${batchSize} for update skip locked`;
      for (const r of rows) {
        const ctx = connectionContext(r.id, r.user_id);
        const plain = await keyring.open({
          keyId: r.secret_key_id,
          ciphertext: bytes(r.secret_ciphertext),
        }, ctx);
        const sealed = await keyring.seal(plain, ctx);
        await tx`update connections set secret_key_id = ${sealed.keyId}, secret_ciphertext = ${sealed.ciphertext}
          where id = ${r.id} and user_id = ${r.user_id}`;
      }
      return rows.length;
    });
    report.connections += n;
    if (n < batchSize) break;
  }
  return report;
}

if (import.meta.main) {
  const config = loadConfig();
  const log = createLogger("secrets-rotate", config.LOG_LEVEL);
  const keyring = await keyringFromConfig(config);
  const sql = connectDb(config.DATABASE_URL, { max: 2, name: "secrets-rotate" });
  try {
    const r = await rotateSecrets(sql, keyring);
    log.info("secrets re-encrypted", {
      key_id: r.keyId,
      provider_users: r.providerUsers,
      connections: r.connections,
    });
    console.log(
      `re-encrypted ${r.providerUsers} provider user secret(s) and ${r.connections} connection secret(s) under key ${r.keyId}`,
    );
  } catch (e) {
    log.error("rotation failed; rows not yet rotated keep their old key", { error: e });
    Deno.exitCode = 1;
  } finally {
    await sql.end({ timeout: 5 });
  }
}
