/**
 * The Plaid imitation: POST JSON routes with Plaid's credentials, error bodies and
 * `request_id`, the Hosted Link page, and webhooks signed with an ES256 JWT.
 * Mounted by `../mod.ts` at `/plaid`; paths here are relative. See `../README.md` (Plaid) for
 * the routes and rules.
 * @module
 */
import type { Hono } from "hono";
import type { SandboxCore } from "../core.ts";
import { RollingLimit } from "../rolling_limit.ts";
import { PlaidWebhookSigner } from "../webhooks.ts";
import { type PlaidAdmin, plaidAdmin } from "./admin.ts";
import { plaidRest } from "./rest.ts";
import { type PlaidState, PlaidStore } from "./state.ts";
import { PlaidWebhooks } from "./webhooks.ts";

export type { PlaidAdmin } from "./admin.ts";
export type { PlaidState } from "./state.ts";

/** Plaid credentials and behaviour of the imitation. */
export interface PlaidOptions {
  clientId: string;
  secret: string;
  /** Data requests per item per route per rolling minute (default 60). */
  itemRateLimitPerMinute?: number;
}

/** The Plaid imitation and its admin hooks. */
export interface PlaidSandbox {
  /** JSON API and the Hosted Link page; paths relative to `/plaid`. */
  app: Hono;
  signer: PlaidWebhookSigner;
  admin: PlaidAdmin;
  /** What Plaid would keep (items, access tokens, link tokens and sessions, the signing key). */
  snapshot(): PlaidState;
}

/** Builds the Plaid imitation, starting from `saved` when given (throws if it is malformed). */
export async function createPlaid(
  core: SandboxCore,
  opts: PlaidOptions,
  saved?: PlaidState,
): Promise<PlaidSandbox> {
  const signer = saved
    ? await PlaidWebhookSigner.restore(saved.signer)
    : await PlaidWebhookSigner.create(Math.floor(core.now() / 1000));
  const store = new PlaidStore(saved);
  const hooks = new PlaidWebhooks(core, signer);
  return {
    app: plaidRest({
      core,
      clientId: opts.clientId,
      secret: opts.secret,
      store,
      signer,
      hooks,
      limit: new RollingLimit(opts.itemRateLimitPerMinute ?? 60),
    }),
    signer,
    admin: plaidAdmin({ store, hooks }),
    snapshot: () => ({ signer: signer.state(), ...store.snapshot() }),
  };
}
