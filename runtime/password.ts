/**
 * Password hashing with Argon2id (memory-hard), encoded in the PHC string format.
 * @module
 */
import { argon2id, argon2Verify } from "hash-wasm";

/** Argon2id parameters: 19 MiB, 2 passes, 1 lane (OWASP's minimum recommendation). */
const PARAMS = { memorySize: 19_456, iterations: 2, parallelism: 1, hashLength: 32 } as const;

/** Hashes `password` with a fresh random salt. */
export async function hashPassword(password: string): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  return await argon2id({ password, salt, ...PARAMS, outputType: "encoded" });
}

/** True when `password` matches `encoded`; false for a malformed hash. */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  try {
    return await argon2Verify({ password, hash: encoded });
  } catch {
    return false;
  }
}
