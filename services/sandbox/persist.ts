/**
 * The sandbox's state file: one JSON snapshot of everything the imitated providers would keep,
 * loaded at start and rewritten atomically (temp file + rename), at most once per
 * {@link SAVE_DELAY_MS} after a change, plus a final write on close.
 * @module
 */
import type { AlpacaState } from "./alpaca/mod.ts";
import type { PlaidState } from "./plaid/mod.ts";
import type { SnapTradeState } from "./snaptrade/mod.ts";
import type { SandboxLog } from "./webhooks.ts";

/** Bumped when the snapshot's shape changes incompatibly (an old file is then ignored). */
export const STATE_VERSION = 1;

/** Debounce between a change and its write. */
export const SAVE_DELAY_MS = 250;

/** The whole snapshot. */
export interface SandboxState {
  version: typeof STATE_VERSION;
  savedAt: string;
  snaptrade: SnapTradeState;
  plaid: PlaidState;
  /** `null` when the sandbox ran without Alpaca. */
  alpaca: AlpacaState | null;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

// Shape check of the outer layers; the provider modules check what they rely on when restoring.
function looksLikeState(v: unknown): v is SandboxState {
  if (!isObject(v) || v.version !== STATE_VERSION) return false;
  const { snaptrade: s, plaid: p, alpaca: a } = v;
  return isObject(s) && ["users", "authorizations", "accounts", "logins", "trades"]
    .every((k) => Array.isArray(s[k])) &&
    isObject(p) && isObject(p.signer) &&
    ["items", "linkTokens", "publicTokens"].every((k) => Array.isArray(p[k])) &&
    (a === null || (isObject(a) && Array.isArray(a.accounts)));
}

/**
 * Reads the state file. A missing file answers `null` quietly; an unreadable or malformed one
 * answers `null` with a warning (the sandbox starts fresh) and is kept aside as `<path>.corrupt`.
 */
export async function loadState(path: string, log: SandboxLog): Promise<SandboxState | null> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      log("info", "no sandbox state file yet; starting fresh", { path });
      return null;
    }
    log("warn", "sandbox state file unreadable; starting fresh", { path, error: String(e) });
    return null;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    parsed = e;
  }
  if (looksLikeState(parsed)) return parsed;
  discard(path, log, parsed instanceof Error ? parsed.message : "not a sandbox state snapshot");
  return null;
}

/** Warns that the state file could not be used and moves it aside (best effort). */
export function discard(path: string, log: SandboxLog, reason: string): void {
  log("warn", "sandbox state file is corrupt; starting fresh", { path, error: reason });
  try {
    Deno.renameSync(path, `${path}.corrupt`);
  } catch { /* it will be overwritten by the next save */ }
}

/** Writes snapshots of `snapshot()` to `path`: debounced, atomic, and skipped when unchanged. */
export class StateFile {
  #timer: ReturnType<typeof setTimeout> | undefined;
  #writing: Promise<void> = Promise.resolve();
  #last = "";
  #closed = false;

  constructor(
    readonly path: string,
    private readonly snapshot: () => SandboxState,
    private readonly log: SandboxLog,
  ) {}

  /** Something may have changed: save within {@link SAVE_DELAY_MS}. */
  changed(): void {
    if (this.#closed || this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.flush();
    }, SAVE_DELAY_MS);
  }

  /** Writes the current state now (after any write in progress); never throws. */
  flush(): Promise<void> {
    this.#writing = this.#writing.then(() => this.#write());
    return this.#writing;
  }

  async #write(): Promise<void> {
    let text: string;
    try {
      const { savedAt: _, ...rest } = this.snapshot();
      text = JSON.stringify(rest);
    } catch (e) {
      this.log("error", "sandbox state snapshot failed", { error: String(e) });
      return;
    }
    if (text === this.#last) return;
    const full = `{"savedAt":${JSON.stringify(new Date().toISOString())},${text.slice(1)}`;
    const tmp = `${this.path}.${Deno.pid}.tmp`;
    try {
      const dir = this.path.replace(/[\\/][^\\/]*$/, "");
      if (dir && dir !== this.path) await Deno.mkdir(dir, { recursive: true });
      await Deno.writeTextFile(tmp, full);
      await Deno.rename(tmp, this.path);
      this.#last = text;
    } catch (e) {
      this.log("warn", "sandbox state not saved", { path: this.path, error: String(e) });
      await Deno.remove(tmp).catch(() => {});
    }
  }

  /** Cancels the pending save and writes the final state. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.flush();
  }
}
