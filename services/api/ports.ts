/**
 * What the api needs from the connection flows (implemented by `@meridian/sync/connections`),
 * as a narrow interface so the app is wired once in `main.ts` and in tests alike.
 * @module
 */
import type { Provider } from "@meridian/proto";

/** The next step of repairing a connection. */
export type ReconnectAnswer =
  /** Send the person to `url` (Plaid: or open Link with `linkToken`); both null once repaired. */
  | { kind: "next"; url: string | null; linkToken: string | null }
  /** The provider repairs with new API keys and none were given; `message` asks for them. */
  | { kind: "needs_keys"; message: string };

/** Provider flows, every call scoped by the signed-in user's id. */
export interface ConnectionsPort {
  /** A SnapTrade connection portal URL (new connection, or reconnecting one). */
  snaptradePortal(
    userId: string,
    opts: { access: "read" | "trade"; broker?: string; reconnectId?: string; redirectUrl: string },
  ): Promise<{ url: string }>;
  /** Records the connection the portal created (or repaired), by its authorization id. */
  snaptradeComplete(
    userId: string,
    opts: { authorizationId: string; access: "read" | "trade"; reconnectId?: string },
  ): Promise<{ connectionId: string }>;
  /** A Plaid Link token for Hosted Link (update mode when reconnecting). */
  plaidLinkToken(
    userId: string,
    opts: { reconnectId?: string; completionRedirectUrl: string },
  ): Promise<{ linkToken: string; hostedLinkUrl: string | null; expiration: string | null }>;
  /** Exchanges what Link produced for a connection. */
  plaidComplete(
    userId: string,
    opts: { publicToken?: string; linkToken?: string; reconnectId?: string },
  ): Promise<{ connectionId: string }>;
  /** Stores Alpaca keys after an account call proved they work. */
  alpacaConnect(
    userId: string,
    opts: { keyId: string; secretKey: string; paper: boolean; reconnectId?: string },
  ): Promise<{ connectionId: string }>;
  /**
   * Starts repairing a connection the way its provider does it: where to send the person
   * (`callbackUrl(provider)` is where its pages send them back), or, given new `keys` for a
   * provider repaired with them, the repair itself.
   */
  reconnect(
    userId: string,
    connectionId: string,
    opts: {
      callbackUrl: (provider: Provider) => string;
      keys?: { keyId: string; secretKey: string; paper: boolean };
    },
  ): Promise<ReconnectAnswer>;
  /** Removes a connection at the provider (best effort) and here. */
  remove(userId: string, connectionId: string): Promise<void>;
}
