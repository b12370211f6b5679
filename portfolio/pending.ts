/**
 * `portfolio.pending.<userId>`: published by whoever changes a user's pending flags (ingress
 * when it sets one, sync when it clears one), after the change is committed.
 * @module
 */
import type { NatsConnection } from "@nats-io/nats-core";
import { encode, PortfolioPending, subjects } from "@meridian/proto";
import type { Sql } from "@meridian/runtime";
import { listPendingUpdates } from "./read.ts";

/** Publishes the user's current pending connections. */
export async function publishPending(
  deps: { sql: Sql; nc: NatsConnection },
  userId: string,
): Promise<void> {
  const pending = await listPendingUpdates(deps.sql, userId);
  deps.nc.publish(
    subjects.portfolioPending(userId),
    encode(PortfolioPending, {
      user_id: userId,
      at: new Date().toISOString(),
      connections: pending.connections.map((c) => ({
        connection_id: c.connection_id,
        provider: c.provider,
        since: c.since,
      })),
    }),
  );
}
