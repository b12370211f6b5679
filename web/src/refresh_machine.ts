/**
 * The refresh a browser started, as a pure state machine: which connections it waits for,
 * and what each sync progress event does to it. No timers, no requests: `state.ts` does those.
 */

/** A sync progress event as the stream carries it. */
export interface SyncEvent {
  request_id: string;
  connection_id: string;
  provider: string;
  phase: string;
  detail?: string;
}

/** A refresh in flight. */
export interface Refreshing {
  requestIds: string[];
  /** Connections not yet finished. */
  open: ReadonlySet<string>;
  /** Why finished connections failed, as sentences. */
  failures: readonly string[];
  started: number;
}

/** What one event means for the refresh in flight. */
export type Step =
  /** Not this refresh's: another tab or a webhook policy synced; reload when it succeeded. */
  | { kind: "foreign"; reload: boolean }
  /** Still waiting; `note` is what to show now, when the event changes it. */
  | { kind: "progress"; state: Refreshing; note?: string }
  /** Every connection is done. */
  | { kind: "done"; failures: string[] };

const FINAL = new Set(["succeeded", "failed", "skipped"]);

/** The refresh the api accepted, waiting for `connectionIds`. */
export function startRefresh(
  requestIds: string[],
  connectionIds: string[],
  now: number,
): Refreshing {
  return { requestIds, open: new Set(connectionIds), failures: [], started: now };
}

/** Applies `e` to `state` (null when no refresh is in flight). */
export function applySyncEvent(
  state: Refreshing | null,
  e: SyncEvent,
  providerName: (provider: string) => string,
): Step {
  if (!state || !state.requestIds.includes(e.request_id)) {
    return { kind: "foreign", reload: e.phase === "succeeded" };
  }
  const note = e.phase === "started" ? `Syncing with ${providerName(e.provider)}…` : undefined;
  if (!FINAL.has(e.phase)) return { kind: "progress", state, note };
  const failures = e.phase === "succeeded"
    ? state.failures
    : [...state.failures, e.detail ?? `${providerName(e.provider)} could not be synced`];
  const open = new Set(state.open);
  open.delete(e.connection_id);
  if (open.size === 0) return { kind: "done", failures: [...failures] };
  return { kind: "progress", state: { ...state, open, failures } };
}

/** What the person reads while a refresh is too soon, or null once it is allowed again. */
export function cooldownMessage(secondsLeft: number): string | null {
  const s = Math.ceil(secondsLeft);
  if (s <= 0) return null;
  return `You refreshed moments ago. Please wait ${s} second${
    s === 1 ? "" : "s"
  } before refreshing again.`;
}
