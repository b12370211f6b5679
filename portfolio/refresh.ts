/**
 * Refresh requests: pick the connections that need a sync, enforce the per-user per-provider
 * cooldown atomically, and publish one `SyncRequest` per provider to JetStream.
 * @module
 */
import type { JetStreamClient } from "@nats-io/jetstream";
import { encode, type Provider, subjects, SyncRequest } from "@meridian/proto";
import type { Sql } from "@meridian/runtime";
import { byProvider, pickConnections, type RefreshCandidate, retryAfterS } from "./refresh_plan.ts";
import type { RefreshResult } from "./views.ts";

/** A named connection id that is not the user's (answer 404). */
export class NotFoundError extends Error {
  override name = "NotFoundError";
  constructor(readonly connectionIds: string[]) {
    super("connection not found");
  }
}

/** Why a sync is requested (see proto `SYNC_REASONS`). */
export type SyncReason = SyncRequest["reason"];

/** Options of {@link requestRefresh}. */
export interface RefreshOptions {
  userId: string;
  /** Only these connections (each must be the user's); otherwise the flagged or stale ones. */
  connectionIds?: string[];
  /** Seconds between two refresh requests of one user for one provider. */
  cooldownS: number;
  /** Hours after which a connection's data counts as stale. */
  ttlH: number;
  /** Defaults to "manual". */
  reason?: SyncReason;
  now?: Date;
}

/** Publishes one sync request with `Nats-Msg-Id` = request id; resolves on the PubAck. */
export async function publishSyncRequest(
  js: JetStreamClient,
  req: {
    userId: string;
    provider: Provider;
    connectionIds: string[];
    reason: SyncReason;
    requestId?: string;
    now?: Date;
  },
): Promise<SyncRequest> {
  const msg: SyncRequest = {
    request_id: req.requestId ?? crypto.randomUUID(),
    user_id: req.userId,
    provider: req.provider,
    connection_ids: req.connectionIds,
    reason: req.reason,
    requested_at: (req.now ?? new Date()).toISOString(),
  };
  await js.publish(subjects.syncRequest(req.provider, req.userId), encode(SyncRequest, msg), {
    msgID: msg.request_id,
  });
  return msg;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Requests a refresh for a user. The cooldown check and the publish happen inside one
 * transaction holding the cooldown row locked, so two concurrent calls cannot both pass and
 * a failed publish does not use up the cooldown.
 */
export async function requestRefresh(
  deps: { sql: Sql; js: JetStreamClient },
  opts: RefreshOptions,
): Promise<RefreshResult> {
  const now = opts.now ?? new Date();
  const reason = opts.reason ?? "manual";
  if (opts.connectionIds) {
    const bad = opts.connectionIds.filter((id) => !UUID.test(id));
    if (bad.length) throw new NotFoundError(bad);
  }
  return await deps.sql.begin(async (tx) => {
    const candidates = await tx<RefreshCandidate[]>`
      select c.id, c.provider, c.status, c.last_synced_at,
             (p.connection_id is not null) as pending
        from connections c left join pending_updates p on p.connection_id = c.id
       where c.user_id = ${opts.userId}
       order by c.id`;
    if (opts.connectionIds) {
      const mine = new Set(candidates.map((c) => c.id));
      const missing = opts.connectionIds.filter((id) => !mine.has(id));
      if (missing.length) throw new NotFoundError(missing);
    }
    const picked = pickConnections([...candidates], {
      connectionIds: opts.connectionIds,
      ttlH: opts.ttlH,
      now,
    });
    if (picked.length === 0) {
      // Nothing needs a sync, but a refresh inside the cooldown is still "too soon".
      const [last] = await tx<{ at: Date | null }[]>`
        select max(last_requested_at) as at from refresh_cooldowns where user_id = ${opts.userId}`;
      const wait = retryAfterS(last?.at ?? null, opts.cooldownS, now);
      return wait > 0
        ? { kind: "cooldown", retry_after_s: wait } as const
        : { kind: "up_to_date" } as const;
    }

    const requests: { provider: Provider; request_id: string; connection_ids: string[] }[] = [];
    const cooldown: { provider: Provider; retry_after_s: number }[] = [];
    for (const [provider, conns] of byProvider(picked)) {
      const inserted = await tx`
        insert into refresh_cooldowns (user_id, provider, last_requested_at)
        values (${opts.userId}, ${provider}, ${now})
        on conflict (user_id, provider) do nothing
        returning 1`;
      if (inserted.length === 0) {
        const [row] = await tx<{ last_requested_at: Date }[]>`
          select last_requested_at from refresh_cooldowns
           where user_id = ${opts.userId} and provider = ${provider}
             for update`;
        const wait = retryAfterS(row.last_requested_at, opts.cooldownS, now);
        if (wait > 0) {
          cooldown.push({ provider, retry_after_s: wait });
          continue;
        }
        await tx`
          update refresh_cooldowns set last_requested_at = ${now}
           where user_id = ${opts.userId} and provider = ${provider}`;
      }
      const msg = await publishSyncRequest(deps.js, {
        userId: opts.userId,
        provider,
        connectionIds: conns.map((c) => c.id),
        reason,
        now,
      });
      requests.push({ provider, request_id: msg.request_id, connection_ids: msg.connection_ids });
    }
    if (requests.length === 0) {
      return {
        kind: "cooldown",
        retry_after_s: Math.min(...cooldown.map((c) => c.retry_after_s)),
      } as const;
    }
    return {
      kind: "accepted",
      request_ids: requests.map((r) => r.request_id),
      requests,
      connections: requests.flatMap((r) =>
        r.connection_ids.map((connection_id) => ({ connection_id, provider: r.provider }))
      ),
      cooldown,
    } as const;
  }) as RefreshResult;
}
