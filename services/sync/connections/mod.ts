/**
 * Connection flows: SnapTrade (register on first use, connection portal, completion),
 * Plaid (Hosted Link, public-token exchange, update mode), Alpaca (API keys validated by one
 * account call), removal and reconnection. Every function takes the Meridian user id and
 * scopes every query to it: another user's connection id answers {@link NotFoundError}.
 * Secrets are sealed before they touch the database and never returned.
 *
 * A person waits on every flow, so their provider calls never wait long for a shared budget:
 * past `INTERACTIVE.maxWaitMs` they fail with {@link RateLimitedError} (`provider`), whose
 * wait the caller passes on as Retry-After. Callers also hold each user to
 * `INTERACTIVE.perUser` flow steps with {@link userStepLimiter}.
 *
 * Use the functions directly with a {@link SyncDeps}, or bind them once with
 * {@link connectionFlows}.
 * @module
 */
import { CountryCode, Products } from "plaid";
import { encode, subjects, SyncRequest } from "@meridian/proto";
import { createSyncDeps, flags, type SyncDeps } from "../deps.ts";
import { arr, obj, str } from "../normalise/common.ts";
import { ProviderError } from "../providers/call.ts";
import { INTERACTIVE } from "../providers/config.ts";
import { KeyedLimiter, RateLimitedError } from "../providers/rate_limit.ts";
import {
  type AlpacaSecret,
  bytes,
  connectionContext,
  openCredentials,
  providerUserContext,
} from "../secrets.ts";
import { loadConnection, loadSnaptradeUser } from "../store.ts";

export { createSyncDeps, flags, RateLimitedError };
export type { SyncDeps };

/**
 * A limiter of connection-flow steps per user (`INTERACTIVE.perUser`): `take(userId)` before
 * each step, and a user over the limit gets {@link RateLimitedError} (`user`).
 */
export function userStepLimiter(): KeyedLimiter {
  return new KeyedLimiter(INTERACTIVE.perUser.limit, INTERACTIVE.perUser.windowMs);
}

/** The connection does not exist for this user (answer 404). */
export class NotFoundError extends Error {
  override name = "NotFoundError";
  readonly status = 404;
  constructor(what = "connection") {
    super(`${what} not found`);
  }
}

/** A flow failed for a reason the user can act on; `status` is the HTTP status to answer. */
export class ConnectionFlowError extends Error {
  override name = "ConnectionFlowError";
  constructor(message: string, readonly status: 400 | 409 | 422 | 502 = 400) {
    super(message);
  }
}

/** A connection as the API may show it: never a secret. */
export interface ConnectionInfo {
  id: string;
  provider: "snaptrade" | "plaid" | "alpaca";
  institution: string;
  access: "read" | "trade";
  status: "active" | "error" | "disabled";
  status_reason: string | null;
  last_synced_at: string | null;
  created_at: string;
}

/** Whether the flows may offer trading access on SnapTrade connections. */
export function tradeAccessOffered(deps: Pick<SyncDeps, "config">): boolean {
  return flags(deps.config).snaptradeTradeExecution;
}

function providerFailure(e: unknown, what: string): never {
  if (e instanceof ProviderError) {
    // A 4xx that is not about our credentials or our rate is the provider refusing what the
    // person gave us (an expired or reused token, an unknown id): their input, not an outage.
    const refusedInput = e.status !== null && e.status >= 400 && e.status < 500 &&
      e.status !== 429 && !e.auth;
    throw new ConnectionFlowError(
      `${what}: ${e.detail || "the provider refused"}`,
      refusedInput ? 400 : 502,
    );
  }
  throw e;
}

/** Publishes a refresh request for connections of one provider; returns its request id. */
export async function requestSync(
  deps: SyncDeps,
  userId: string,
  provider: "snaptrade" | "plaid" | "alpaca",
  connectionIds: string[],
  reason: SyncRequest["reason"] = "manual",
): Promise<string> {
  const request_id = crypto.randomUUID();
  await deps.js.publish(
    subjects.syncRequest(provider, userId),
    encode(SyncRequest, {
      request_id,
      user_id: userId,
      provider,
      connection_ids: connectionIds,
      reason,
      requested_at: new Date().toISOString(),
    }),
    { msgID: request_id },
  );
  return request_id;
}

