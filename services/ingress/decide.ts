/**
 * Ingress domain decisions: what one provider webhook means for Meridian, as data. Pure.
 * @module
 */
import type { WebhookProvider } from "@meridian/proto";

/** Outcomes recorded in `webhook_events.outcome`. */
export type Outcome =
  | "flagged"
  | "synced"
  | "status_changed"
  | "warning"
  | "removed"
  | "forwarded"
  | "ignored"
  | "unknown_item"
  | "unknown_type";

/** Which connection an event is about. */
export interface ConnectionRef {
  provider: WebhookProvider;
  /** SnapTrade brokerageAuthorizationId or Plaid item_id (connections.external_id). */
  externalId: string;
}

/** The intended effect of one webhook. */
export type Intent =
  | {
    kind: "flag";
    connection: ConnectionRef;
    reason: string;
    /** The event says the connection's transactions changed (the sync fetches them). */
    transactions: boolean;
  }
  | { kind: "status"; connection: ConnectionRef; status: "active" | "error"; reason: string | null }
  | { kind: "warning"; connection: ConnectionRef; warning: string }
  | { kind: "remove_connection"; connection: ConnectionRef }
  | { kind: "remove_provider_user"; provider: "snaptrade"; externalUserId: string }
  | { kind: "forward"; connection: ConnectionRef | null }
  | { kind: "ignore" }
  | { kind: "unknown_type" };

/** A decided webhook: its type for the record and the intent. */
export interface Decision {
  eventType: string;
  intent: Intent;
}

const SNAPTRADE_FLAG = new Set([
  "ACCOUNT_HOLDINGS_UPDATED",
  "ACCOUNT_TRANSACTIONS_UPDATED",
  "ACCOUNT_TRANSACTIONS_INITIAL_UPDATE",
  "NEW_ACCOUNT_AVAILABLE",
  "ACCOUNT_REMOVED",
  "CONNECTION_UPDATED",
]);
/** SnapTrade flag events that are about transactions. */
const SNAPTRADE_TRANSACTIONS = new Set([
  "ACCOUNT_TRANSACTIONS_UPDATED",
  "ACCOUNT_TRANSACTIONS_INITIAL_UPDATE",
]);
const SNAPTRADE_IGNORE = new Set([
  "USER_REGISTERED",
  "CONNECTION_ATTEMPTED",
  "CONNECTION_ADDED",
  "CONNECTION_FAILED",
]);

/**
 * A webhook string as PostgreSQL text can hold it: NUL (which text refuses) and lone
 * surrogates (which have no UTF-8 form) become U+FFFD. Every string a decision takes from a
 * body passes through here, so any signed webhook is recorded on its first delivery; an id
 * that had a NUL can only match nothing, as no stored id holds one.
 */
export function pgText(s: string): string {
  return s.toWellFormed().replaceAll("\0", "\ufffd");
}

/** The first `max` UTF-16 units of `s`, never ending in half a surrogate pair. */
export function clip(s: string, max: number): string {
  return s.length <= max ? s : s.slice(0, max).toWellFormed();
}

const str = (v: unknown): string | null => typeof v === "string" && v.length > 0 ? pgText(v) : null;

/** Decides a SnapTrade webhook. */
export function decideSnaptrade(body: Record<string, unknown>): Decision {
  const eventType = str(body.eventType) ?? "unknown";
  const authId = str(body.brokerageAuthorizationId) ?? str(body.connectionId);
  const ref = authId ? { provider: "snaptrade" as const, externalId: authId } : null;
  if (SNAPTRADE_FLAG.has(eventType)) {
    return {
      eventType,
      intent: ref
        ? {
          kind: "flag",
          connection: ref,
          reason: eventType,
          transactions: SNAPTRADE_TRANSACTIONS.has(eventType),
        }
        : none,
    };
  }
  switch (eventType) {
    case "CONNECTION_BROKEN": {
      const detail = str((body.details as Record<string, unknown> | undefined)?.reason) ??
        str(body.reason);
      return {
        eventType,
        intent: ref
          ? {
            kind: "status",
            connection: ref,
            status: "error",
            reason: detail
              ? clip(`CONNECTION_BROKEN: ${detail}`, 500)
              : "CONNECTION_BROKEN: the brokerage connection needs to be reconnected",
          }
          : none,
      };
    }
    case "CONNECTION_FIXED":
      return {
        eventType,
        intent: ref ? { kind: "status", connection: ref, status: "active", reason: null } : none,
      };
    case "CONNECTION_DELETED":
      return { eventType, intent: ref ? { kind: "remove_connection", connection: ref } : none };
    case "USER_DELETED": {
      const userId = str(body.userId);
      return {
        eventType,
        intent: userId
          ? { kind: "remove_provider_user", provider: "snaptrade", externalUserId: userId }
          : none,
      };
    }
    case "TRADE_UPDATE":
    case "TRADE_DETECTION":
      return { eventType, intent: { kind: "forward", connection: ref } };
  }
  if (SNAPTRADE_IGNORE.has(eventType)) return { eventType, intent: { kind: "ignore" } };
  return { eventType, intent: { kind: "unknown_type" } };
}

