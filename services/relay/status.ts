/**
 * Shows the relay outbox: rows stored, the backlog not yet forwarded and its age, and the rows
 * set aside as poisoned (unpublishable; `relay:replay --poisoned` sends them again).
 *
 *   deno task relay:status
 * @module
 */
import { loadConfig } from "@meridian/runtime";
import { Outbox } from "./outbox.ts";

/** How many poisoned rows are listed one by one. */
const LISTED = 20;

const config = loadConfig();
const outbox = new Outbox(config.RELAY_OUTBOX_PATH);
const s = outbox.status();
console.log(`outbox ${config.RELAY_OUTBOX_PATH}`);
console.log(`  stored:          ${s.total}`);
console.log(`  backlog:         ${s.backlog}`);
console.log(`  poisoned:        ${s.poisoned}`);
console.log(`  oldest backlog:  ${s.oldest_backlog ?? "-"}`);
console.log(`  last forwarded:  ${s.last_forwarded ?? "-"}`);
for (const p of s.providers as Record<string, unknown>[]) {
  console.log(
    `  ${String(p.provider).padEnd(10)} stored ${p.total}, backlog ${p.backlog ?? 0}` +
      (p.poisoned ? `, poisoned ${p.poisoned}` : "") +
      (p.oldest_backlog ? `, oldest ${p.oldest_backlog}` : ""),
  );
}
if (s.poisoned > 0) {
  console.log(`poisoned (relay:replay --poisoned sends them again):`);
  for (const r of outbox.poisoned(undefined, 0, LISTED)) {
    // JSON.stringify shows control characters in an id instead of writing them to the terminal.
    console.log(
      `  #${r.seq} ${r.provider} ${JSON.stringify(r.event_id).slice(0, 80)} ` +
        `received ${r.received_at}, set aside ${r.failed_at}: ${r.failure}`,
    );
  }
  if (s.poisoned > LISTED) console.log(`  … and ${s.poisoned - LISTED} more`);
}
outbox.close();
