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
  createSyncDeps,
  plaidWebhookUrl,
  RateLimitedError,
  reconnect,
  type ReconnectStep,
  removeConnection,
  type SyncDeps,
  userStepLimiter,
} from "@meridian/sync/connections";
import { ApiError, retryLater } from "./http.ts";
import { asSentence } from "./sentences.ts";
import type { ConnectionsPort, ReconnectAnswer } from "./ports.ts";

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
      // The flows word their refusals for people; here they become whole sentences.
      throw new ApiError(
        err.status as 400,
        asSentence(err.message ?? "") || "The connection failed.",
      );
    }
    throw e;
  }
}

/** The api's answer for a step of repairing a connection. */
function answer(step: ReconnectStep): ReconnectAnswer {
  switch (step.kind) {
    case "redirect":
      return { kind: "next", url: step.url, linkToken: step.link_token };
    case "repaired":
      return { kind: "next", url: null, linkToken: null };
    case "needs_keys":
      return step;
  }
}

/** "Alpaca (paper) · Alpaca PA3DEMO0001 ···0001": the connection's institution and account. */
export function connectedAs(
  institution: string,
  account: { name: string; number_mask: string | null } | undefined,
): string {
  if (!account) return institution;
  const mask = account.number_mask && !account.name.endsWith(account.number_mask)
    ? ` ···${account.number_mask}`
    : "";
  return `${institution} · ${account.name}${mask}`;
}

/**
 * Refuses (409) an Alpaca key this user has already connected, before Alpaca is called or
 * anything is stored. The key ids are sealed with the secrets, so each of the user's Alpaca
 * connections is opened and compared here; neither key id nor secret is logged or answered.
 */
async function refuseKnownAlpacaKey(deps: SyncDeps, userId: string, keyId: string) {
  const rows = await deps.sql<{
    id: string;
    user_id: string;
    provider: "alpaca";
    external_id: string;
    institution: string;
    secret_key_id: string | null;
    secret_ciphertext: Uint8Array | null;
  }[]>`
    select id, user_id, provider, external_id, institution, secret_key_id, secret_ciphertext
      from connections
     where user_id = ${userId} and provider = 'alpaca' and secret_ciphertext is not null
     order by created_at, id`;
  const wanted = keyId.trim();
  for (const row of rows) {
    // A secret that no longer opens (its key retired) cannot match: that connection is
    // repaired with Reconnect, not here.
    const creds = await deps.providers.alpaca.credentials(deps, row).catch(() => null);
    if (creds?.keyId !== wanted) continue;
    const [account] = await deps.sql<{ name: string; number_mask: string | null }[]>`
      select name, number_mask from accounts
       where connection_id = ${row.id} and user_id = ${userId}
       order by name, id limit 1`;
    throw new ApiError(
      409,
      `This Alpaca key is already connected as ${connectedAs(row.institution, account)}.`,
    );
  }
}

/** The flows over one set of sync dependencies. */
export function connectionsPortFrom(deps: SyncDeps, relayPublicUrl: string): ConnectionsPort {
  const { snaptrade, plaid, alpaca } = deps.providers;
  // Each method is one flow step a person asked for and counts against their own limit, so
  // nobody can spend the provider budgets everyone shares.
  const steps = userStepLimiter();
  const step = <T>(userId: string, fn: () => Promise<T>) =>
    mapped(() => {
      steps.take(userId);
      return fn();
    });
  const connected = (info: { id: string }) => ({ connectionId: info.id });
  return {
    snaptradePortal: (userId, opts) =>
      step(userId, async () => {
        const { url } = await snaptrade.start(deps, userId, {
          access: opts.access,
          broker: opts.broker,
          reconnectConnectionId: opts.reconnectId,
          redirectUrl: opts.redirectUrl,
        });
        return { url };
      }),
    snaptradeComplete: (userId, opts) =>
      step(
        userId,
        async () =>
          connected(
            await snaptrade.complete(deps, userId, { authorizationId: opts.authorizationId }),
          ),
      ),
    plaidLinkToken: (userId, opts) =>
      step(userId, async () => {
        const t = await plaid.start(deps, userId, {
          redirectUrl: opts.completionRedirectUrl,
          webhookUrl: plaidWebhookUrl(relayPublicUrl),
          updateConnectionId: opts.reconnectId,
        });
        return {
          linkToken: t.link_token,
          hostedLinkUrl: t.hosted_link_url,
          expiration: t.expiration ? new Date(t.expiration).toISOString() : null,
        };
      }),
    plaidComplete: (userId, opts) =>
      step(userId, async () => connected(await plaid.complete(deps, userId, opts))),
    alpacaConnect: (userId, opts) =>
      step(userId, async () => {
        if (!opts.reconnectId) await refuseKnownAlpacaKey(deps, userId, opts.keyId);
        return connected(
          await alpaca.complete(deps, userId, {
            keyId: opts.keyId,
            secret: opts.secretKey,
            paper: opts.paper,
            reconnectConnectionId: opts.reconnectId,
          }),
        );
      }),
    reconnect: (userId, id, opts) =>
      step(userId, async () =>
        answer(
          await reconnect(deps, userId, id, {
            callbackUrl: opts.callbackUrl,
            relayUrl: relayPublicUrl,
            keys: opts.keys && {
              keyId: opts.keys.keyId,
              secret: opts.keys.secretKey,
              paper: opts.keys.paper,
            },
          }),
        )),
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
