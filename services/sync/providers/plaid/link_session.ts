/**
 * The Hosted Link session a person has open, remembered in PostgreSQL (`plaid_link_sessions`,
 * one per user) so that whichever api instance gets Plaid's redirect completes it, and only
 * for the user who opened it: tokens in the redirect's address are never trusted.
 * @module
 */
import type { Sql } from "@meridian/runtime";
import { ConnectionFlowError } from "../../connections/errors.ts";
import type { ConnectionInfo } from "../../connections/record.ts";
import type { SyncDeps } from "../../deps.ts";
import type { ConnectionRow } from "../../store.ts";
import type { ReconnectInput, ReconnectStep } from "../types.ts";
import { plaidWebhookUrl } from "./client.ts";
import {
  completePlaidLink,
  exchangePlaidPublicToken,
  type LinkToken,
  type PlaidLinkOptions,
  plaidLinkToken,
} from "./flows.ts";

/** Hosted Link tokens live four hours. */
const LINK_SESSION_TTL_S = 4 * 3600;

/** What a person brings back from Link. */
export interface PlaidCompletion {
  /** A public token (Link in the browser). */
  publicToken?: string;
  /** Only the remembered session with this link token. */
  linkToken?: string;
  /** Update mode: the connection being repaired. */
  reconnectId?: string;
}

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

/** Opens a Hosted Link session for the user and remembers it for its completion. */
export async function startLink(
  deps: SyncDeps,
  userId: string,
  opts: PlaidLinkOptions,
): Promise<LinkToken> {
  const t = await plaidLinkToken(deps, userId, opts);
  await putLinkSession(deps.sql, userId, t.link_token, opts.updateConnectionId);
  return t;
}

/** Completes a public token, or the user's remembered Hosted Link session. */
export async function completeLink(
  deps: SyncDeps,
  userId: string,
  opts: PlaidCompletion,
): Promise<ConnectionInfo> {
  if (opts.publicToken) return await exchangePlaidPublicToken(deps, userId, opts.publicToken);
  const remembered = await takeLinkSession(deps.sql, userId, opts.linkToken);
  if (!remembered) {
    if (opts.linkToken) {
      throw new ConnectionFlowError("That Plaid session was not found or has expired.", 404);
    }
    throw new ConnectionFlowError("The Plaid session expired. Start again.", 400);
  }
  const [first] = await completePlaidLink(deps, userId, {
    link_token: remembered.linkToken,
    updateConnectionId: opts.reconnectId ?? remembered.reconnectId,
  });
  if (!first) throw new ConnectionFlowError("No account was linked in Plaid.", 400);
  return first;
}

/** Repairs an item through Hosted Link in update mode, back to the api's callback. */
export async function reconnectPlaid(
  deps: SyncDeps,
  conn: ConnectionRow,
  input: ReconnectInput,
): Promise<ReconnectStep> {
  const t = await startLink(deps, conn.user_id, {
    redirectUrl: input.callbackUrl("plaid"),
    webhookUrl: input.relayUrl === undefined ? undefined : plaidWebhookUrl(input.relayUrl),
    updateConnectionId: conn.id,
  });
  return { kind: "redirect", url: t.hosted_link_url, link_token: t.link_token };
}
