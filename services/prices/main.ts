/**
 * The prices service: one market-data stream shard per instance. Every instance runs the same
 * command; each claims a free credential by lease (or waits as a hot standby), streams the
 * symbols assigned to its shard, and publishes `prices.<SYMBOL>` and the last prices.
 */
import { buckets } from "@meridian/proto";
import { instanceId, runService } from "@meridian/runtime";
import { Claims } from "./claims.ts";
import { clockCredential, dataCredentials, marketDataEndpoints } from "./credentials.ts";
import { marketDataProvider } from "./market_data/mod.ts";
import { Poller } from "./poller.ts";
import { PricePublisher } from "./publisher.ts";
import { Shard } from "./shard.ts";

await runService({
  name: "prices",
  async start(ctx) {
    const { config, nats, log, readiness, shutdown } = ctx;
    const credentials = dataCredentials(config);
    if (credentials.length === 0) {
      log.error(
        "no market-data credentials: set ALPACA_DATA_KEYS (id:secret,…) or ALPACA_KEY_ID and ALPACA_SECRET_KEY",
      );
      readiness.add("market data credentials", () => false);
      return;
    }
    const provider = marketDataProvider("alpaca", {
      ...marketDataEndpoints(config),
      feed: config.ALPACA_FEED,
      log,
    });
    const [leases, assignments, lastPrices, marketStatus] = await Promise.all([
      nats.kvm.open(buckets.leases.name),
      nats.kvm.open(buckets.symbolAssignments.name),
      nats.kvm.open(buckets.lastPrices.name),
      nats.kvm.open(buckets.marketStatus.name),
    ]);
    const publisher = new PricePublisher(nats.nc, lastPrices, log);
    publisher.start();
    shutdown.add("last prices", () => publisher.stop());

    const shards = new Map<string, Shard>();
    const claims = new Claims({
      leases,
      nc: nats.nc,
      instance: instanceId("prices"),
      credentials,
      log,
      shardInfo: (c) => ({
        ...(shards.get(c.shard)?.info() ?? {
          feed: provider.feed,
          stock_capacity: provider.stockCapacity,
          streaming: true,
        }),
      }),
      shard: (credential) => () => {
        const shard = new Shard({
          credential,
          provider,
          assignments,
          publisher,
          log,
          pollS: config.PRICES_POLL_S,
        });
        shards.set(credential.shard, shard);
        shard.start();
        return Promise.resolve(async () => {
          shards.delete(credential.shard);
          await shard.stop();
        });
      },
      poller: () => {
        const poller = new Poller({
          provider,
          credential: credentials[0],
          clockCredential: clockCredential(config, credentials),
          nc: nats.nc,
          assignments,
          marketStatus,
          publisher,
          log,
          pollS: config.PRICES_POLL_S,
        });
        poller.start();
        return Promise.resolve(() => Promise.resolve(poller.stop()));
      },
    });
    // A shard whose key the provider refused is not ready; a standby is.
    readiness.add("market data", () => [...shards.values()].every((s) => s.info().streaming));
    await claims.start();
    shutdown.add("claims", () => claims.stop());
  },
});
