import assert from "node:assert/strict";
import {
  applySyncEvent,
  cooldownMessage,
  startRefresh,
  type SyncEvent,
} from "./refresh_machine.ts";

const name = (key: string) => ({ snaptrade: "SnapTrade", plaid: "Plaid" })[key] ?? key;
const event = (over: Partial<SyncEvent>): SyncEvent => ({
  request_id: "r1",
  connection_id: "c1",
  provider: "snaptrade",
  phase: "started",
  ...over,
});

Deno.test("refresh machine: waits for every connection, collects failures, then is done", () => {
  let state = startRefresh(["r1", "r2"], ["c1", "c2"], 0);
  let step = applySyncEvent(state, event({ phase: "started" }), name);
  assert.deepEqual(step, { kind: "progress", state, note: "Syncing with SnapTrade…" });

  step = applySyncEvent(state, event({ phase: "succeeded" }), name);
  assert.equal(step.kind, "progress");
  if (step.kind !== "progress") return;
  assert.deepEqual([...step.state.open], ["c2"]);
  state = step.state;

  step = applySyncEvent(
    state,
    event({ request_id: "r2", connection_id: "c2", provider: "plaid", phase: "failed" }),
    name,
  );
  assert.deepEqual(step, { kind: "done", failures: ["Plaid could not be synced"] });
});

Deno.test("refresh machine: a skipped connection finishes with its reason", () => {
  const state = startRefresh(["r1"], ["c1"], 0);
  const step = applySyncEvent(
    state,
    event({ phase: "skipped", detail: "connection removed" }),
    name,
  );
  assert.deepEqual(step, { kind: "done", failures: ["connection removed"] });
});

Deno.test("refresh machine: another request's events are foreign, and reload on success", () => {
  const state = startRefresh(["r1"], ["c1"], 0);
  assert.deepEqual(
    applySyncEvent(state, event({ request_id: "other", phase: "succeeded" }), name),
    {
      kind: "foreign",
      reload: true,
    },
  );
  assert.deepEqual(applySyncEvent(null, event({ phase: "failed" }), name), {
    kind: "foreign",
    reload: false,
  });
  // An event for a connection this refresh does not wait for changes nothing it waits for.
  const step = applySyncEvent(state, event({ connection_id: "c9", phase: "succeeded" }), name);
  assert.equal(step.kind, "progress");
});

Deno.test("cooldown message counts down in whole seconds and ends at zero", () => {
  assert.equal(
    cooldownMessage(41.2),
    "You refreshed moments ago. Please wait 42 seconds before refreshing again.",
  );
  assert.equal(
    cooldownMessage(1),
    "You refreshed moments ago. Please wait 1 second before refreshing again.",
  );
  assert.equal(cooldownMessage(0), null);
  assert.equal(cooldownMessage(-3), null);
});
