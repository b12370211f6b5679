/**
 * Applies one webhook to PostgreSQL: the event is recorded in `webhook_events` in the same
 * transaction as its effects, so a redelivery or a replay (at any age) changes nothing.
 * @module
 */
import type { JetStreamClient } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import type { WebhookEnvelope } from "@meridian/proto";
import type { Logger, Sql } from "@meridian/runtime";
import { publishPending, requestRefresh } from "@meridian/portfolio";
import { clip, decide, type Intent, type Outcome, outcomeOf } from "./decide.ts";

/** What processing one envelope did. */
export interface Processed {
  duplicate: boolean;
  eventType: string;
  outcome: Outcome | null;
  userId: string | null;
  connectionId: string | null;
}

/** Dependencies of {@link processEnvelope}. */
export interface EffectDeps {
  sql: Sql;
  js: JetStreamClient;
  nc: NatsConnection;
  log: Logger;
  cooldownS: number;
  ttlH: number;
}

function parse(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return null;
  }
}

function connectionOf(intent: Intent) {
  return "connection" in intent ? intent.connection : null;
}

/** Records and applies one webhook; then notifies (pending, auto sync) after the commit. */
export async function processEnvelope(deps: EffectDeps, env: WebhookEnvelope): Promise<Processed> {
  const { eventType, intent } = decide(env.provider, parse(env.body));
  const result = await deps.sql.begin(async (tx): Promise<Processed> => {
    const ref = connectionOf(intent);
    let conn: { id: string; user_id: string; auto_sync: boolean } | undefined;
    if (ref) {
      [conn] = await tx<{ id: string; user_id: string; auto_sync: boolean }[]>`
        select c.id, c.user_id, u.auto_sync from connections c join users u on u.id = c.user_id
         where c.provider = ${ref.provider} and c.external_id = ${ref.externalId}
           for update of c`;
    }
    let userId: string | null = conn?.user_id ?? null;
    if (intent.kind === "remove_provider_user") {
      const [pu] = await tx<{ user_id: string }[]>`
        select user_id from provider_users
         where provider = ${intent.provider} and external_user_id = ${intent.externalUserId}`;
      userId = pu?.user_id ?? null;
    }
    const missing = (ref && intent.kind !== "forward" && !conn) ||
      (intent.kind === "remove_provider_user" && !userId);
    const outcome: Outcome = missing ? "unknown_item" : outcomeOf(intent, conn?.auto_sync ?? false);
    const inserted = await tx`
      insert into webhook_events
        (provider, event_id, event_type, received_at, user_id, connection_id, outcome)
      values (${env.provider}, ${env.event_id}, ${clip(eventType, 200)}, ${env.received_at},
              ${userId}, ${conn?.id ?? null}, ${outcome})
      on conflict (provider, event_id) do nothing
      returning id`;
    const base = { eventType, userId, connectionId: conn?.id ?? null };
    if (inserted.length === 0) return { duplicate: true, outcome: null, ...base };
    if (missing) return { duplicate: false, outcome, ...base };

    switch (intent.kind) {
      case "flag":
        await tx`
          insert into pending_updates (connection_id, user_id, reason, transactions)
          values (${conn!.id}, ${conn!.user_id}, ${intent.reason}, ${intent.transactions})
          on conflict (connection_id) do update
            set last_event_at = now(), events = pending_updates.events + 1,
                reason = excluded.reason,
                -- A later holdings event must not clear a transactions flag.
                transactions = pending_updates.transactions or excluded.transactions`;
        break;
      case "status":
        if (intent.status === "active") {
          await tx`
            update connections set status = 'active', status_reason = null, warning = null,
                   updated_at = now()
             where id = ${conn!.id} and status <> 'disabled'`;
        } else {
          await tx`
            update connections set status = 'error', status_reason = ${intent.reason},
                   updated_at = now()
             where id = ${conn!.id} and status <> 'disabled'`;
        }
        break;
      case "warning":
        await tx`update connections set warning = ${intent.warning}, updated_at = now()
                  where id = ${conn!.id}`;
        break;
      case "remove_connection":
        await tx`delete from connections where id = ${conn!.id}`;
        break;
      case "remove_provider_user":
        await tx`delete from connections where user_id = ${userId} and provider = ${intent.provider}`;
        await tx`delete from provider_users
                  where provider = ${intent.provider} and external_user_id = ${intent.externalUserId}`;
        break;
      case "forward":
      case "ignore":
      case "unknown_type":
        break;
    }
    return { duplicate: false, outcome, ...base };
  });

  if (!result.duplicate && result.userId && result.outcome !== "unknown_item") {
    const userId = result.userId;
    if (result.outcome === "synced" && result.connectionId) {
      try {
        const r = await requestRefresh({ sql: deps.sql, js: deps.js }, {
          userId,
          connectionIds: [result.connectionId],
          cooldownS: deps.cooldownS,
          ttlH: deps.ttlH,
          reason: "auto",
        });
        deps.log.debug("auto sync requested", { user_id: userId, result: r.kind });
      } catch (e) {
        // The pending flag is set; the user (or the next webhook) can still refresh.
        deps.log.warn("auto sync request failed", { error: e, user_id: userId });
      }
    }
    if (["flagged", "synced", "status_changed", "warning", "removed"].includes(result.outcome!)) {
      await publishPending(deps, userId);
    }
  }
  return result;
}