/** The user's connections. */
export async function listConnections(deps: SyncDeps, userId: string): Promise<ConnectionInfo[]> {
  const rows = await deps.sql<ConnectionRowView[]>`
    select id, provider, institution, access, status, status_reason, last_synced_at, created_at
    from connections where user_id = ${userId} order by created_at, id`;
  return rows.map(info);
}

/** A `connections` row as the queries below select it. */
interface ConnectionRowView {
  id: string;
  provider: ConnectionInfo["provider"];
  institution: string;
  access: ConnectionInfo["access"];
  status: ConnectionInfo["status"];
  status_reason: string | null;
  last_synced_at: Date | null;
  created_at: Date;
}

function info(r: ConnectionRowView): ConnectionInfo {
  return {
    id: r.id,
    provider: r.provider,
    institution: r.institution,
    access: r.access,
    status: r.status,
    status_reason: r.status_reason ?? null,
    last_synced_at: r.last_synced_at ? new Date(r.last_synced_at).toISOString() : null,
    created_at: new Date(r.created_at).toISOString(),
  };
}

async function connectionInfo(deps: SyncDeps, userId: string, id: string) {
  const [r] = await deps.sql<ConnectionRowView[]>`
    select id, provider, institution, access, status, status_reason, last_synced_at, created_at
    from connections where id = ${id} and user_id = ${userId}`;
  if (!r) throw new NotFoundError();
  return info(r);
}

// ---- SnapTrade ------------------------------------------------------------------------------

/** The SnapTrade user id Meridian registers for a Meridian user (no personal data in it). */
export function snaptradeUserId(userId: string): string {
  return `meridian-${userId}`;
}

/**
 * The user's SnapTrade credentials, registering the user at SnapTrade on first use. The
 * user secret is sealed (AAD: provider_users/secret_ciphertext/<user>:snaptrade/<user>).
 */
