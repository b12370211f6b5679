/**
 * The connection flows as the api uses them, backed by `@meridian/sync/connections`. Errors
 * the person can act on become {@link ApiError}s with the flow's status; another user's
 * connection is simply not found. Each user may take `INTERACTIVE.perUser` flow steps a
 * minute (then 429), and a step that would wait long for a shared provider budget answers
 * 503; both with Retry-After.
 * @module
 */
import { type Config, keyringFromConfig, type Logger, type Sql } from "@meridian/runtime";
import type { NatsConnection } from "@nats-io/transport-node";
import {
  completePlaidLink,
  completeSnaptradeConnection,
  connectAlpaca,
  createSyncDeps,
  exchangePlaidPublicToken,
  plaidLinkToken,
  RateLimitedError,
  removeConnection,
  snaptradePortalUrl,
  type SyncDeps,
  userStepLimiter,
} from "@meridian/sync/connections";
import { ApiError, retryLater } from "./http.ts";
import type { ConnectionsPort } from "./ports.ts";

/**
 * A step not taken for want of budget: 429 when it is this person's own limit, 503 when it is
 * a provider budget everybody shares. Either way Retry-After says when to come back.
 */
function notNow(e: RateLimitedError): ApiError {
  const s = e.retryAfterS;
  return e.scope === "user"
    ? retryLater(429, `Too many connection requests. Try again in ${s} s.`, s)
    : retryLater(503, `The brokerage service is busy. Try again in ${s} s.`, s);
}

async function mapped<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof RateLimitedError) throw notNow(e);
    const err = e as { name?: string; status?: number; message?: string };
    if (err?.name === "NotFoundError") throw new ApiError(404, "That connection was not found.");
    if (err?.name === "ConnectionFlowError" && typeof err.status === "number") {
      throw new ApiError(err.status as 400, err.message ?? "The connection failed.");
    }
    throw e;
  }
}

/** Hosted Link tokens live four hours. */
const LINK_SESSION_TTL_S = 4 * 3600;

/** Remembers the user's open Plaid Hosted Link session, for whichever instance completes it. */
async function putLinkSession(sql: Sql, userId: string, linkToken: string, reconnectId?: string) {
  await sql`
    insert into plaid_link_sessions (user_id, link_token, reconnect_connection_id)
    values (${userId}, ${linkToken}, ${reconnectId ?? null})
    on conflict (user_id) do update set link_token = excluded.link_token,
      reconnect_connection_id = excluded.reconnect_connection_id, created_at = now()`;
}

/**
 * Takes (and forgets) the user's open Hosted Link session, unless it has expired. Given a
 * `linkToken`, only the session with that token: a link token issued to anyone else is never
 * this user's to complete.
 */
async function takeLinkSession(sql: Sql, userId: string, linkToken?: string) {
  const only = linkToken === undefined ? sql`` : sql`and link_token = ${linkToken}`;
  const [s] = await sql<
    { link_token: string; reconnect_connection_id: string | null; fresh: boolean }[]
  >`
    delete from plaid_link_sessions where user_id = ${userId} ${only}
    returning link_token, reconnect_connection_id,
      created_at > now() - ${LINK_SESSION_TTL_S} * interval '1 second' as fresh`;
  return s?.fresh
    ? { linkToken: s.link_token, reconnectId: s.reconnect_connection_id ?? undefined }
    : undefined;
}

/** The flows over one set of sync dependencies. */
export function connectionsPortFrom(deps: SyncDeps, relayPublicUrl: string): ConnectionsPort {
  const webhookUrl = `${relayPublicUrl.replace(/\/+$/, "")}/webhooks/plaid`;
  // Each method is one flow step a person asked for and counts against their own limit, so
  // nobody can spend the provider budgets everyone shares.
  const steps = userStepLimiter();
  const step = <T>(userId: string, fn: () => Promise<T>) =>
    mapped(() => {
      steps.take(userId);
      return fn();
    });
  return {
    snaptradePortal: (userId, opts) =>
      step(userId, async () => {
        const { url } = await snaptradePortalUrl(deps, userId, {
          access: opts.access,
          broker: opts.broker,
          reconnectConnectionId: opts.reconnectId,
          redirectUrl: opts.redirectUrl,
        });
        return { url };
      }),
    snaptradeComplete: (userId, opts) =>
      step(userId, async () => {
        const info = await completeSnaptradeConnection(deps, userId, opts.authorizationId);
        return { connectionId: info.id };
      }),
    plaidLinkToken: (userId, opts) =>
      step(userId, async () => {
        const t = await plaidLinkToken(deps, userId, {
          redirectUrl: opts.completionRedirectUrl,
          webhookUrl,
          updateConnectionId: opts.reconnectId,
        });
        await putLinkSession(deps.sql, userId, t.link_token, opts.reconnectId);
        return {
          linkToken: t.link_token,
          hostedLinkUrl: t.hosted_link_url,
          expiration: t.expiration ? new Date(t.expiration).toISOString() : null,
        };
      }),
    plaidComplete: (userId, opts) =>
      step(userId, async () => {
        if (opts.publicToken) {
          const info = await exchangePlaidPublicToken(deps, userId, opts.publicToken);
          return { connectionId: info.id };
        }
        const remembered = await takeLinkSession(deps.sql, userId, opts.linkToken);
        if (!remembered) {
          if (opts.linkToken) {
            throw new ApiError(404, "That Plaid session was not found or has expired.");
          }
          throw new ApiError(400, "The Plaid session expired. Start again.");
        }
        const infos = await completePlaidLink(deps, userId, {
          link_token: remembered.linkToken,
          updateConnectionId: opts.reconnectId ?? remembered.reconnectId,
        });
        if (!infos[0]) {
          throw new ApiError(400, "No account was linked in Plaid.");
        }
        return { connectionId: infos[0].id };
      }),
    alpacaConnect: (userId, opts) =>
      step(userId, async () => {
        const info = await connectAlpaca(deps, userId, {
          keyId: opts.keyId,
          secret: opts.secretKey,
          paper: opts.paper,
          reconnectConnectionId: opts.reconnectId,
        });
        return { connectionId: info.id };
      }),
    remove: (userId, id) => step(userId, () => removeConnection(deps, userId, id)),
  };
}

/** Builds the flows for a running service. */
export async function connectionsPort(parts: {
  sql: Sql;
  nc: NatsConnection;
  config: Config;
  log: Logger;
}): Promise<ConnectionsPort> {
  const deps = createSyncDeps({ ...parts, keyring: await keyringFromConfig(parts.config) });
  return connectionsPortFrom(deps, parts.config.RELAY_PUBLIC_URL);
}
