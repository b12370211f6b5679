/**
 * Following one key of the `symbol_assignments` bucket: a shard's or the poller's symbols, as
 * the `symbols` leader writes them. A deleted key means no symbols.
 * @module
 */
import type { KV } from "@nats-io/kv";
import { safeDecode, SymbolAssignment } from "@meridian/proto";
import type { Logger } from "@meridian/runtime";

/** The symbols of one target. */
export interface AssignedSymbols {
  stocks: string[];
  crypto: string[];
}

/** Calls `onChange` with the key's symbols now and after every change, until stopped. */
export function watchAssignment(
  kv: KV,
  key: string,
  log: Logger,
  onChange: (symbols: AssignedSymbols) => void,
): () => void {
  let stopped = false;
  let iterator: { stop(): void } | undefined;
  (async () => {
    while (!stopped) {
      try {
        const watch = await kv.watch({ key });
        iterator = watch;
        if (stopped) watch.stop();
        for await (const e of watch) {
          if (e.operation !== "PUT") {
            onChange({ stocks: [], crypto: [] });
            continue;
          }
          const a = safeDecode(SymbolAssignment, e.value);
          if (!a.success) {
            log.warn("ignoring an unreadable assignment", { key, error: a.error });
            continue;
          }
          onChange({ stocks: a.data.stocks, crypto: a.data.crypto });
        }
      } catch (e) {
        if (stopped) return;
        log.warn("assignment watch failed; watching again", { key, error: e });
      }
      if (!stopped) await new Promise((r) => setTimeout(r, 500));
    }
  })();
  return () => {
    stopped = true;
    iterator?.stop();
  };
}
