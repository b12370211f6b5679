/**
 * Connecting SnapTrade: the connection portal (new, or repairing one), its completion, and
 * removal of the brokerage authorization. Every function takes the Meridian user id and scopes
 * every query to it; a person waits on each, so its calls use the interactive budget.
 * @module
 */
import { submitHostedForm } from "@meridian/sandbox/html_form";
import { arr, obj, str } from "../../normalise/json.ts";
import { ConnectionFlowError, NotFoundError, providerFailure } from "../../connections/errors.ts";
import { type ConnectionInfo, recordConnection } from "../../connections/record.ts";
import type { SyncDeps } from "../../deps.ts";
import { type ConnectionRow, loadConnection } from "../../store.ts";
import type { ReconnectInput, ReconnectStep } from "../types.ts";
import { ensureSnaptradeUser } from "./user.ts";

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

/** The access a connection gets: trade only when asked for and this server allows it. */
function grantedAccess(deps: SyncDeps, asked: unknown): "read" | "trade" {
  return asked === "trade" && deps.providers.snaptrade.tradeAccess(deps.config) ? "trade" : "read";
}

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
  const access = grantedAccess(deps, opts.access);
  const user = await ensureSnaptradeUser(deps, userId);
  const st = deps.providers.snaptrade.interactive();
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
  const st = deps.providers.snaptrade.interactive();
  const res = await st.call(
    "listBrokerageAuthorizations",
    () => st.client.connections.listBrokerageAuthorizations(user),
  ).catch((e) => providerFailure(e, "SnapTrade did not confirm the connection"));
  const auth = arr(res.data).map(obj).find((a) => a.id === authorizationId);
  if (!auth) throw new NotFoundError("SnapTrade connection");
  const brokerage = obj(auth.brokerage);
  const institution = (str(brokerage.display_name) ?? str(brokerage.name) ?? str(auth.name) ??
    "SnapTrade").slice(0, 200);
  return await recordConnection(deps, userId, {
    provider: "snaptrade",
    externalId: authorizationId,
    institution,
    access: grantedAccess(deps, auth.type),
    taken: () => new NotFoundError("SnapTrade connection"),
  });
}

/** Repairs a connection through the portal in reconnect mode, back to the api's callback. */
export async function reconnectSnaptrade(
  deps: SyncDeps,
  conn: ConnectionRow,
  input: ReconnectInput,
): Promise<ReconnectStep> {
  const redirect = new URL(input.callbackUrl("snaptrade"));
  redirect.searchParams.set("access", conn.access);
  const { url } = await snaptradePortalUrl(deps, conn.user_id, {
    access: conn.access,
    reconnectConnectionId: conn.id,
    redirectUrl: redirect.toString(),
  });
  return { kind: "redirect", url, link_token: null };
}

/** Removes the connection's brokerage authorization at SnapTrade. */
export async function removeAuthorization(deps: SyncDeps, conn: ConnectionRow): Promise<void> {
  const user = await ensureSnaptradeUser(deps, conn.user_id);
  const st = deps.providers.snaptrade.interactive();
  await st.call(
    "removeBrokerageAuthorization",
    () =>
      st.client.connections.removeBrokerageAuthorization({
        ...user,
        authorizationId: conn.external_id,
      }),
  );
}

/** One of the demo user's SnapTrade connections. */
export interface SnaptradeDemoConnection {
  /** Its name in the demo seeding (`snaptrade`, `snaptrade-trade`). */
  key: string;
  /** The sandbox brokerage (a SnapTrade broker slug). */
  broker: string;
  /** The institution Meridian records for it: how seeding finds it again. */
  institution: string;
  /** The access asked for (`trade` is granted only while trading is on). */
  access: "read" | "trade";
}

/**
 * The demo user's SnapTrade connections: Questrade read-only (the order ticket refuses its
 * accounts, saying why), and Robinhood with trading (a brokerage that trades fractional units).
 */
export const SNAPTRADE_DEMO_CONNECTIONS: readonly SnaptradeDemoConnection[] = [
  { key: "snaptrade", broker: "QUESTRADE", institution: "Questrade", access: "read" },
  { key: "snaptrade-trade", broker: "ROBINHOOD", institution: "Robinhood", access: "trade" },
];

/**
 * Demo mode: connects one of the sandbox's brokerages through the portal (by default the first
 * of {@link SNAPTRADE_DEMO_CONNECTIONS}, Questrade read-only); the new connection's id.
 */
export async function connectSnaptradeDemo(
  deps: SyncDeps,
  userId: string,
  redirectUrl: string,
  demo: SnaptradeDemoConnection = SNAPTRADE_DEMO_CONNECTIONS[0],
): Promise<string> {
  const { url } = await snaptradePortalUrl(deps, userId, {
    broker: demo.broker,
    access: demo.access,
    redirectUrl,
  });
  const back = new URL(await submitHostedForm(url));
  const id = back.searchParams.get("connection_id");
  if (back.searchParams.get("status") !== "SUCCESS" || !id) {
    throw new Error(`portal did not succeed (${back.searchParams.get("status") ?? "no status"})`);
  }
  return (await completeSnaptradeConnection(deps, userId, id)).id;
}
