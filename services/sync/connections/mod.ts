/**
 * Connection flows (`@meridian/sync/connections`). Connecting starts and completes at each
 * provider in its own way (`providers/<name>/flows.ts`, re-exported here); removing and
 * repairing a connection are the same for all, routed to its provider by key. Every function
 * takes the Meridian user id and scopes every query to it: another user's connection id answers
 * {@link NotFoundError}. Secrets are sealed before they touch the database and never returned.
 *
 * A person waits on every flow, so their provider calls never wait long for a shared budget:
 * past `INTERACTIVE.maxWaitMs` they fail with {@link RateLimitedError} (`provider`), whose
 * wait the caller passes on as Retry-After. Callers also hold each user to
 * `INTERACTIVE.perUser` flow steps with {@link userStepLimiter}.
 * @module
 */
import { createSyncDeps, type SyncDeps } from "../deps.ts";
import { ProviderError } from "../providers/call.ts";
import { INTERACTIVE } from "../providers/config.ts";
import { KeyedLimiter, RateLimitedError } from "../providers/rate_limit.ts";
import type { ReconnectInput, ReconnectStep } from "../providers/types.ts";
import { loadConnection } from "../store.ts";
import { NotFoundError } from "./errors.ts";

export { ConnectionFlowError, NotFoundError } from "./errors.ts";
export type { ConnectionInfo } from "./record.ts";
export { ensureSnaptradeUser } from "../providers/snaptrade/user.ts";
export { completeSnaptradeConnection, snaptradePortalUrl } from "../providers/snaptrade/flows.ts";
export {
  completePlaidLink,
  exchangePlaidPublicToken,
  plaidLinkToken,
} from "../providers/plaid/flows.ts";
export { plaidWebhookUrl } from "../providers/plaid/client.ts";
export { connectAlpaca } from "../providers/alpaca/flows.ts";
export type { ApiKeys, ReconnectInput, ReconnectStep } from "../providers/types.ts";
export { createSyncDeps, RateLimitedError };
export type { SyncDeps };

/**
 * A limiter of connection-flow steps per user (`INTERACTIVE.perUser`): `take(userId)` before
 * each step, and a user over the limit gets {@link RateLimitedError} (`user`).
 */
export function userStepLimiter(): KeyedLimiter {
  return new KeyedLimiter(INTERACTIVE.perUser.limit, INTERACTIVE.perUser.windowMs);
}

/** The user's connection; another user's id is {@link NotFoundError}. */
async function ownConnection(deps: SyncDeps, userId: string, connectionId: string) {
  const conn = await loadConnection(deps.sql, userId, connectionId);
  if (!conn) throw new NotFoundError();
  return conn;
}

/**
 * Removes a connection: at its provider where it has something there (SnapTrade
 * authorization, Plaid item), then its rows (accounts, positions, balances, transactions
 * cascade).
 */
export async function removeConnection(
  deps: SyncDeps,
  userId: string,
  connectionId: string,
): Promise<void> {
  const conn = await ownConnection(deps, userId, connectionId);
  try {
    await deps.providers.providerFor(conn.provider).removeAtProvider(deps, conn);
  } catch (e) {
    // Our own budget is full: nothing is known about the provider side, so keep the row and
    // let the person retry rather than leave the authorization or item behind.
    if (e instanceof RateLimitedError) throw e;
    // Already gone at the provider, or unreachable: the local removal still goes ahead.
    deps.log.warn("provider-side removal failed", {
      connection_id: conn.id,
      provider: conn.provider,
      error: e instanceof ProviderError ? e.message : String((e as Error)?.name ?? e),
    });
  }
  await deps.sql`delete from connections where id = ${conn.id} and user_id = ${userId}`;
}

/**
 * Starts repairing a connection, the way its provider does it: its pages (SnapTrade's portal in
 * reconnect mode, Plaid's Hosted Link in update mode) or new API keys (Alpaca).
 */
export async function reconnect(
  deps: SyncDeps,
  userId: string,
  connectionId: string,
  input: ReconnectInput,
): Promise<ReconnectStep> {
  const conn = await ownConnection(deps, userId, connectionId);
  return await deps.providers.providerFor(conn.provider).reconnect(deps, conn, input);
}
