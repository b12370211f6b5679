/**
 * The running valuation: wires the engine to NATS and PostgreSQL.
 * - ticks from `prices.*`, previous closes from KV `last_prices`, the market from KV
 *   `market_status`;
 * - the users it owns (see membership.ts), loaded from PostgreSQL, and reloaded when
 *   `holdings.changed.<user>` or `users.settings.<user>` says so; a reconciliation every
 *   `RECONCILE_MS` catches anything missed while NATS was away (by holdings version);
 * - FX rates re-read every minute (the fx refresh stores them at start and every 6 h);
 * - each due portfolio published through the publisher.
 * @module
 */
import { clearImmediate, setImmediate } from "node:timers";
import {
  buckets,
  decodePriceTick,
  HoldingsChanged,
  kvKeys,
  LastPrice,
  lastToken,
  MarketStatus,
  safeDecode,
  subjects,
  UserSettingsChanged,
} from "@meridian/proto";
import { latestFxRates } from "@meridian/portfolio";
import {
  counter,
  gauge,
  KvMirror,
  type Logger,
  type NatsHandle,
  type Sql,
} from "@meridian/runtime";
import { ValuationEngine } from "./engine.ts";
import { Membership } from "./membership.ts";
import { ValuePublisher } from "./publisher.ts";
import { type BackfillDeps, HistoryBackfill } from "./backfill.ts";
import { SnapshotRecorder } from "./snapshots.ts";
import { loadHoldings } from "./store.ts";

/** How often the owned users are checked against PostgreSQL's holdings versions. */
export const RECONCILE_MS = 10_000;
// Short, so rates the first fetch stores right after start are used within a minute.
const FX_RELOAD_MS = 60_000;
/** An unchanged portfolio is republished this often (freshness moves with time). */
const REFRESH_MS = 30_000;
const DRAIN_EVERY_MS = 10;
/** Turns per drain before yielding to incoming ticks. */
const DRAIN_BUDGET = 128;
/**
 * Values written and not yet acknowledged, at most: enough to keep NATS busy, few enough
 * that a woken portfolio's value is not queued behind a second's worth of others.
 */
const MAX_IN_FLIGHT = 128;
const LOAD_BATCH = 500;
/** How often every valued user's connections are checked for a history rebuild. */
const BACKFILL_SCAN_MS = 300_000;

const ticksTotal = counter("meridian_valuation_ticks_total", "Price ticks applied");
const usersGauge = gauge("meridian_valuation_users", "Portfolios valued by this instance");
const membersGauge = gauge("meridian_valuation_members", "Live valuation instances");

/** What the valuer needs. */
export interface ValuerDeps {
  sql: Sql;
  nats: NatsHandle;
  log: Logger;
  instance: string;
  publishMs: number;
  /** Value history: an intraday point every this many ms while prices move. */
  snapshotIntervalMs: number;
  /** Days intraday points are kept at full resolution. */
  intradayDays: number;
  /** History reconstruction (market data, FX, days); none: no rebuilds. */
  history?: Omit<BackfillDeps, "sql" | "log">;
  /**
   * A second connection for what valuation sends (KV writes and their acknowledgements, the
   * values): on the connection that receives every tick, an acknowledgement would queue
   * behind thousands of ticks.
   */
  out: NatsHandle;
}

