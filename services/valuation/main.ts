/**
 * The valuation service: values the portfolios of the users it owns on every price tick and
 * publishes `portfolio.value.<userId>`; records their value history and rebuilds it from
 * transactions; keeps the ECB's FX reference rates current.
 */
import { historicalPricesFromConfig } from "@meridian/prices/market_data";
import { connectNats, fxUrl, instanceId, runService } from "@meridian/runtime";
import { backfillFxHistory } from "./fx_history.ts";
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
    // History reconstruction: daily closes from the market-data provider, rates from the ECB's
    // history files (fetched once per process for the earliest day asked).
    const prices = historicalPricesFromConfig(config, log);
    if (!prices) log.warn("no market-data key: value history is not rebuilt from transactions");
    let fxFrom: string | null = null;
    const ensureFx = async (from: string) => {
      if (fxFrom !== null && fxFrom <= from) return;
      await backfillFxHistory({ sql, url: fxUrl(config), log }, from);
      fxFrom = from;
    };
    const stop = await startValuer({
      sql,
      nats,
      out,
      log,
      instance: instanceId("valuation"),
      publishMs: config.VALUE_PUBLISH_MS,
      snapshotIntervalMs: config.SNAPSHOT_INTRADAY_S * 1000,
      intradayDays: config.SNAPSHOT_INTRADAY_DAYS,
      history: prices && config.HISTORY_BACKFILL_DAYS > 0
        ? { prices, ensureFx, days: config.HISTORY_BACKFILL_DAYS }
        : undefined,
    });
    shutdown.add("valuation", stop);
  },
});
