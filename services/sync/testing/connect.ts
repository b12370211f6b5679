/**
 * What the sync integration tests do over and over: connect through the real flows (the
 * sandbox's portal and Hosted Link driven over HTTP) and request a sync.
 * @module
 */
import assert from "node:assert/strict";
import type { Provider, SyncRequest } from "@meridian/proto";
import { publishSyncRequest } from "@meridian/portfolio";
import {
  completePlaidLink,
  completeSnaptradeConnection,
  plaidLinkToken,
  snaptradePortalUrl,
} from "../connections/mod.ts";
import { submitHostedForm } from "../../sandbox/html_form.ts";
import type { SyncEnv } from "./env.ts";

/** Where the tests' provider pages send the browser back. */
export const REDIRECT = "http://127.0.0.1:9/done";

/** Connects a SnapTrade brokerage of the sandbox's through the portal. */
export async function connectSnaptrade(env: SyncEnv, userId: string, broker: string) {
  const { url } = await snaptradePortalUrl(env.deps, userId, { broker, redirectUrl: REDIRECT });
  const back = new URL(await submitHostedForm(url));
  assert.equal(back.searchParams.get("status"), "SUCCESS");
  return await completeSnaptradeConnection(
    env.deps,
    userId,
    back.searchParams.get("connection_id")!,
  );
}

/** Connects the sandbox's Plaid item through Hosted Link. */
export async function connectPlaid(env: SyncEnv, userId: string) {
  const t = await plaidLinkToken(env.deps, userId, { redirectUrl: REDIRECT });
  assert.ok(t.hosted_link_url);
  await submitHostedForm(t.hosted_link_url!);
  const [c] = await completePlaidLink(env.deps, userId, { link_token: t.link_token });
  return c;
}

/** Requests a sync as a refresh does; the request id. */
export async function requestSync(
  env: SyncEnv,
  userId: string,
  provider: Provider,
  connectionIds: string[],
  reason: SyncRequest["reason"] = "manual",
): Promise<string> {
  const msg = await publishSyncRequest(env.deps.js, { userId, provider, connectionIds, reason });
  return msg.request_id;
}
