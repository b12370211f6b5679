/** The prices service: one market-data stream shard. */
import { runService } from "@meridian/runtime";

await runService({ name: "prices" });
