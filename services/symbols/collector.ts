/**
 * The leader's work: keep the held set (from PostgreSQL at start, then every
 * `holdings.changed`), watch which price shards are alive, and write each shard's (and the
 * poller's) symbols to the `symbol_assignments` bucket whenever the plan changes.
 * @module
 */
import type { KV } from "@nats-io/kv";
import {
  buckets,
  consumers,
  decodeKvToken,
  encode,
  HoldingsChanged,
  kvKeys,
  safeDecode,
  ShardInfo,
  SymbolAssignment,
} from "@meridian/proto";
import {
  consumeOptions,
  gauge,
  LeaseBoard,
  type Logger,
  type NatsHandle,
  type Sql,
} from "@meridian/runtime";
import { HeldSet } from "./held.ts";
import { type LiveShard, type Plan, planAssignments, POLLER, sameSymbols } from "./plan.ts";
import { heldOf, loadHeld } from "./store.ts";

/**
 * How long a shard's lease may go unrenewed before its symbols move: twice the lease's own
 * time-to-live, so a hot standby (which takes over at one) keeps the assignment as it is.
 */
export const SHARD_GONE_MS = 10_000;
/** Replans are batched: a burst of holdings changes writes once. */
const REPLAN_DEBOUNCE_MS = 100;
/** A full reload from PostgreSQL now and then catches changes no message announced. */
const RELOAD_EVERY_MS = 60_000;

const heldGauge = gauge("meridian_symbols_held_instruments", "Instruments anyone holds");
const streamedGauge = gauge(
  "meridian_symbols_streamed_instruments",
  "Held instruments assigned to a price shard's stream",
);
const polledGauge = gauge(
  "meridian_symbols_polled_instruments",
  "Held instruments the snapshot poller fetches (no stream, or beyond every shard's cap)",
);

/** What the collector needs. */
export interface CollectorDeps {
  sql: Sql;
  nats: NatsHandle;
  log: Logger;
  /** This instance's id, written into each assignment. */
  instance: string;
}

/** The key of a target in the assignments bucket. */
function keyOf(target: string): string {
  return target === POLLER ? kvKeys.pollerAssignment : kvKeys.shardAssignment(target);
}

/** Reads the assignments in the bucket as a plan (what the previous leader wrote). */
async function readPlan(kv: KV, log: Logger): Promise<Plan> {
  const plan: Plan = new Map();
  for await (const key of await kv.keys()) {
    const e = await kv.get(key);
    if (!e || e.operation !== "PUT") continue;
    const a = safeDecode(SymbolAssignment, e.value);
    if (!a.success) {
      log.warn("ignoring an unreadable assignment", { key, error: a.error });
      continue;
    }
    const target = key === kvKeys.pollerAssignment
      ? POLLER
      : decodeKvToken(key.slice("shard.".length));
    plan.set(target, { stocks: a.data.stocks, crypto: a.data.crypto });
  }
  return plan;
}

/** The shards whose lease is alive and whose credential the provider has not refused. */
function liveShards(board: LeaseBoard): LiveShard[] {
  const out: LiveShard[] = [];
  for (const [key, e] of board.entries()) {
    if (!e.live) continue;
    const info = ShardInfo.safeParse(e.record.info);
    if (!info.success || !info.data.streaming) continue;
    out.push({
      id: decodeKvToken(key.slice(kvKeys.shardLeasePrefix.length)),
      stockCapacity: info.data.stock_capacity,
    });
  }
  return out.sort((a, b) => a.id.localeCompare(b.id));
}

/**
 * Leads: loads the held set, consumes holdings changes and keeps the assignments current until
 * the returned stop function is called.
 */
export async function lead(deps: CollectorDeps): Promise<() => Promise<void>> {
  const { sql, nats, log } = deps;
  const abort = new AbortController();
  const assignments = await nats.kvm.open(buckets.symbolAssignments.name);
  const board = new LeaseBoard(await nats.kvm.open(buckets.leases.name), {
    filter: `${kvKeys.shardLeasePrefix}>`,
    ttlMs: SHARD_GONE_MS,
    log,
    nc: nats.nc,
  });
  await board.start();
  let written = await readPlan(assignments, log);
  const held = new HeldSet();
  held.reset(await loadHeld(sql));
  log.info("leading", { held: held.size, shards: liveShards(board).length });

  let timer: ReturnType<typeof setTimeout> | undefined;
  let running: Promise<void> = Promise.resolve();
  const schedule = (delay = REPLAN_DEBOUNCE_MS) => {
    if (abort.signal.aborted || timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      running = running.then(replan);
    }, delay);
  };

  const replan = async () => {
    if (abort.signal.aborted) return;
    const plan = planAssignments(held.instruments(), liveShards(board), written);
    try {
      for (const [target, symbols] of plan) {
        const before = written.get(target);
        if (before && sameSymbols(before, symbols)) continue;
        const value = encode(SymbolAssignment, {
          target,
          ...symbols,
          leader: deps.instance,
          updated_at: new Date().toISOString(),
        });
        await assignments.put(keyOf(target), value);
        written.set(target, symbols);
      }
      for (const target of [...written.keys()]) {
        if (plan.has(target)) continue;
        await assignments.delete(keyOf(target));
        written.delete(target);
      }
      written = plan;
    } catch (e) {
      log.warn("writing assignments failed; retrying", { error: e });
      schedule(1_000);
    }
    const polled = plan.get(POLLER)!;
    heldGauge.set(held.size);
    polledGauge.set(polled.stocks.length + polled.crypto.length);
    streamedGauge.set(held.size - polled.stocks.length - polled.crypto.length);
  };

  const offBoard = board.onChange(() => schedule());
  schedule(0);

  const reload = setInterval(async () => {
    try {
      held.reset(await loadHeld(sql));
      schedule();
    } catch (e) {
      log.warn("reloading held instruments failed", { error: e });
    }
  }, RELOAD_EVERY_MS);

  const consuming = (async () => {
    while (!abort.signal.aborted) {
      try {
        const c = await nats.js.consumers.get(consumers.symbols.stream, consumers.symbols.durable);
        const msgs = await c.consume(consumeOptions(64));
        const stop = () => msgs.stop();
        abort.signal.addEventListener("abort", stop, { once: true });
        for await (const m of msgs) {
          const change = safeDecode(HoldingsChanged, m.data);
          if (!change.success) {
            log.warn("dropping an unreadable holdings change", { error: change.error });
            m.term();
            continue;
          }
          try {
            held.setUser(change.data.user_id, await heldOf(sql, change.data.user_id));
            schedule();
            m.ack();
          } catch (e) {
            log.warn("reading a user's holdings failed; will retry", { error: e });
            m.nak(1_000);
          }
        }
        abort.signal.removeEventListener("abort", stop);
      } catch (e) {
        if (abort.signal.aborted) return;
        log.warn("holdings consumer error; re-attaching", { error: e });
        await new Promise((r) => setTimeout(r, 1_000));
      }
    }
  })();

  return async () => {
    abort.abort();
    clearTimeout(timer);
    clearInterval(reload);
    offBoard();
    board.stop();
    await consuming.catch(() => {});
    await running.catch(() => {});
  };
}
