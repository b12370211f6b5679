/**
 * Connecting Plaid: Hosted Link sessions (new, or update mode to repair an item), public-token
 * exchange, and removal of the item. Every function takes the Meridian user id and scopes
 * every query to it; a person waits on each, so its calls use the interactive budget.
 * @module
 */
import { CountryCode, Products } from "plaid";
import { publishSyncRequest } from "@meridian/portfolio";
import { submitHostedForm } from "@meridian/sandbox/html_form";
import { NotFoundError, providerFailure } from "../../connections/errors.ts";
import { type ConnectionInfo, connectionInfo, recordConnection } from "../../connections/record.ts";
import type { SyncDeps } from "../../deps.ts";
import { arr, obj, str } from "../../normalise/json.ts";
import { type ConnectionRow, loadConnection } from "../../store.ts";
import { plaidWebhookUrl } from "./client.ts";

/** Options of {@link plaidLinkToken}. */
export interface PlaidLinkOptions {
  /** Where Hosted Link sends the browser when done. */
  redirectUrl: string;
  /** Where Plaid sends the item's webhooks (the relay). */
  webhookUrl?: string;
  /** Update mode: repair this (Meridian) connection's item. */
  updateConnectionId?: string;
}

/** A Hosted Link session. */
export interface LinkToken {
  link_token: string;
  hosted_link_url: string | null;
  expiration: string;
}

/** A Hosted Link session for the user. */
export async function plaidLinkToken(
  deps: SyncDeps,
  userId: string,
  opts: PlaidLinkOptions,
): Promise<LinkToken> {
  const pl = deps.providers.plaid.interactive();
  let access_token: string | undefined;
  if (opts.updateConnectionId) {
    const conn = await loadConnection(deps.sql, userId, opts.updateConnectionId);
    if (!conn || conn.provider !== "plaid") throw new NotFoundError();
    access_token = (await pl.credentials(deps, conn)).accessToken;
  }
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
  const pl = deps.providers.plaid.interactive();
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
  return await recordConnection(deps, userId, {
    provider: "plaid",
    externalId: item_id,
    institution: (institution ?? "Plaid institution").slice(0, 200),
    access: "read",
    secret: access_token,
    keepInstitution: true,
    taken: () => new NotFoundError("Plaid item"),
  });
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
  const pl = deps.providers.plaid.interactive();
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
    await publishSyncRequest(deps.js, {
      userId,
      provider: "plaid",
      connectionIds: [conn.id],
      reason: "initial",
    });
    out.push(await connectionInfo(deps, userId, conn.id));
  }
  return out;
}

/** Removes the connection's item at Plaid. */
export async function removeItem(deps: SyncDeps, conn: ConnectionRow): Promise<void> {
  const pl = deps.providers.plaid.interactive();
  const { accessToken } = await pl.credentials(deps, conn);
  await pl.call("itemRemove", () => pl.client.itemRemove({ access_token: accessToken }));
}

/** Demo mode: connects the sandbox's item through Hosted Link. */
export async function connectPlaidDemo(
  deps: SyncDeps,
  userId: string,
  redirectUrl: string,
): Promise<string> {
  const t = await plaidLinkToken(deps, userId, {
    redirectUrl,
    webhookUrl: plaidWebhookUrl(deps.config.RELAY_PUBLIC_URL),
  });
  if (!t.hosted_link_url) throw new Error("Plaid returned no hosted link");
  await submitHostedForm(t.hosted_link_url);
  const [c] = await completePlaidLink(deps, userId, { link_token: t.link_token });
  if (!c) throw new Error("Hosted Link added no item");
  return c.id;
}
