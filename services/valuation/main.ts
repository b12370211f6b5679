/** The valuation service. */
import { runService } from "@meridian/runtime";

await runService({ name: "valuation", database: true });
