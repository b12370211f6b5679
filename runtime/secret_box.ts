/**
 * Provider secrets at rest: AES-256-GCM under a keyring of named keys. The key id is stored
 * beside the ciphertext, and associated data binds each ciphertext to its row and user, so
 * a ciphertext copied to another row does not decrypt.
 * @module
 */
import { registerSecret } from "./log.ts";

/** Where a ciphertext belongs: it decrypts only there. */
export interface SecretContext {
  table: string;
  column: string;
  rowId: string;
  userId: string;
}

/** A ciphertext and the id of the key that made it. */
export interface SealedSecret {
  keyId: string;
  ciphertext: Uint8Array<ArrayBuffer>;
}

/** Raised when a secret cannot be decrypted (wrong row, unknown key, tampering). */
export class SecretError extends Error {
  override name = "SecretError";
}

const NONCE_BYTES = 12;

function aad(ctx: SecretContext): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(
    `meridian/v1|${ctx.table}|${ctx.column}|${ctx.rowId}|${ctx.userId}`,
  );
}

/** A set of AES-256-GCM keys; the first encrypts, all decrypt. */
export class Keyring {
  private constructor(readonly currentId: string, private readonly keys: Map<string, CryptoKey>) {}

  /** Parses `id:base64key[,id:base64key…]` (the format of `SECRETS_KEYRING`). */
  static async parse(spec: string): Promise<Keyring> {
    const keys = new Map<string, CryptoKey>();
    let first: string | undefined;
    for (const part of spec.split(",")) {
      const [id, b64] = part.split(":");
      const raw = Uint8Array.from(atob(b64 ?? ""), (c) => c.charCodeAt(0));
      if (!id || raw.length !== 32) {
        throw new SecretError("keyring entries must be id:base64(32 bytes)");
      }
      if (keys.has(id)) throw new SecretError(`keyring has key id ${id} twice`);
      keys.set(
        id,
        await crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt", "decrypt"]),
      );
      first ??= id;
    }
    return new Keyring(first!, keys);
  }

  /** A fresh keyring spec with one random key, for development and tests. */
  static generateSpec(id = `k${Date.now().toString(36)}`): string {
    const raw = crypto.getRandomValues(new Uint8Array(32));
    return `${id}:${btoa(String.fromCharCode(...raw))}`;
  }

  /** Encrypts `plaintext` for `ctx` under the current key. */
  async seal(plaintext: string, ctx: SecretContext): Promise<SealedSecret> {
    registerSecret(plaintext);
    const nonce = crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
    const key = this.keys.get(this.currentId)!;
    const body = new Uint8Array(
      await crypto.subtle.encrypt(
        { name: "AES-GCM", iv: nonce, additionalData: aad(ctx) },
        key,
        new TextEncoder().encode(plaintext),
      ),
    );
    const ciphertext = new Uint8Array(NONCE_BYTES + body.length);
    ciphertext.set(nonce);
    ciphertext.set(body, NONCE_BYTES);
    return { keyId: this.currentId, ciphertext };
  }

  /** Decrypts a secret sealed for exactly `ctx`. */
  async open(sealed: SealedSecret, ctx: SecretContext): Promise<string> {
    const key = this.keys.get(sealed.keyId);
    if (!key) throw new SecretError(`secret was sealed with unknown key id ${sealed.keyId}`);
    try {
      const plain = await crypto.subtle.decrypt(
        { name: "AES-GCM", iv: sealed.ciphertext.slice(0, NONCE_BYTES), additionalData: aad(ctx) },
        key,
        sealed.ciphertext.slice(NONCE_BYTES),
      );
      const text = new TextDecoder().decode(plain);
      registerSecret(text);
      return text;
    } catch {
      throw new SecretError(`secret for ${ctx.table}.${ctx.column} does not decrypt for this row`);
    }
  }
}

/** Key id of the published demo keyring in docker-compose.yml; never valid in live mode. */
export const DEMO_KEY_ID = "demo-only";

/**
 * The keyring from `SECRETS_KEYRING`; a process that needs it and lacks it exits 2 with one
 * line, like any other configuration error. Live mode refuses the published demo key.
 */
export async function keyringFromConfig(
  config: { SECRETS_KEYRING?: string; PROVIDERS?: string },
): Promise<Keyring> {
  const spec = config.SECRETS_KEYRING;
  const fail = (why: string): never => {
    console.error(`invalid configuration: SECRETS_KEYRING: ${why}`);
    Deno.exit(2);
  };
  if (!spec) return fail("required to encrypt provider secrets");
  if (config.PROVIDERS === "live" && spec.split(",").some((e) => e.split(":")[0] === DEMO_KEY_ID)) {
    return fail(
      `the published "${DEMO_KEY_ID}" key cannot protect live secrets; generate your own (see README)`,
    );
  }
  return await Keyring.parse(spec);
}
