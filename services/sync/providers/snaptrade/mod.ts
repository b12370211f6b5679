/**
 * SnapTrade behind the provider interface, on the official SDK. Credentials are per user (one
 * registration, `user.ts`) plus the connection's brokerage authorization; connecting goes
 * through SnapTrade's portal (`flows.ts`). Investment sync and trading are behind the
 * FF_SNAPTRADE_* flags.
 * @module
 */
import type { SyncDeps } from "../../deps.ts";
import type { SecretRow } from "../../secrets.ts";
import type { ConnectionRow } from "../../store.ts";
import { ProviderBase } from "../base.ts";
import type { CallRecorder } from "../call.ts";
import type { ProviderConfig } from "../config.ts";
import type {
  BrokerageProvider,
  ProviderDoctor,
  ReconnectInput,
  SessionOptions,
  TradingCapability,
} from "../types.ts";
import {
  isSnaptradeAuthFailure,
  type SnaptradeClient,
  snaptradeClient,
  snaptradeLimiter,
} from "./client.ts";
import { snaptradeDoctor } from "./doctor.ts";
import {
  completeSnaptradeConnection,
  connectSnaptradeDemo,
  reconnectSnaptrade,
  removeAuthorization,
  type SnaptradeDemoConnection,
  type SnaptradePortalOptions,
  snaptradePortalUrl,
} from "./flows.ts";
import { snaptradeSession } from "./session.ts";
import { snaptradeTrading } from "./trading.ts";
import { snaptradeCredentials } from "./user.ts";

/** A SnapTrade connection's credentials: the user's registration and its authorization. */
export interface SnaptradeCredentials {
  userId: string;
  userSecret: string;
  authorizationId: string;
}

/** SnapTrade. */
export class SnaptradeProvider extends ProviderBase implements
  BrokerageProvider<
    SnaptradeCredentials,
    SnaptradePortalOptions,
    { url: string; access: "read" | "trade" },
    { authorizationId: string }
  > {
  readonly key = "snaptrade" as const;
  readonly capabilities = { activityWebhooks: true } as const;
  readonly client: SnaptradeClient = snaptradeClient(this.config);
  readonly doctor: ProviderDoctor = snaptradeDoctor(this);
  readonly trading: TradingCapability<SnaptradeCredentials> = snaptradeTrading(this);

  /** Runs one SDK call through the shared wrapper (limited per client id). */
  call<T>(
    operation: string,
    fn: () => Promise<T>,
    recorder?: CallRecorder,
    maxAttempts?: number,
  ): Promise<T> {
    return this.limitedCall(snaptradeLimiter(this.config), operation, fn, recorder, maxAttempts);
  }

  protected isAuthFailure = isSnaptradeAuthFailure;

  override syncDisabled(config: ProviderConfig): string | null {
    return config.FF_SNAPTRADE_INVESTMENT_SYNC
      ? null
      : "SnapTrade sync is turned off on this server";
  }

  tradeAccess(config: ProviderConfig): boolean {
    return config.FF_SNAPTRADE_TRADE_EXECUTION;
  }

  authFailureReason(institution: string): string {
    return `Reconnect your ${institution} account: the brokerage login expired`;
  }

  credentials(deps: Pick<SyncDeps, "sql" | "keyring">, conn: SecretRow) {
    return snaptradeCredentials(deps, conn);
  }

  session(creds: SnaptradeCredentials, opts: SessionOptions = {}) {
    return snaptradeSession(this, creds, opts);
  }

  /** The connection portal, for a new connection or to repair one. */
  start(deps: SyncDeps, userId: string, opts: SnaptradePortalOptions) {
    return snaptradePortalUrl(deps, userId, opts);
  }

  /** Records the authorization the portal created (or repaired). */
  complete(deps: SyncDeps, userId: string, input: { authorizationId: string }) {
    return completeSnaptradeConnection(deps, userId, input.authorizationId);
  }

  reconnect(deps: SyncDeps, conn: ConnectionRow, input: ReconnectInput) {
    return reconnectSnaptrade(deps, conn, input);
  }

  removeAtProvider(deps: SyncDeps, conn: ConnectionRow) {
    return removeAuthorization(deps, conn);
  }

  /** Demo mode: one of flows.ts's SNAPTRADE_DEMO_CONNECTIONS (by default Questrade read-only). */
  connectDemo(
    deps: SyncDeps,
    userId: string,
    redirectUrl: string,
    demo?: SnaptradeDemoConnection,
  ) {
    return connectSnaptradeDemo(deps, userId, redirectUrl, demo);
  }
}
