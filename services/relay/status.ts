/**
 * Shows the relay outbox: rows stored, the backlog not yet forwarded, and its age.
 *
 *   deno task relay:status
 * @module
 */
import { loadConfig } from "@meridian/runtime";
import { Outbox } from "./outbox.ts";

const config = loadConfig();
const outbox = new Outbox(config.RELAY_OUTBOX_PATH);
const s = outbox.status();
console.log(`outbox ${config.RELAY_OUTBOX_PATH}`);
console.log(`  stored:          ${s.total}`);
console.log(`  backlog:         ${s.backlog}`);
console.log(`  oldest backlog:  ${s.oldest_backlog ?? "-"}`);
console.log(`  last forwarded:  ${s.last_forwarded ?? "-"}`);
for (const p of s.providers as Record<string, unknown>[]) {
  console.log(
    `  ${String(p.provider).padEnd(10)} stored ${p.total}, backlog ${p.backlog ?? 0}` +
      (p.oldest_backlog ? `, oldest ${p.oldest_backlog}` : ""),
  );
}
outbox.close();
