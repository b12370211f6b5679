/**
 * Plaid Investments behind the provider interface, on the official SDK. A connection is a
 * Plaid item whose access token is sealed to its row; connecting goes through Hosted Link
 * (`flows.ts`, `link_session.ts`). Plaid accounts are read-only.
 * @module
 */
import type { SyncDeps } from "../../deps.ts";
import { openConnectionSecret, type SecretRow } from "../../secrets.ts";
import type { ConnectionRow } from "../../store.ts";
import { ProviderBase } from "../base.ts";
import type { CallRecorder } from "../call.ts";
import type {
  BrokerageProvider,
  ProviderDoctor,
  ReconnectInput,
  SessionOptions,
} from "../types.ts";
import { isPlaidAuthFailure, plaidClient, plaidLimiter } from "./client.ts";
import { plaidDoctor } from "./doctor.ts";
import { connectPlaidDemo, type LinkToken, type PlaidLinkOptions, removeItem } from "./flows.ts";
import { completeLink, type PlaidCompletion, reconnectPlaid, startLink } from "./link_session.ts";
import { plaidSession } from "./session.ts";
import type { PlaidApi } from "plaid";

/** A Plaid connection's credentials: its item and the item's access token. */
export interface PlaidCredentials {
  accessToken: string;
  itemId: string;
}

/** Plaid. */
export class PlaidProvider extends ProviderBase
  implements BrokerageProvider<PlaidCredentials, PlaidLinkOptions, LinkToken, PlaidCompletion> {
  readonly key = "plaid" as const;
  readonly capabilities = { activityWebhooks: true } as const;
  readonly client: PlaidApi = plaidClient(this.config);
  readonly doctor: ProviderDoctor = plaidDoctor(this);

  /** Runs one SDK call through the shared wrapper (limited per client id). */
  call<T>(operation: string, fn: () => Promise<T>, recorder?: CallRecorder): Promise<T> {
    return this.limitedCall(plaidLimiter(this.config), operation, fn, recorder);
  }

  protected isAuthFailure = isPlaidAuthFailure;

  /** Plaid Investments is read-only. */
  tradeAccess(): boolean {
    return false;
  }

  authFailureReason(institution: string): string {
    return `Reconnect your ${institution} account: the bank asks you to sign in again`;
  }

  async credentials(
    deps: Pick<SyncDeps, "sql" | "keyring">,
    conn: SecretRow,
  ): Promise<PlaidCredentials> {
    return {
      accessToken: await openConnectionSecret(deps.keyring, conn),
      itemId: conn.external_id,
    };
  }

  session(creds: PlaidCredentials, opts: SessionOptions = {}) {
    return plaidSession(this, creds, opts);
  }

  /** A Hosted Link session (update mode to repair an item), remembered for its completion. */
  start(deps: SyncDeps, userId: string, opts: PlaidLinkOptions) {
    return startLink(deps, userId, opts);
  }

  /** Exchanges a public token, or completes the user's remembered Hosted Link session. */
  complete(deps: SyncDeps, userId: string, input: PlaidCompletion) {
    return completeLink(deps, userId, input);
  }

  reconnect(deps: SyncDeps, conn: ConnectionRow, input: ReconnectInput) {
    return reconnectPlaid(deps, conn, input);
  }

  removeAtProvider(deps: SyncDeps, conn: ConnectionRow) {
    return removeItem(deps, conn);
  }

  connectDemo(deps: SyncDeps, userId: string, redirectUrl: string) {
    return connectPlaidDemo(deps, userId, redirectUrl);
  }
}
