/**
 * The assignment of held symbols to price shards: streamable stocks and crypto go to live
 * shards by capacity-aware rendezvous hashing (stocks within each shard's symbol cap, crypto
 * uncapped), everything else and every stock beyond all shards' capacity to the poller.
 * Pure, and sticky: given the previous assignment it moves only what it must.
 * @module
 */
import { assign, type Target } from "@meridian/runtime";
import { kvKeys } from "@meridian/proto";
import { type HeldInstrument, routeOf } from "./classify.ts";

/** A shard that can take symbols. */
export interface LiveShard {
  id: string;
  /** Stock symbols its connection may hold; null: no cap. */
  stockCapacity: number | null;
}

/** The symbols of one target (a shard, or the poller). */
export interface TargetSymbols {
  stocks: string[];
  crypto: string[];
}

/** The poller's target id in a {@link Plan}. */
export const POLLER = kvKeys.pollerAssignment;

/** Every target's symbols: each live shard (possibly none) and {@link POLLER}. */
export type Plan = Map<string, TargetSymbols>;

/** Which target each symbol of one stream is on, read from a plan. */
function placed(plan: Plan | undefined, stream: keyof TargetSymbols): Map<string, string> {
  const out = new Map<string, string>();
  for (const [target, symbols] of plan ?? []) {
    if (target === POLLER) continue;
    for (const s of symbols[stream]) out.set(s, target);
  }
  return out;
}

/** Plans the assignment of `held` to `shards`, starting from `previous`. */
export function planAssignments(
  held: readonly HeldInstrument[],
  shards: readonly LiveShard[],
  previous?: Plan,
): Plan {
  const plan: Plan = new Map([[POLLER, { stocks: [], crypto: [] }]]);
  for (const s of shards) plan.set(s.id, { stocks: [], crypto: [] });
  const streamed = { stocks: [] as string[], crypto: [] as string[] };
  for (const i of held) {
    const route = routeOf(i);
    if (!route) continue;
    if (route.streamable) streamed[route.stream].push(i.symbol);
    else plan.get(POLLER)![route.stream].push(i.symbol);
  }
  for (const stream of ["stocks", "crypto"] as const) {
    const targets: Target[] = shards.map((s) => ({
      id: s.id,
      capacity: stream === "stocks" ? s.stockCapacity : null,
    }));
    const result = assign(streamed[stream], targets, placed(previous, stream));
    for (const [symbol, target] of result.assigned) plan.get(target)![stream].push(symbol);
    plan.get(POLLER)![stream].push(...result.overflow);
  }
  for (const symbols of plan.values()) {
    symbols.stocks.sort();
    symbols.crypto.sort();
  }
  return plan;
}

/** Whether two targets' symbol lists are the same (both sorted). */
export function sameSymbols(a: TargetSymbols, b: TargetSymbols): boolean {
  return a.stocks.length === b.stocks.length && a.crypto.length === b.crypto.length &&
    a.stocks.every((s, i) => s === b.stocks[i]) && a.crypto.every((s, i) => s === b.crypto[i]);
}
