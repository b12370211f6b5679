/**
 * Sync benchmark: SnapTrade sync throughput against the sandbox at its rate limit.
 * Ten users each connect an Interactive Brokers account (200+ positions, one option) through
 * the portal; then every connection re-syncs back to back through the sync worker for the
 * rest of a 60 s window. The sandbox enforces SnapTrade's 250 requests per rolling minute per
 * clientId; the target is ≥ 90 % of that rate with zero 429 answers (counted by the sandbox's
 * call log and by the SnapTrade SDK's own 429 retry messages).
 *
 *   deno run -A bench/sync.ts
 * @module
 */
import {
  completeSnaptradeConnection,
  snaptradePortalUrl,
} from "../services/sync/connections/mod.ts";
import { submitHostedForm } from "../services/sandbox/html_form.ts";
import { startSyncEnv } from "../services/sync/testing/env.ts";
import { SNAPTRADE_LIMIT } from "../services/sync/providers/snaptrade/client.ts";

const WINDOW_MS = 60_000;
const USERS = 10;
const ALLOWED = 250;

// The SnapTrade SDK logs "429 error encountered, retrying…" before its own retries.
let sdk429 = 0;
const origLog = console.log;
console.log = (...args: unknown[]) => {
  if (args.some((a) => typeof a === "string" && a.includes("429 error encountered"))) sdk429++;
  else origLog(...args);
};

const env = await startSyncEnv({}, { worker: false });
try {
  await env.admin("/calls/reset", {});
  const t0 = Date.now();
  const deadline = t0 + WINDOW_MS;
  const conns: { user: string; id: string }[] = [];
  await Promise.all(Array.from({ length: USERS }, async (_, i) => {
    const user = await env.user(`bench${i}@example.com`);
    const { url } = await snaptradePortalUrl(env.deps, user, {
      broker: "INTERACTIVE-BROKERS",
      redirectUrl: "http://127.0.0.1:9/done",
    });
    const back = new URL(await submitHostedForm(url));
    const c = await completeSnaptradeConnection(
      env.deps,
      user,
      back.searchParams.get("connection_id")!,
    );
    conns.push({ user, id: c.id });
  }));
  // The window's count is what the sandbox has seen at the deadline; syncs still waiting in
  // the limiter then complete afterwards and are not counted.
  const atDeadline = new Promise<{ by_provider: { snaptrade: number } }>((resolve, reject) =>
    setTimeout(
      () =>
        env.admin("/calls").then(
          (c) => resolve(c as { by_provider: { snaptrade: number } }),
          reject,
        ),
      deadline - Date.now(),
    )
  );
  let syncs = 0;
  let failed = 0;
  await Promise.all(conns.map(async (c) => {
    while (Date.now() < deadline) {
      const out = await env.worker.syncConnection(c.user, c.id, {
        requestId: crypto.randomUUID(),
        reason: "manual",
        requestedAt: new Date().toISOString(),
      });
      if (Date.now() > deadline) break;
      if (out.phase === "succeeded") syncs++;
      else failed++;
    }
  }));
  const counts = await atDeadline;
  const calls = counts.by_provider.snaptrade;
  const runs = await env.deps.sql<
    { calls: { status: number | string }[] }[]
  >`select calls from sync_runs`;
  const recorded429 = runs.flatMap((r) => r.calls).filter((c) => c.status === 429).length;
  const achieved = calls / (WINDOW_MS / 60_000);
  const result = {
    provider: "snaptrade",
    window_s: WINDOW_MS / 1000,
    connections: USERS,
    syncs_completed: syncs,
    syncs_failed: failed,
    provider_calls: calls,
    allowed_per_min: ALLOWED,
    limiter: `${SNAPTRADE_LIMIT.limit} per ${SNAPTRADE_LIMIT.windowMs / 1000} s`,
    achieved_per_min: Math.round(achieved * 10) / 10,
    ratio: Math.round((achieved / ALLOWED) * 1000) / 1000,
    http_429: sdk429 + recorded429,
    target: "ratio >= 0.9 and http_429 == 0",
    pass: achieved / ALLOWED >= 0.9 && sdk429 + recorded429 === 0,
  };
  origLog("\nsync throughput (SnapTrade, sandbox at its rate limit)\n");
  origLog("| metric | value |\n|---|---|");
  for (const [k, v] of Object.entries(result)) origLog(`| ${k} | ${v} |`);
  await Deno.mkdir(new URL("./results/", import.meta.url), { recursive: true });
  await Deno.writeTextFile(
    new URL("./results/sync.json", import.meta.url),
    JSON.stringify(result, null, 2) + "\n",
  );
} finally {
  await env.close();
  console.log = origLog;
}
