/**
 * Alpaca behind the provider interface, on the official SDK. A connection is one Alpaca
 * account whose API key pair, entered by the person and verified first (`flows.ts`), is sealed
 * to its row. Alpaca accounts can trade; Alpaca sends no activity webhooks.
 * @module
 */
import type { SyncDeps } from "../../deps.ts";
import { openConnectionSecret, type SecretRow } from "../../secrets.ts";
import type { ConnectionRow } from "../../store.ts";
import { ProviderBase } from "../base.ts";
import type { CallRecorder } from "../call.ts";
import type {
  ApiKeys,
  BrokerageProvider,
  ProviderDoctor,
  ReconnectInput,
  SessionOptions,
  TradingCapability,
} from "../types.ts";
import { alpacaLimiter, isAlpacaAuthFailure } from "./client.ts";
import { alpacaDoctor } from "./doctor.ts";
import { type AlpacaConnect, connectAlpaca, connectAlpacaDemo, reconnectAlpaca } from "./flows.ts";
import { alpacaSession } from "./session.ts";
import { alpacaTrading } from "./trading.ts";

/** An Alpaca connection's credentials: its key pair, as sealed in `connections`. */
export type AlpacaCredentials = ApiKeys;

/** Alpaca. */
export class AlpacaProvider extends ProviderBase
  implements BrokerageProvider<AlpacaCredentials, never, never, AlpacaConnect> {
  readonly key = "alpaca" as const;
  // Alpaca sends no webhook when account activity changes, and its calls are not billed.
  readonly capabilities = { activityWebhooks: false } as const;
  readonly doctor: ProviderDoctor = alpacaDoctor(this);
  readonly trading: TradingCapability<AlpacaCredentials> = alpacaTrading(this);

  /** Runs one SDK call through the shared wrapper (limited per account key). */
  call<T>(
    keyId: string,
    operation: string,
    fn: () => Promise<T>,
    recorder?: CallRecorder,
    maxAttempts?: number,
  ): Promise<T> {
    return this.limitedCall(alpacaLimiter(keyId), operation, fn, recorder, maxAttempts);
  }

  protected isAuthFailure = isAlpacaAuthFailure;

  /** Every Alpaca account connected with its keys can trade. */
  tradeAccess(): boolean {
    return true;
  }

  authFailureReason(): string {
    return "Reconnect your Alpaca account: the API key was rejected (revoked or expired); enter a new key";
  }

  async credentials(
    deps: Pick<SyncDeps, "sql" | "keyring">,
    conn: SecretRow,
  ): Promise<AlpacaCredentials> {
    const { keyId, secret, paper } = JSON.parse(
      await openConnectionSecret(deps.keyring, conn),
    ) as AlpacaCredentials;
    return { keyId, secret, paper };
  }

  session(creds: AlpacaCredentials, opts: SessionOptions = {}) {
    return alpacaSession(this, creds, opts);
  }

  /** Verifies the keys with one account call, then records the account. */
  complete(deps: SyncDeps, userId: string, keys: AlpacaConnect) {
    return connectAlpaca(deps, userId, keys);
  }

  reconnect(deps: SyncDeps, conn: ConnectionRow, input: ReconnectInput) {
    return reconnectAlpaca(deps, conn, input);
  }

  /** Alpaca keeps nothing to remove: forgetting the keys is enough. */
  removeAtProvider(): Promise<void> {
    return Promise.resolve();
  }

  connectDemo(deps: SyncDeps, userId: string) {
    return connectAlpacaDemo(deps, userId);
  }
}
