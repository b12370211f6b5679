/**
 * One bounded request-body reader for every service: refuses a body larger than the limit
 * (413) from its Content-Length before reading anything, and while reading a body that has
 * none, so an oversized or endless body is never buffered whole. With a deadline signal it
 * also refuses a body that arrives too slowly (408), so a trickling client cannot hold a
 * request open.
 * @module
 */

/**
 * Why a body was refused: 413 too large, 408 not received before the deadline, 400 a bad
 * Content-Length or a failed read.
 */
export class BodyError extends Error {
  override name = "BodyError";
  constructor(
    readonly status: 400 | 408 | 413,
    readonly reason: "too_large" | "bad_length" | "unreadable_body" | "body_timeout",
    message: string,
  ) {
    super(message);
  }
}

/** Options of {@link readBody}. */
export interface ReadBodyOptions {
  /** Aborts the read (408), e.g. `AbortSignal.timeout(ms)` for a whole-body deadline. */
  signal?: AbortSignal;
}

const timedOut = () => new BodyError(408, "body_timeout", "request body not received in time");

/**
 * Reads at most `limit` bytes of `req`'s body (empty when it has none); throws
 * {@link BodyError}.
 */
export async function readBody(
  req: Request,
  limit: number,
  opts: ReadBodyOptions = {},
): Promise<Uint8Array> {
  const { signal } = opts;
  const declared = req.headers.get("content-length");
  if (declared !== null) {
    const n = /^\d{1,15}$/.test(declared) ? Number(declared) : NaN;
    if (!Number.isSafeInteger(n)) throw new BodyError(400, "bad_length", "invalid Content-Length");
    if (n > limit) throw new BodyError(413, "too_large", `body larger than ${limit} bytes`);
    if (!signal) {
      // The server never delivers more than the declared length: read it in one go.
      try {
        return await req.bytes();
      } catch {
        throw new BodyError(400, "unreadable_body", "request body could not be read");
      }
    }
  }
  if (!req.body) return new Uint8Array(0);
  if (signal?.aborted) {
    await req.body.cancel().catch(() => {});
    throw timedOut();
  }
  const reader = req.body.getReader();
  // Cancelling ends a pending read at once, however long the client keeps silent.
  const onAbort = () => void reader.cancel().catch(() => {});
  signal?.addEventListener("abort", onAbort, { once: true });
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (signal?.aborted) throw timedOut();
      if (done) break;
      size += value.byteLength;
      if (size > limit) {
        await reader.cancel().catch(() => {});
        throw new BodyError(413, "too_large", `body larger than ${limit} bytes`);
      }
      chunks.push(value);
    }
  } catch (e) {
    if (e instanceof BodyError) throw e;
    if (signal?.aborted) throw timedOut();
    throw new BodyError(400, "unreadable_body", "request body could not be read");
  } finally {
    signal?.removeEventListener("abort", onAbort);
  }
  if (chunks.length === 1) return chunks[0];
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.byteLength;
  }
  return bytes;
}
