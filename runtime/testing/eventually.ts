/**
 * Waiting on a condition with a deadline, for tests: never a fixed sleep.
 * @module
 */

/**
 * Polls `fn` every `intervalMs` until it returns a truthy value, and returns that value; past
 * `timeoutMs` it throws, naming `what` (and the last error `fn` threw, if any).
 */
export async function eventually<T>(
  fn: () => T | null | undefined | false | Promise<T | null | undefined | false>,
  opts: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      const why = last ? `: ${(last as Error)?.message ?? last}` : "";
      throw new Error(`timed out waiting for ${opts.what ?? "a condition"}${why}`);
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 50));
  }
}
