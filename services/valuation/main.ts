/**
 * The valuation service: values the portfolios of the users it owns on every price tick and
 * publishes `portfolio.value.<userId>`; keeps the ECB's FX reference rates current.
 */
import { connectNats, fxUrl, instanceId, runService } from "@meridian/runtime";
import { scheduleFxRefresh } from "./fx_rates.ts";
import { startValuer } from "./valuer.ts";

await runService({
  name: "valuation",
  database: true,
  async start(ctx) {
    const { sql, nats, log, config, shutdown, readiness } = ctx;
    // The ECB's daily reference rates: at start, then every 6 h (retried with backoff).
    const stopFx = scheduleFxRefresh({ sql, url: fxUrl(config), log });
    shutdown.add("fx rates", stopFx);
    const out = await connectNats({ url: config.NATS_URL, name: "valuation-out", log });
    shutdown.add("nats (values out)", () => out.nc.drain());
    readiness.add("nats (values out)", () => out.connected());
    const stop = await startValuer({
      sql,
      nats,
      out,
      log,
      instance: instanceId("valuation"),
      publishMs: config.VALUE_PUBLISH_MS,
      snapshotIntervalMs: config.SNAPSHOT_INTRADAY_S * 1000,
      intradayDays: config.SNAPSHOT_INTRADAY_DAYS,
    });
    shutdown.add("valuation", stop);
  },
});
