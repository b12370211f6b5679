/**
 * The sync worker: consumes refresh requests from JetStream SYNC, syncs each connection
 * once however many requests ask for it (single-flight in-process, an advisory-locked run
 * claim across instances), writes through the store, and announces progress and the new
 * holdings.
 * @module
 */
import {
  consumers,
  decode,
  encode,
  HoldingsChanged,
  type Provider,
  safeDecode,
  streams,
  subjects,
  SyncProgress,
  SyncRequest,
} from "@meridian/proto";
import type { Consumer, JsMsg } from "@nats-io/jetstream";
import { publishPending } from "@meridian/portfolio";
import { acknowledge, consumeOptions, counter } from "@meridian/runtime";
import type { SyncDeps } from "./deps.ts";
import type {
  NormAccount,
  NormBalance,
  NormPosition,
  NormTransaction,
  Snapshot,
} from "./normalise/model.ts";
import { CallRecorder, ProviderError } from "./providers/call.ts";
import { transactionsNeeded, type TransactionsWhy } from "./plan.ts";
import {
  claimRun,
  type ConnectionRow,
  coveredSince,
  failRun,
  loadConnection,
  loadSyncState,
  markConnectionError,
  replaceConnectionData,
  waitForRun,
} from "./store.ts";

/** Transactions are fetched from this date: the whole history a provider keeps. */
export const TRANSACTIONS_SINCE = "2000-01-01";

/** How one connection's sync ended. */
export interface SyncOutcome {
  connectionId: string;
  userId?: string;
  provider?: Provider;
  phase: "succeeded" | "failed" | "skipped";
  runId: string | null;
  detail?: string;
  /** The holdings version published, when this sync wrote data. */
  version?: number;
}

/** What started a sync. */
export interface SyncTrigger {
  requestId: string;
  reason: SyncRequest["reason"];
  requestedAt: string;
}

const outcomes = counter("meridian_sync_runs_total", "Connection syncs by provider and outcome", [
  "provider",
  "phase",
]);

/**
 * Fetches what one connection holds, through its provider session: accounts, positions and
 * balances always; transactions when `withTransactions` (asked once the accounts are known)
 * says so, otherwise `transactions` is null.
 */
export async function fetchSnapshot(
  deps: SyncDeps,
  conn: ConnectionRow,
  recorder: CallRecorder,
  withTransactions: (accounts: NormAccount[]) => boolean = () => true,
): Promise<Snapshot> {
  const provider = deps.providers.providerFor(conn.provider);
  const session = provider.session(await provider.credentials(deps, conn), {
    recorder,
    canTrade: conn.access === "trade" && provider.tradeAccess(deps.config),
  });
  const accounts = await session.listAccounts();
  const fetchTxns = withTransactions(accounts);
  const transactions: NormTransaction[] = [];
  const snap: Snapshot = {
    accounts,
    positions: [],
    balances: [],
    transactions: fetchTxns ? transactions : null,
  };
  // allSettled, not all: a failure must not leave calls in flight that the run would not
  // record (and a half-fetched connection is never written anyway).
  const settle = async <T>(ps: Promise<T>[]): Promise<T[]> => {
    const rs = await Promise.allSettled(ps);
    const bad = rs.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (bad) throw bad.reason;
    return rs.map((r) => (r as PromiseFulfilledResult<T>).value);
  };
  const perAccount = async (a: NormAccount) => {
    const [p, b, t] = await settle<unknown>([
      session.positions(a),
      session.balances(a),
      fetchTxns ? session.transactions(a, TRANSACTIONS_SINCE) : Promise.resolve([]),
    ]) as [NormPosition[], NormBalance[], NormTransaction[]];
    return { p, b, t };
  };
  for (const r of await settle(accounts.map(perAccount))) {
    snap.positions.push(...r.p);
    snap.balances.push(...r.b);
    transactions.push(...r.t);
  }
  return snap;
}

