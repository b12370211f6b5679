/**
 * The symbols service: the collector of held instruments. Every instance contends for the
 * leader lease; the leader assigns symbols to price shards, a follower takes over when the
 * leader's lease is not renewed.
 */
import { buckets, kvKeys } from "@meridian/proto";
import { gauge, instanceId, Lease, LeaseBoard, runService } from "@meridian/runtime";
import { lead } from "./collector.ts";

/** The leader lease's time-to-live: a follower leads within about this after a crash. */
const LEADER_TTL_MS = 5_000;
const CONTEND_EVERY_MS = 500;

const leaderGauge = gauge("meridian_symbols_leader_state", "1 while this instance leads");

await runService({
  name: "symbols",
  database: true,
  async start(ctx) {
    const { nats, sql, log, shutdown } = ctx;
    const instance = instanceId("symbols");
    const leases = await nats.kvm.open(buckets.leases.name);
    const board = new LeaseBoard(leases, {
      filter: kvKeys.symbolsLeader,
      ttlMs: LEADER_TTL_MS,
      log,
      nc: nats.nc,
    });
    await board.start();
    const lease = new Lease({
      kv: leases,
      board,
      key: kvKeys.symbolsLeader,
      holder: instance,
      ttlMs: LEADER_TTL_MS,
      log,
    });

    let stopLeading: Promise<() => Promise<void>> | undefined;
    // After a failed start (the database down, say) wait before contending again.
    let contendAfter = 0;
    lease.onChange((held) => {
      leaderGauge.set(held ? 1 : 0);
      if (held && !stopLeading) {
        log.info("became the leader", { instance });
        stopLeading = lead({ sql, nats, log, instance });
        stopLeading.catch((e) => {
          log.error("leading failed; giving up the lease", { error: e });
          stopLeading = undefined;
          contendAfter = Date.now() + 5_000;
          void lease.release();
        });
      } else if (!held && stopLeading) {
        log.warn("lost the leader lease", { instance });
        const s = stopLeading;
        stopLeading = undefined;
        void s.then((stop) => stop()).catch(() => {});
      }
    });
    const contend = setInterval(() => {
      if (!lease.held && Date.now() >= contendAfter) lease.tryAcquire().catch(() => {});
    }, CONTEND_EVERY_MS);
    await lease.tryAcquire().catch(() => false);

    shutdown.add("leadership", async () => {
      clearInterval(contend);
      const s = stopLeading;
      stopLeading = undefined;
      if (s) await (await s.catch(() => async () => {}))();
      await lease.release();
      board.stop();
    });
  },
});