export async function ensureSnaptradeUser(
  deps: SyncDeps,
  userId: string,
): Promise<{ userId: string; userSecret: string }> {
  const existing = await loadSnaptradeUser(deps.sql, userId);
  if (existing) {
    const userSecret = await deps.keyring.open(
      { keyId: existing.secret_key_id, ciphertext: bytes(existing.secret_ciphertext) },
      providerUserContext(userId),
    );
    return { userId: existing.external_user_id, userSecret };
  }
  const st = deps.adapters.snaptrade.interactive();
  return await deps.sql.begin(async (tx) => {
    // One registration per user, even when two requests race.
    await tx`select pg_advisory_xact_lock(hashtextextended(${
      "meridian.snaptrade-user:" + userId
    }, 0))`;
    const [again] = await tx<
      { external_user_id: string; secret_key_id: string; secret_ciphertext: Uint8Array }[]
    >`
      select external_user_id, secret_key_id, secret_ciphertext from provider_users
      where user_id = ${userId} and provider = 'snaptrade'`;
    if (again) {
      const userSecret = await deps.keyring.open(
        { keyId: again.secret_key_id, ciphertext: bytes(again.secret_ciphertext) },
        providerUserContext(userId),
      );
      return { userId: again.external_user_id, userSecret };
    }
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

/** Options of {@link snaptradePortalUrl}. */
export interface SnaptradePortalOptions {
  /** `trade` is honoured only when FF_SNAPTRADE_TRADE_EXECUTION is on. */
  access?: "read" | "trade";
  /** A SnapTrade broker slug, e.g. `QUESTRADE`. */
  broker?: string;
  /** Repair this (Meridian) connection instead of adding a new one. */
  reconnectConnectionId?: string;
  /** Where the portal sends the browser back (`?status=SUCCESS&connection_id=…`). */
  redirectUrl: string;
}

/** What a SnapTrade broker slug looks like (e.g. `QUESTRADE`, `INTERACTIVE-BROKERS`). */
const BROKER_SLUG = /^[A-Za-z0-9_-]{1,64}$/;

/** A connection-portal URL for the user (expires after about five minutes). */
export async function snaptradePortalUrl(
  deps: SyncDeps,
  userId: string,
  opts: SnaptradePortalOptions,
): Promise<{ url: string; access: "read" | "trade" }> {
  // The api checks the slug too, but every caller of the flow gets here.
  if (opts.broker !== undefined && !BROKER_SLUG.test(opts.broker)) {
    throw new ConnectionFlowError(
      "The broker must be a SnapTrade broker code such as QUESTRADE: letters, digits, - and _.",
      400,
    );
  }
  let reconnect: string | undefined;
  if (opts.reconnectConnectionId) {
    const conn = await loadConnection(deps.sql, userId, opts.reconnectConnectionId);
    if (!conn || conn.provider !== "snaptrade") throw new NotFoundError();
    reconnect = conn.external_id;
  }
  const access = opts.access === "trade" && tradeAccessOffered(deps) ? "trade" : "read";
  const user = await ensureSnaptradeUser(deps, userId);
  const st = deps.adapters.snaptrade.interactive();
  const res = await st.call(
    "loginSnapTradeUser",
    () =>
      st.client.authentication.loginSnapTradeUser({
        ...user,
        customRedirect: opts.redirectUrl,
        connectionType: access,
        ...(opts.broker ? { broker: opts.broker } : {}),
        ...(reconnect ? { reconnect } : {}),
      }),
  ).catch((e) => providerFailure(e, "SnapTrade portal unavailable"));
  const url = str(obj(res.data).redirectURI);
  if (!url) throw new ConnectionFlowError("SnapTrade returned no portal URL", 502);
  return { url, access };
}

/**
 * Completes a portal visit: verifies that `authorizationId` (the portal's `connection_id`)
 * belongs to this user at SnapTrade, records the connection (or repairs it) and requests
 * its initial sync.
 */
export async function completeSnaptradeConnection(
  deps: SyncDeps,
  userId: string,
  authorizationId: string,
): Promise<ConnectionInfo> {
  const user = await ensureSnaptradeUser(deps, userId);
  const st = deps.adapters.snaptrade.interactive();
  const res = await st.call(
    "listBrokerageAuthorizations",
    () => st.client.connections.listBrokerageAuthorizations(user),
  ).catch((e) => providerFailure(e, "SnapTrade did not confirm the connection"));
  const auth = arr(res.data).map(obj).find((a) => a.id === authorizationId);
  if (!auth) throw new NotFoundError("SnapTrade connection");
  const brokerage = obj(auth.brokerage);
  const institution = (str(brokerage.display_name) ?? str(brokerage.name) ?? str(auth.name) ??
    "SnapTrade").slice(0, 200);
  const access = auth.type === "trade" && tradeAccessOffered(deps) ? "trade" : "read";
  const id = crypto.randomUUID();
  const [row] = await deps.sql<{ id: string }[]>`
    insert into connections (id, user_id, provider, external_id, access, institution)
    values (${id}, ${userId}, 'snaptrade', ${authorizationId}, ${access}, ${institution})
    on conflict (provider, external_id) do update set access = excluded.access,
      institution = excluded.institution, status = 'active', status_reason = null, updated_at = now()
    where connections.user_id = excluded.user_id
    returning id`;
  if (!row) throw new NotFoundError("SnapTrade connection");
  await requestSync(deps, userId, "snaptrade", [row.id], "initial");
  return await connectionInfo(deps, userId, row.id);
}

// ---- Plaid ----------------------------------------------------------------------------------

/** Options of {@link plaidLinkToken}. */
export interface PlaidLinkOptions {
  /** Where Hosted Link sends the browser when done. */
  redirectUrl: string;
  /** Where Plaid sends the item's webhooks (the relay). */
  webhookUrl?: string;
  /** Update mode: repair this (Meridian) connection's item. */
  updateConnectionId?: string;
}

/** A Hosted Link session for the user. */
export async function plaidLinkToken(
  deps: SyncDeps,
  userId: string,
  opts: PlaidLinkOptions,
): Promise<{ link_token: string; hosted_link_url: string | null; expiration: string }> {
  let access_token: string | undefined;
  if (opts.updateConnectionId) {
    const conn = await loadConnection(deps.sql, userId, opts.updateConnectionId);
    if (!conn || conn.provider !== "plaid") throw new NotFoundError();
    const creds = await openCredentials(deps.keyring, conn);
    if (creds.provider === "plaid") access_token = creds.accessToken;
  }
  const pl = deps.adapters.plaid.interactive();
  const res = await pl.call("linkTokenCreate", () =>
    pl.client.linkTokenCreate({
      user: { client_user_id: userId },
      client_name: "Meridian",
      language: "en",
      country_codes: [CountryCode.Us],
      ...(access_token ? { access_token } : { products: [Products.Investments] }),
      ...(opts.webhookUrl ? { webhook: opts.webhookUrl } : {}),
      hosted_link: { completion_redirect_uri: opts.redirectUrl },
    })).catch((e) => providerFailure(e, "Plaid Link unavailable"));
  return {
    link_token: res.data.link_token,
    hosted_link_url: res.data.hosted_link_url ?? null,
    expiration: res.data.expiration,
  };
}

/**
 * Exchanges a public token for an item: the access token is sealed, the item id recorded as
 * the connection's external id, and the initial sync requested.
 */
export async function exchangePlaidPublicToken(
  deps: SyncDeps,
  userId: string,
  publicToken: string,
  institutionName?: string,
): Promise<ConnectionInfo> {
  const pl = deps.adapters.plaid.interactive();
  const ex = await pl.call(
    "itemPublicTokenExchange",
    () => pl.client.itemPublicTokenExchange({ public_token: publicToken }),
  ).catch((e) => providerFailure(e, "Plaid did not accept the link"));
  const { access_token, item_id } = ex.data;
  let institution = institutionName ?? null;
  if (!institution) {
    const item = await pl.call("itemGet", () => pl.client.itemGet({ access_token })).catch(() =>
      null
    );
    const it = obj(item?.data.item);
    institution = str(it.institution_name) ?? str(it.institution_id);
  }
  institution = (institution ?? "Plaid institution").slice(0, 200);
  const [existing] = await deps.sql<{ id: string; user_id: string }[]>`
    select id, user_id from connections where provider = 'plaid' and external_id = ${item_id}`;
  if (existing && existing.user_id !== userId) throw new NotFoundError("Plaid item");
  const id = existing?.id ?? crypto.randomUUID();
  const sealed = await deps.keyring.seal(access_token, connectionContext(id, userId));
  await deps.sql`
    insert into connections (id, user_id, provider, external_id, institution, secret_key_id, secret_ciphertext)
    values (${id}, ${userId}, 'plaid', ${item_id}, ${institution}, ${sealed.keyId}, ${sealed.ciphertext})
    on conflict (provider, external_id) do update set secret_key_id = excluded.secret_key_id,
      secret_ciphertext = excluded.secret_ciphertext, status = 'active', status_reason = null,
      updated_at = now()
    where connections.user_id = excluded.user_id`;
  await requestSync(deps, userId, "plaid", [id], "initial");
  return await connectionInfo(deps, userId, id);
}

/**
 * Completes a Hosted Link session: every item the session added is exchanged and recorded.
 * In update mode (`updateConnectionId`), the repaired connection is marked active and synced.
 */
export async function completePlaidLink(
  deps: SyncDeps,
  userId: string,
  opts: { link_token: string; updateConnectionId?: string },
): Promise<ConnectionInfo[]> {
  const pl = deps.adapters.plaid.interactive();
  const res = await pl.call(
    "linkTokenGet",
    () => pl.client.linkTokenGet({ link_token: opts.link_token }),
  ).catch((e) => providerFailure(e, "Plaid Link session not found"));
  const out: ConnectionInfo[] = [];
  for (const s of arr(res.data.link_sessions)) {
    for (const r of arr(obj(obj(s).results).item_add_results)) {
      const token = str(obj(r).public_token);
      if (!token) continue;
      out.push(
        await exchangePlaidPublicToken(
          deps,
          userId,
          token,
          str(obj(obj(r).institution).name) ?? undefined,
        ),
      );
    }
  }
  if (opts.updateConnectionId && out.length === 0) {
    const conn = await loadConnection(deps.sql, userId, opts.updateConnectionId);
    if (!conn) throw new NotFoundError();
    await deps
      .sql`update connections set status = 'active', status_reason = null, updated_at = now()
      where id = ${conn.id} and user_id = ${userId}`;
    await requestSync(deps, userId, "plaid", [conn.id], "initial");
    out.push(await connectionInfo(deps, userId, conn.id));
  }
  return out;
}

// ---- Alpaca ---------------------------------------------------------------------------------

/** Visible ASCII, no spaces or control characters: what Alpaca keys are made of. */
const HEADER_SAFE = /^[\x21-\x7e]+$/;
/** Well above the length of Alpaca's keys, low enough to refuse pasted garbage. */
const ALPACA_KEY_ID_MAX = 64;
const ALPACA_SECRET_MAX = 128;

/**
 * Connects an Alpaca account by API key. The keys are checked with one account call first:
 * keys Alpaca rejects raise {@link ConnectionFlowError} (422) and nothing is stored. Keys that
 * cannot be Alpaca's (not visible ASCII, too long) are refused (400) without calling Alpaca.
 */
export async function connectAlpaca(
  deps: SyncDeps,
  userId: string,
  keys: { keyId: string; secret: string; paper: boolean; reconnectConnectionId?: string },
): Promise<ConnectionInfo> {
  const keyId = keys.keyId.trim();
  const secret = keys.secret.trim();
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
  const session = deps.adapters.alpaca.interactive().session({
    provider: "alpaca",
    keyId,
    secret,
    paper: keys.paper,
  });
  let accountId: string;
  try {
    const [acct] = await session.listAccounts();
    accountId = acct.external_id;
  } catch (e) {
    if (e instanceof ProviderError && e.auth) {
      throw new ConnectionFlowError(
        "Alpaca rejected these API keys: check the key id, the secret and paper/live",
        422,
      );
    }
    providerFailure(e, "Alpaca could not be reached");
  }
  if (keys.reconnectConnectionId) {
    // Checked before anything is stored: new keys must belong to the account being repaired.
    const target = await loadConnection(deps.sql, userId, keys.reconnectConnectionId);
    if (!target || target.provider !== "alpaca") throw new NotFoundError();
    if (target.external_id !== accountId) {
      throw new ConnectionFlowError("These keys belong to a different Alpaca account", 409);
    }
  }
  const [existing] = await deps.sql<{ id: string; user_id: string }[]>`
    select id, user_id from connections where provider = 'alpaca' and external_id = ${accountId}`;
  if (existing && existing.user_id !== userId) {
    throw new ConnectionFlowError("This Alpaca account is already connected by another user", 409);
  }
  const id = existing?.id ?? crypto.randomUUID();
  const payload: AlpacaSecret = { keyId, secret, paper: keys.paper };
  const sealed = await deps.keyring.seal(JSON.stringify(payload), connectionContext(id, userId));
  const institution = keys.paper ? "Alpaca (paper)" : "Alpaca";
  await deps.sql`
    insert into connections (id, user_id, provider, external_id, access, institution, secret_key_id, secret_ciphertext)
    values (${id}, ${userId}, 'alpaca', ${accountId}, 'trade', ${institution}, ${sealed.keyId}, ${sealed.ciphertext})
    on conflict (provider, external_id) do update set secret_key_id = excluded.secret_key_id,
      secret_ciphertext = excluded.secret_ciphertext, institution = excluded.institution,
      status = 'active', status_reason = null, updated_at = now()
    where connections.user_id = excluded.user_id`;
  await requestSync(deps, userId, "alpaca", [id], "initial");
  return await connectionInfo(deps, userId, id);
}

// ---- Removal and reconnection -----------------------------------------------------------------

/**
 * Removes a connection: at the provider where that exists (SnapTrade authorization, Plaid
 * item), then its rows (accounts, positions, balances, transactions cascade).
 */
export async function removeConnection(
  deps: SyncDeps,
  userId: string,
  connectionId: string,
): Promise<void> {
  const conn = await loadConnection(deps.sql, userId, connectionId);
  if (!conn) throw new NotFoundError();
  try {
    if (conn.provider === "snaptrade") {
      const user = await ensureSnaptradeUser(deps, userId);
      const st = deps.adapters.snaptrade.interactive();
      await st.call(
        "removeBrokerageAuthorization",
        () =>
          st.client.connections.removeBrokerageAuthorization({
            ...user,
            authorizationId: conn.external_id,
          }),
      );
    } else if (conn.provider === "plaid") {
      const creds = await openCredentials(deps.keyring, conn);
      const pl = deps.adapters.plaid.interactive();
      if (creds.provider === "plaid") {
        await pl.call(
          "itemRemove",
          () => pl.client.itemRemove({ access_token: creds.accessToken }),
        );
      }
    }
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

/** What the user must do to repair a connection. */
export type ReconnectStep =
  | { provider: "snaptrade"; url: string }
  | { provider: "plaid"; link_token: string; hosted_link_url: string | null }
  | { provider: "alpaca"; action: "enter_new_keys" };

/** Starts repairing a connection (portal in reconnect mode, Link in update mode, new keys). */
export async function reconnect(
  deps: SyncDeps,
  userId: string,
  connectionId: string,
  opts: { redirectUrl: string; webhookUrl?: string },
): Promise<ReconnectStep> {
  const conn = await loadConnection(deps.sql, userId, connectionId);
  if (!conn) throw new NotFoundError();
  if (conn.provider === "snaptrade") {
    const { url } = await snaptradePortalUrl(deps, userId, {
      access: conn.access,
      reconnectConnectionId: conn.id,
      redirectUrl: opts.redirectUrl,
    });
    return { provider: "snaptrade", url };
  }
  if (conn.provider === "plaid") {
    const t = await plaidLinkToken(deps, userId, { ...opts, updateConnectionId: conn.id });
    return { provider: "plaid", link_token: t.link_token, hosted_link_url: t.hosted_link_url };
  }
  return { provider: "alpaca", action: "enter_new_keys" };
}

/** Every flow bound to one set of dependencies. */
export function connectionFlows(deps: SyncDeps) {
  return {
    listConnections: (userId: string) => listConnections(deps, userId),
    requestSync: (
      userId: string,
      provider: "snaptrade" | "plaid" | "alpaca",
      ids: string[],
      reason?: SyncRequest["reason"],
    ) => requestSync(deps, userId, provider, ids, reason),
    snaptradePortalUrl: (userId: string, opts: SnaptradePortalOptions) =>
      snaptradePortalUrl(deps, userId, opts),
    completeSnaptradeConnection: (userId: string, connectionId: string) =>
      completeSnaptradeConnection(deps, userId, connectionId),
    plaidLinkToken: (userId: string, opts: PlaidLinkOptions) => plaidLinkToken(deps, userId, opts),
    completePlaidLink: (
      userId: string,
      opts: { link_token: string; updateConnectionId?: string },
    ) => completePlaidLink(deps, userId, opts),
    exchangePlaidPublicToken: (userId: string, publicToken: string) =>
      exchangePlaidPublicToken(deps, userId, publicToken),
    connectAlpaca: (
      userId: string,
      keys: { keyId: string; secret: string; paper: boolean; reconnectConnectionId?: string },
    ) => connectAlpaca(deps, userId, keys),
    removeConnection: (userId: string, id: string) => removeConnection(deps, userId, id),
    reconnect: (userId: string, id: string, opts: { redirectUrl: string; webhookUrl?: string }) =>
      reconnect(deps, userId, id, opts),
    tradeAccessOffered: () => tradeAccessOffered(deps),
  };
}
