/**
 * Connecting Alpaca: the person enters an API key pair, which is verified with one account call
 * before anything is stored; repairing a connection takes a new pair for the same account.
 * @module
 */
import { ConnectionFlowError, NotFoundError, providerFailure } from "../../connections/errors.ts";
import { type ConnectionInfo, recordConnection } from "../../connections/record.ts";
import type { SyncDeps } from "../../deps.ts";
import { type ConnectionRow, loadConnection } from "../../store.ts";
import { ProviderError } from "../call.ts";
import type { ApiKeys, ReconnectInput, ReconnectStep } from "../types.ts";
import type { AlpacaCredentials } from "./mod.ts";

/** Keys to connect with, and the connection they repair, if any. */
export interface AlpacaConnect extends ApiKeys {
  reconnectConnectionId?: string;
}

/** Visible ASCII, no spaces or control characters: what Alpaca keys are made of. */
const HEADER_SAFE = /^[\x21-\x7e]+$/;
/** Well above the length of Alpaca's keys, low enough to refuse pasted garbage. */
const ALPACA_KEY_ID_MAX = 64;
const ALPACA_SECRET_MAX = 128;

/** The key pair the sandbox's demo account answers to. */
const DEMO_KEYS: ApiKeys = {
  keyId: "PKDEMO00000000000001",
  secret: "demo-alpaca-secret-0000000000000000000001",
  paper: true,
};

/** Refuses (400) keys that cannot be Alpaca's, before any call. */
function checkKeyShape(keyId: string, secret: string): void {
  if (!keyId || !secret) {
    throw new ConnectionFlowError("Enter both the API key id and the secret", 400);
  }
  // The keys travel in HTTP headers: anything else fails in the SDK before Alpaca sees it,
  // which would look like Alpaca being down.
  if (!HEADER_SAFE.test(keyId)) {
    throw new ConnectionFlowError(
      "The API key id may contain only letters, digits and printable symbols.",
      400,
    );
  }
  if (!HEADER_SAFE.test(secret)) {
    throw new ConnectionFlowError(
      "The secret key may contain only letters, digits and printable symbols.",
      400,
    );
  }
  if (keyId.length > ALPACA_KEY_ID_MAX) {
    throw new ConnectionFlowError(
      `The API key id may be at most ${ALPACA_KEY_ID_MAX} characters long.`,
      400,
    );
  }
  if (secret.length > ALPACA_SECRET_MAX) {
    throw new ConnectionFlowError(
      `The secret key may be at most ${ALPACA_SECRET_MAX} characters long.`,
      400,
    );
  }
}

/** Verifies keys with one account call; the account id. Keys Alpaca rejects are a 422. */
async function verifyAlpacaKeys(deps: SyncDeps, creds: AlpacaCredentials): Promise<string> {
  const session = deps.providers.alpaca.interactive().session(creds);
  try {
    const [acct] = await session.listAccounts();
    return acct.external_id;
  } catch (e) {
    if (e instanceof ProviderError && e.auth) {
      throw new ConnectionFlowError(
        "Alpaca rejected these API keys: check the key id, the secret and paper/live",
        422,
      );
    }
    providerFailure(e, "Alpaca could not be reached");
  }
}

/**
 * Connects an Alpaca account by API key. The keys are checked with one account call first:
 * keys Alpaca rejects raise {@link ConnectionFlowError} (422) and nothing is stored. Keys that
 * cannot be Alpaca's (not visible ASCII, too long) are refused (400) without calling Alpaca.
 */
export async function connectAlpaca(
  deps: SyncDeps,
  userId: string,
  keys: AlpacaConnect,
): Promise<ConnectionInfo> {
  const creds: AlpacaCredentials = {
    keyId: keys.keyId.trim(),
    secret: keys.secret.trim(),
    paper: keys.paper,
  };
  checkKeyShape(creds.keyId, creds.secret);
  const accountId = await verifyAlpacaKeys(deps, creds);
  if (keys.reconnectConnectionId) {
    // Checked before anything is stored: new keys must belong to the account being repaired.
    const target = await loadConnection(deps.sql, userId, keys.reconnectConnectionId);
    if (!target || target.provider !== "alpaca") throw new NotFoundError();
    if (target.external_id !== accountId) {
      throw new ConnectionFlowError("These keys belong to a different Alpaca account", 409);
    }
  }
  return await recordConnection(deps, userId, {
    provider: "alpaca",
    externalId: accountId,
    institution: creds.paper ? "Alpaca (paper)" : "Alpaca",
    access: "trade",
    secret: JSON.stringify(creds),
    taken: () =>
      new ConnectionFlowError("This Alpaca account is already connected by another user", 409),
  });
}

/** Repairs a connection with the new keys given, or asks for them. */
export async function reconnectAlpaca(
  deps: SyncDeps,
  conn: ConnectionRow,
  input: ReconnectInput,
): Promise<ReconnectStep> {
  if (!input.keys) {
    return { kind: "needs_keys", message: "new Alpaca keys are required to reconnect" };
  }
  const connection = await connectAlpaca(deps, conn.user_id, {
    ...input.keys,
    reconnectConnectionId: conn.id,
  });
  return { kind: "repaired", connection };
}

/** Demo mode: connects the sandbox's demo account with its keys. */
export async function connectAlpacaDemo(deps: SyncDeps, userId: string): Promise<string> {
  return (await connectAlpaca(deps, userId, DEMO_KEYS)).id;
}
