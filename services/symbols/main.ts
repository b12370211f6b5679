/** The symbols service. */
import { runService } from "@meridian/runtime";

await runService({ name: "symbols", database: true });
