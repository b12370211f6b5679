/** The valuation service. */
import { fxUrl, runService } from "@meridian/runtime";
import { scheduleFxRefresh } from "./fx_rates.ts";

await runService({
  name: "valuation",
  database: true,
  start(ctx) {
    // The ECB's daily reference rates: at start, then every 6 h (retried with backoff).
    const stop = scheduleFxRefresh({ sql: ctx.sql, url: fxUrl(ctx.config), log: ctx.log });
    ctx.shutdown.add("fx rates", stop);
  },
});
