/**
 * Pure pieces of the `make up` supervisor: the restart policy and line prefixing.
 * @module
 */

/** Restart policy: exponential backoff from 1 s to 30 s, reset after 30 s of healthy running. */
export class RestartPolicy {
  #attempt = 0;

  constructor(
    private readonly baseMs = 1_000,
    private readonly maxMs = 30_000,
    private readonly stableMs = 30_000,
  ) {}

  /** The delay before restarting a process that ran for `uptimeMs` and exited. */
  nextDelay(uptimeMs: number): number {
    if (uptimeMs >= this.stableMs) this.#attempt = 0;
    const delay = Math.min(this.maxMs, this.baseMs * 2 ** this.#attempt);
    this.#attempt++;
    return delay;
  }
}

/** Exit code that means "bad configuration": restarting cannot help. */
export const CONFIG_EXIT_CODE = 2;

/** True when a service that exited with `code` should be restarted. */
export function shouldRestart(code: number, shuttingDown: boolean): boolean {
  return !shuttingDown && code !== CONFIG_EXIT_CODE;
}

/** Splits a byte stream into lines, each written with `prefix`; a trailing partial line is kept. */
export class LinePrefixer {
  #pending = "";
  readonly #decoder = new TextDecoder();

  constructor(private readonly prefix: string, private readonly write: (line: string) => void) {}

  /** Feeds a chunk; writes every complete line. */
  push(chunk: Uint8Array): void {
    this.#pending += this.#decoder.decode(chunk, { stream: true });
    const lines = this.#pending.split("\n");
    this.#pending = lines.pop() ?? "";
    for (const line of lines) this.write(`${this.prefix}${line}`);
  }

  /** Writes what is left. */
  flush(): void {
    if (this.#pending) this.write(`${this.prefix}${this.#pending}`);
    this.#pending = "";
  }
}