const none: Intent = { kind: "ignore" };

/** Decides a Plaid webhook. */
export function decidePlaid(body: Record<string, unknown>): Decision {
  const type = str(body.webhook_type) ?? "UNKNOWN";
  const code = str(body.webhook_code) ?? "UNKNOWN";
  const eventType = `${type}.${code}`;
  const item = str(body.item_id);
  const ref = item ? { provider: "plaid" as const, externalId: item } : null;
  if (!ref) return { eventType, intent: { kind: "unknown_type" } };
  const error = body.error as Record<string, unknown> | null | undefined;
  const transactions = type === "INVESTMENTS_TRANSACTIONS" &&
    (code === "DEFAULT_UPDATE" || code === "HISTORICAL_UPDATE");
  if (
    transactions ||
    (type === "HOLDINGS" && code === "DEFAULT_UPDATE") ||
    (type === "ITEM" && code === "NEW_ACCOUNTS_AVAILABLE")
  ) {
    return {
      eventType,
      intent: { kind: "flag", connection: ref, reason: eventType, transactions },
    };
  }
  if (type === "ITEM") {
    switch (code) {
      case "ERROR":
        return {
          eventType,
          intent: {
            kind: "status",
            connection: ref,
            status: "error",
            reason: clip(
              (str(error?.error_code) ?? "ITEM_ERROR") +
                (str(error?.error_message) ? `: ${str(error?.error_message)}` : ""),
              500,
            ),
          },
        };
      case "USER_PERMISSION_REVOKED":
      case "USER_ACCOUNT_REVOKED":
        return {
          eventType,
          intent: { kind: "status", connection: ref, status: "error", reason: code },
        };
      case "PENDING_DISCONNECT":
      case "PENDING_EXPIRATION": {
        const when = str(body.disconnect_time) ?? str(body.consent_expiration_time);
        const why = str(body.reason);
        return {
          eventType,
          intent: {
            kind: "warning",
            connection: ref,
            warning: clip([code, why, when ? `on ${when}` : null].filter(Boolean).join(": "), 500),
          },
        };
      }
      case "LOGIN_REPAIRED":
        return {
          eventType,
          intent: { kind: "status", connection: ref, status: "active", reason: null },
        };
      case "WEBHOOK_UPDATE_ACKNOWLEDGED":
        return { eventType, intent: { kind: "ignore" } };
    }
  }
  return { eventType, intent: { kind: "unknown_type" } };
}

/** Each webhook provider's decision, routed by the provider key. */
const DECIDERS: Record<WebhookProvider, (body: Record<string, unknown>) => Decision> = {
  snaptrade: decideSnaptrade,
  plaid: decidePlaid,
};

/** Decides a webhook of either provider from its parsed body. */
export function decide(provider: WebhookProvider, body: unknown): Decision {
  if (!body || typeof body !== "object" || Array.isArray(body)) {
    return { eventType: "invalid", intent: { kind: "unknown_type" } };
  }
  return DECIDERS[provider](body as Record<string, unknown>);
}

/** The recorded outcome when the intent is applied to a found connection. */
export function outcomeOf(intent: Intent, autoSync: boolean): Outcome {
  switch (intent.kind) {
    case "flag":
      return autoSync ? "synced" : "flagged";
    case "status":
      return "status_changed";
    case "warning":
      return "warning";
    case "remove_connection":
    case "remove_provider_user":
      return "removed";
    case "forward":
      return "forwarded";
    case "ignore":
      return "ignored";
    case "unknown_type":
      return "unknown_type";
  }
}