/** Bounds how many connections sync at once in this process. */
class Semaphore {
  #free: number;
  #waiters: (() => void)[] = [];
  constructor(n: number) {
    this.#free = n;
  }
  async acquire(): Promise<() => void> {
    if (this.#free > 0) this.#free--;
    else await new Promise<void>((r) => this.#waiters.push(r));
    return () => {
      const next = this.#waiters.shift();
      if (next) next();
      else this.#free++;
    };
  }
}

/** The sync worker. */
export class SyncWorker {
  readonly #inflight = new Map<string, Promise<SyncOutcome>>();
  readonly #slots: Semaphore;
  #consumer: { stop(): void } | undefined;
  #loop: Promise<void> | undefined;

  /**
   * At most `concurrency` (default 8) connections sync at once. Each running sync holds one
   * pooled connection for its lease, so the pool must keep at least two for the queries.
   */
  constructor(readonly deps: SyncDeps, opts: { concurrency?: number } = {}) {
    const concurrency = opts.concurrency ?? 8;
    const poolMax = deps.sql.options.max;
    if (concurrency > poolMax - 2) {
      throw new Error(
        `sync concurrency ${concurrency} needs a database pool of at least ${
          concurrency + 2
        } (it has ${poolMax})`,
      );
    }
    this.#slots = new Semaphore(concurrency);
  }

  #provider(conn: ConnectionRow) {
    return this.deps.providers.providerFor(conn.provider);
  }

  /** Publishes one progress event (core NATS; best effort). */
  progress(
    conn: { id: string; user_id: string; provider: Provider },
    trigger: SyncTrigger,
    phase: SyncProgress["phase"],
    runId: string | null,
    detail?: string,
  ): void {
    try {
      this.deps.nc.publish(
        subjects.syncProgress(conn.user_id),
        encode(SyncProgress, {
          user_id: conn.user_id,
          request_id: trigger.requestId,
          sync_run_id: runId,
          connection_id: conn.id,
          provider: conn.provider,
          phase,
          ...(detail ? { detail: detail.slice(0, 500) } : {}),
          at: new Date().toISOString(),
        }),
      );
    } catch (e) {
      this.deps.log.warn("cannot publish sync progress", { error: e });
    }
  }

  /**
   * Syncs one connection of one user. Concurrent calls for the same connection share one
   * sync; a call whose request an already finished sync covers does nothing.
   */
  syncConnection(userId: string, connectionId: string, trigger: SyncTrigger): Promise<SyncOutcome> {
    const running = this.#inflight.get(connectionId);
    if (running) {
      // Joined: this request is answered by the sync already running.
      return running.then((o) => {
        if (o.userId === userId && o.provider && o.phase !== "skipped") {
          this.progress(
            { id: connectionId, user_id: userId, provider: o.provider },
            trigger,
            o.phase,
            o.runId,
            o.detail,
          );
        }
        return o;
      });
    }
    const p = this.#run(userId, connectionId, trigger).finally(() => {
      this.#inflight.delete(connectionId);
    });
    this.#inflight.set(connectionId, p);
    return p;
  }

  async #run(userId: string, connectionId: string, trigger: SyncTrigger): Promise<SyncOutcome> {
    const out = await this.#runInner(userId, connectionId, trigger);
    return { ...out, userId };
  }

  async #runInner(
    userId: string,
    connectionId: string,
    trigger: SyncTrigger,
  ): Promise<SyncOutcome> {
    const { sql } = this.deps;
    const conn = await loadConnection(sql, userId, connectionId);
    if (!conn) {
      return { connectionId, phase: "skipped", runId: null, detail: "no such connection" };
    }
    const off = this.#provider(conn).syncDisabled(this.deps.config);
    if (off) {
      this.progress(conn, trigger, "skipped", null, off);
      outcomes.inc({ provider: conn.provider, phase: "skipped" });
      return { connectionId, phase: "skipped", runId: null, detail: off };
    }
    if (conn.status === "disabled") {
      const detail = "This connection is disabled";
      this.progress(conn, trigger, "skipped", null, detail);
      return { connectionId, phase: "skipped", runId: null, detail };
    }
    const release = await this.#slots.acquire();
    try {
      return { ...(await this.#claimAndSync(conn, trigger)), provider: conn.provider };
    } finally {
      release();
    }
  }

  async #claimAndSync(conn: ConnectionRow, trigger: SyncTrigger): Promise<SyncOutcome> {
    const { sql } = this.deps;
    const connectionId = conn.id;
    const covered = await coveredSince(sql, conn.id, trigger.requestedAt);
    if (covered) {
      this.progress(conn, trigger, "succeeded", covered);
      return { connectionId, phase: "succeeded", runId: covered };
    }
    let claim = await claimRun(sql, conn, trigger.requestId, trigger.reason);
    while (claim.kind === "busy") {
      // Another instance is syncing this connection: its result answers this request,
      // unless that instance died, when this one takes over.
      const r = await waitForRun(sql, conn.id, claim.runId);
      if (r && claim.runId) {
        const phase = r.status === "succeeded" ? "succeeded" : "failed";
        this.progress(conn, trigger, phase, claim.runId, r.error ?? undefined);
        return { connectionId, phase, runId: claim.runId, detail: r.error ?? undefined };
      }
      const done = await coveredSince(sql, conn.id, trigger.requestedAt);
      if (done) {
        this.progress(conn, trigger, "succeeded", done);
        return { connectionId, phase: "succeeded", runId: done };
      }
      claim = await claimRun(sql, conn, trigger.requestId, trigger.reason);
    }
    try {
      return await this.#syncClaimed(conn, trigger, claim);
    } finally {
      await claim.release();
    }
  }

  async #syncClaimed(
    conn: ConnectionRow,
    trigger: SyncTrigger,
    claim: { runId: string; startedAt: Date },
  ): Promise<SyncOutcome> {
    const { sql, log } = this.deps;
    const connectionId = conn.id;
    this.progress(conn, trigger, "started", claim.runId);
    const recorder = new CallRecorder();
    let snap: Snapshot;
    let txnsWhy: TransactionsWhy | null = null;
    try {
      // Read before fetching: the write transaction deletes the pending row.
      const state = await loadSyncState(sql, conn);
      snap = await fetchSnapshot(this.deps, conn, recorder, (accounts) => {
        txnsWhy = transactionsNeeded({
          activityWebhooks: this.#provider(conn).capabilities.activityWebhooks,
          reason: trigger.reason,
          transactionsSyncedAt: state.transactionsSyncedAt,
          pendingTransactions: state.pendingTransactions,
          newAccount: accounts.some((a) => !state.accountExternalIds.has(a.external_id)),
          ttlH: this.deps.config.HOLDINGS_TTL_H,
          now: new Date(),
        });
        return txnsWhy !== null;
      });
    } catch (e) {
      return await this.#failed(conn, trigger, claim.runId, recorder, e);
    }
    let written;
    try {
      written = await replaceConnectionData(sql, conn, snap, {
        runId: claim.runId,
        startedAt: claim.startedAt,
        calls: recorder.calls,
      });
    } catch (e) {
      return await this.#failed(conn, trigger, claim.runId, recorder, e);
    }
    if (written.kind === "gone") {
      return { connectionId, phase: "skipped", runId: claim.runId, detail: "connection removed" };
    }
    if (written.kind === "written") {
      await this.deps.js.publish(
        subjects.holdingsChanged(conn.user_id),
        encode(HoldingsChanged, written.holdings),
        { msgID: `${conn.user_id}:${written.version}` },
      );
      // Browsers showing "Updates available" for this connection learn it is cleared.
      if (written.clearedPending) await publishPending(this.deps, conn.user_id);
    }
    this.progress(conn, trigger, "succeeded", claim.runId);
    outcomes.inc({ provider: conn.provider, phase: "succeeded" });
    log.info("connection synced", {
      connection_id: conn.id,
      provider: conn.provider,
      calls: recorder.count,
      accounts: snap.accounts.length,
      positions: snap.positions.length,
      transactions: txnsWhy ?? "not fetched",
    });
    return {
      connectionId,
      phase: "succeeded",
      runId: claim.runId,
      version: written.kind === "written" ? written.version : undefined,
    };
  }

  async #failed(
    conn: ConnectionRow,
    trigger: SyncTrigger,
    runId: string,
    recorder: CallRecorder,
    e: unknown,
  ): Promise<SyncOutcome> {
    const { sql, log } = this.deps;
    let detail: string;
    if (e instanceof ProviderError && e.auth) {
      detail = this.#provider(conn).authFailureReason(conn.institution);
      await markConnectionError(sql, conn, detail);
    } else if (e instanceof ProviderError) {
      detail = `${conn.institution} did not answer as expected (${
        e.status ?? "network"
      }); try again later`;
    } else {
      detail = "The sync failed; try again later";
    }
    const internal = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    await failRun(sql, runId, `${detail} — ${internal}`, recorder.calls).catch((err) =>
      log.error("cannot record a failed sync", { error: err })
    );
    this.progress(conn, trigger, "failed", runId, detail);
    outcomes.inc({ provider: conn.provider, phase: "failed" });
    log.warn("connection sync failed", {
      connection_id: conn.id,
      provider: conn.provider,
      error: internal,
    });
    return { connectionId: conn.id, phase: "failed", runId, detail };
  }

  /** Handles one decoded request: every listed connection that belongs to its user. */
  async handle(req: SyncRequest): Promise<SyncOutcome[]> {
    const trigger: SyncTrigger = {
      requestId: req.request_id,
      reason: req.reason,
      requestedAt: req.requested_at,
    };
    const ids = [...new Set(req.connection_ids)];
    for (const id of ids) {
      if (!this.#inflight.has(id)) {
        this.progress(
          { id, user_id: req.user_id, provider: req.provider },
          trigger,
          "queued",
          null,
        );
      }
    }
    return await Promise.all(ids.map(async (id) => {
      const conn = await loadConnection(this.deps.sql, req.user_id, id, req.provider);
      if (!conn) {
        this.deps.log.warn("sync request names a connection the user does not have", {
          connection_id: id,
          provider: req.provider,
        });
        return { connectionId: id, phase: "skipped" as const, runId: null, detail: "not found" };
      }
      return await this.syncConnection(req.user_id, id, trigger);
    }));
  }

  /** Handles one JetStream message: malformed → terminated; failure → redelivered later. */
  async handleMessage(msg: JsMsg): Promise<void> {
    const parsed = safeDecode(SyncRequest, msg.data);
    if (!parsed.success) {
      this.deps.log.warn("malformed sync request terminated", {
        subject: msg.subject,
        error: parsed.error.slice(0, 300),
      });
      msg.term("malformed");
      return;
    }
    const heartbeat = setInterval(() => msg.working(), 20_000);
    try {
      await this.handle(parsed.data);
      // Confirmed, or a consumer leader's death could have the refresh run again.
      if (!await acknowledge(this.deps.nc, msg)) {
        this.deps.log.warn("sync request acknowledgement unconfirmed; it may be redelivered", {
          request_id: parsed.data.request_id,
        });
      }
    } catch (e) {
      this.deps.log.error("sync request failed; will be redelivered", { error: e });
      msg.nak(5_000);
    } finally {
      clearInterval(heartbeat);
    }
  }

  /** Starts consuming the SYNC work queue. */
  async start(): Promise<void> {
    const consumer: Consumer = await this.deps.js.consumers.get(
      streams.sync.name,
      consumers.sync.durable,
    );
    const messages = await consumer.consume(consumeOptions(256));
    this.#consumer = messages;
    this.#loop = (async () => {
      for await (const m of messages) {
        this.handleMessage(m).catch((e) =>
          this.deps.log.error("sync message handler crashed", { error: e })
        );
      }
    })();
  }

  /** Stops consuming and waits for running syncs. */
  async stop(): Promise<void> {
    this.#consumer?.stop();
    await this.#loop?.catch(() => {});
    await Promise.allSettled([...this.#inflight.values()]);
  }
}

/** Decodes a SyncRequest (re-exported for callers that read one outside the worker). */
export function decodeSyncRequest(data: Uint8Array): SyncRequest {
  return decode(SyncRequest, data);
}
