/**
 * A response written as events happen (server-sent events), behind one interface: the
 * node:http listener writes straight to its response (`serveNodeHttp`), anything else gets a
 * ReadableStream body (`Deno.serve`, `app.request` in tests).
 * @module
 */

/** Where a held response's bytes go. */
export interface EventSink {
  /**
   * Sends `bytes`. False once the client has more unread than it may be sent ahead: what was
   * written is still sent, and `onDrain` tells when the client has caught up.
   */
  write(bytes: Uint8Array): boolean;
  /** Bytes sent and not yet taken by the client. */
  readonly backlog: number;
  /** Whether the client has taken what it was sent ahead, so a write goes straight out. */
  readonly ready: boolean;
  /** Calls `fn` each time the client catches up after a write returned false. */
  onDrain(fn: () => void): void;
  /** Calls `fn` once when the client goes away (not when the sink is closed here). */
  onClose(fn: () => void): void;
  /** Ends the response. */
  close(): void;
}

/** A held response: the sink to write to, and the Response to return from the handler. */
export interface EventStream {
  sink: EventSink;
  response: Response;
}

/** Opens an event stream with these headers (status 200). */
export type OpenEventStream = (headers: Record<string, string>) => EventStream;

/** Bytes a client may be sent ahead before a write reports it must wait. */
export const EVENT_WRITE_AHEAD_BYTES = 4096;

/**
 * An event stream whose body is a ReadableStream (for `Deno.serve` and in-process requests),
 * sending at most `writeAheadBytes` ahead of its reader.
 */
export function readableEventStream(
  headers: Record<string, string>,
  writeAheadBytes: number = EVENT_WRITE_AHEAD_BYTES,
): EventStream {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let ended = false;
  const drained: (() => void)[] = [];
  const gone: (() => void)[] = [];
  const body = new ReadableStream<Uint8Array>(
    {
      start: (c) => {
        controller = c;
      },
      pull: () => {
        for (const fn of drained) fn();
      },
      cancel: () => {
        if (ended) return;
        ended = true;
        for (const fn of gone) fn();
      },
    },
    new ByteLengthQueuingStrategy({ highWaterMark: writeAheadBytes }),
  );
  const sink: EventSink = {
    write(bytes) {
      if (ended) return false;
      controller.enqueue(bytes);
      return (controller.desiredSize ?? 0) > 0;
    },
    get backlog() {
      return writeAheadBytes - (controller.desiredSize ?? writeAheadBytes);
    },
    get ready() {
      return !ended && (controller.desiredSize ?? 0) > 0;
    },
    onDrain: (fn) => drained.push(fn),
    onClose: (fn) => gone.push(fn),
    close() {
      if (ended) return;
      ended = true;
      try {
        controller.close();
      } catch {
        // already closed by the peer
      }
    },
  };
  return { sink, response: new Response(body, { headers }) };
}