/** Starts valuing; returns the stop function. */
export async function startValuer(deps: ValuerDeps): Promise<() => Promise<void>> {
  const { sql, nats, log } = deps;
  const { nc } = nats;
  const [values, lastPrices, market, leases] = await Promise.all([
    deps.out.kvm.open(buckets.portfolioValues.name),
    nats.kvm.open(buckets.lastPrices.name),
    nats.kvm.open(buckets.marketStatus.name),
    nats.kvm.open(buckets.leases.name),
  ]);

  const publisher: ValuePublisher = new ValuePublisher(
    deps.out,
    values,
    log,
    (u, ok, seq) => {
      engine.settled(u, ok, seq);
      if (engine.takeDrainAgain()) drainSoon();
    },
  );
  const engine = new ValuationEngine({
    publishMs: deps.publishMs,
    refreshMs: REFRESH_MS,
    publish: (v) => publisher.send(v),
    maxInFlight: MAX_IN_FLIGHT,
  });
  const membership = new Membership({ leases, nc, instance: deps.instance, log });
  const backfill = deps.history
    ? new HistoryBackfill({ sql, log, ...deps.history }, (u) => membership.owns(u))
    : null;
  const snapshots = new SnapshotRecorder({
    sql,
    log,
    source: engine,
    intervalMs: deps.snapshotIntervalMs,
    intradayDays: deps.intradayDays,
  });

  // Drains the due portfolios; again at once while the budget runs out (yielding in between).
  let draining: ReturnType<typeof setImmediate> | undefined;
  const drain = () => {
    draining = undefined;
    const before = Date.now();
    engine.drain(before, DRAIN_BUDGET);
    if (engine.takeDrainAgain()) drainSoon();
  };
  const drainSoon = () => {
    // After the pending I/O (ticks, acknowledgements), without the 4 ms clamp nested
    // setTimeout(0) calls get.
    draining ??= setImmediate(drain);
  };
  const timer = setInterval(() => drainSoon(), DRAIN_EVERY_MS);

  // Quotes: ticks first (cheap, most frequent), then the KV for previous closes.
  const ticks = nc.subscribe(subjects.priceAll, {
    callback: (err, msg) => {
      if (err) return;
      const tick = decodePriceTick(msg.data);
      if (!tick) return;
      ticksTotal.inc();
      engine.onTick(tick, Date.now());
      if (engine.takeDrainAgain()) drainSoon();
    },
  });
  const lastPriceMirror = new KvMirror(lastPrices, {
    filter: ">",
    log,
    nc,
    onPut: (_key, value) => {
      const last = safeDecode(LastPrice, value);
      if (last.success) engine.onLastPrice(last.data, Date.now());
    },
  });
  const marketMirror = new KvMirror(market, {
    filter: kvKeys.usEquityMarket,
    log,
    nc,
    onPut: (_key, value) => {
      const m = safeDecode(MarketStatus, value);
      if (m.success) engine.setMarket(m.data.is_open ? "open" : "closed", Date.now());
    },
  });

  // Users: loads are serialised so a reload never races an older one for the same user.
  const versions = new Map<string, string>();
  let loading: Promise<void> = Promise.resolve();
  const load = (ids: string[]) => {
    loading = loading.then(() => loadUsers(ids)).catch((e) =>
      log.warn("loading holdings failed; the next reconciliation retries", { error: e })
    );
    return loading;
  };
  const loadUsers = async (ids: string[]) => {
    for (let i = 0; i < ids.length; i += LOAD_BATCH) {
      const batch = ids.slice(i, i + LOAD_BATCH).filter((id) => membership.owns(id));
      const fresh = batch.filter((id) => !engine.has(id));
      const seqs = new Map(
        await Promise.all(fresh.map(async (id) => [id, await publisher.lastSeq(id)] as const)),
      );
      for (const h of await loadHoldings(sql, batch)) {
        if (!membership.owns(h.user_id)) continue;
        engine.setUser(h, Date.now(), seqs.get(h.user_id) ?? 0);
      }
    }
    usersGauge.set(engine.users);
    drainSoon();
  };

  const reconcile = async () => {
    const rows = await sql<{ id: string; version: string }[]>`
      select u.id, concat_ws('|', u.holdings_version, u.base_currency) as version
        from users u where exists (select 1 from accounts a where a.user_id = u.id)`;
    const wanted = new Set<string>();
    const stale: string[] = [];
    for (const r of rows) {
      if (!membership.owns(r.id)) continue;
      wanted.add(r.id);
      if (!engine.has(r.id) || versions.get(r.id) !== r.version) stale.push(r.id);
      versions.set(r.id, r.version);
    }
    for (const id of engine.userIds()) {
      if (!wanted.has(id)) {
        engine.removeUser(id);
        publisher.forget(id);
        snapshots.forget(id);
        versions.delete(id);
      }
    }
    if (stale.length) await load(stale);
    backfill?.request(stale);
    usersGauge.set(engine.users);
  };
  let reconciling: Promise<void> | null = null;
  const reconcileSoon = () => {
    reconciling ??= reconcile()
      .catch((e) => log.warn("reconciling valued users failed", { error: e }))
      .finally(() => reconciling = null);
    return reconciling;
  };

  const holdings = nc.subscribe(subjects.holdingsChangedAll, {
    callback: (err, msg) => {
      if (err) return;
      const m = safeDecode(HoldingsChanged, msg.data);
      const user = lastToken(msg.subject);
      if (!m.success || m.data.user_id !== user || !membership.owns(user)) return;
      void load([user]).then(() => backfill?.request([user]));
    },
  });
  const settings = nc.subscribe(subjects.userSettingsAll, {
    callback: (err, msg) => {
      if (err) return;
      const m = safeDecode(UserSettingsChanged, msg.data);
      const user = lastToken(msg.subject);
      if (!m.success || m.data.user_id !== user || !membership.owns(user)) return;
      void load([user]);
    },
  });

  const reloadFx = async () => {
    const fx = await latestFxRates(sql);
    engine.setFx(fx, Date.now());
  };
  await reloadFx();
  const fxTimer = setInterval(
    () => reloadFx().catch((e) => log.warn("reading fx rates failed", { error: e })),
    FX_RELOAD_MS,
  );

  await Promise.all([lastPriceMirror.start(), marketMirror.start()]);
  membership.onChange(() => {
    membersGauge.set(membership.members.length);
    void reconcileSoon();
  });
  await membership.start();
  await reconcileSoon();
  const reconcileTimer = setInterval(() => void reconcileSoon(), RECONCILE_MS);
  snapshots.start();
  // Rebuilds that failed are retried, and connections missed while NATS was away are found.
  const backfillTimer = setInterval(() => backfill?.request(engine.userIds()), BACKFILL_SCAN_MS);
  log.info("valuing", { users: engine.users, members: membership.members.length });

  return async () => {
    clearInterval(timer);
    clearInterval(fxTimer);
    clearInterval(reconcileTimer);
    clearInterval(backfillTimer);
    await snapshots.stop();
    await backfill?.stop();
    if (draining) clearImmediate(draining);
    ticks.unsubscribe();
    holdings.unsubscribe();
    settings.unsubscribe();
    lastPriceMirror.stop();
    marketMirror.stop();
    await membership.stop();
    await reconciling;
    await loading;
    publisher.close();
  };
}
