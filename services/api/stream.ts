/**
 * The per-user event stream behind `GET /api/stream`. One NATS subscription per subject
 * pattern for the whole process, fanned out in memory to each user's browsers. Each user
 * has a bounded ring of recent `pending` and `sync` events so a reconnecting browser resumes
 * with Last-Event-ID; when it is too far behind (or the process restarted) it gets a
 * `snapshot` event instead. A `value` is state, not an event: each one supersedes the last,
 * so values carry no id and are not kept in the ring; a browser that connects or resumes gets
 * the latest value. A browser that does not read fast enough is dropped, never buffered
 * without bound.
 * @module
 */
import type { NatsConnection, Subscription } from "@nats-io/nats-core";
import { lastToken, PortfolioPending, safeDecode, subjects, SyncProgress } from "@meridian/proto";
import type { z } from "zod";
import { counter, gauge, type Logger } from "@meridian/runtime";

/** Event names the stream carries. */
export type StreamEventName = "pending" | "sync" | "value" | "snapshot";

/** One event in a user's ring (`pending` or `sync`). */
export interface StreamEvent {
  id: string;
  seq: number;
  event: StreamEventName;
  data: string;
}

/** Options of the hub. */
export interface StreamHubOptions {
  /** Events remembered per user for resumption. */
  ringSize?: number;
  /** Frames a client may have unread before it is dropped. */
  maxQueued?: number;
  heartbeatMs?: number;
  /** How long a user's ring is kept after their last browser leaves. */
  idleUserMs?: number;
  /** Client reconnect delay sent in the stream's `retry:` field. */
  retryMs?: number;
  log?: Logger;
  /**
   * Renders an event's payload from the user's current state instead of forwarding the NATS
   * message as it is, so that the stream carries the same view as the matching GET route.
   */
  views?: Partial<Record<StreamEventName, (userId: string) => Promise<unknown>>>;
  /**
   * The user's current portfolio value (its JSON), for a snapshot when none has been heard
   * here yet: from KV `portfolio_values`, so a page opened between two values has one at once.
   */
  currentValue?: (userId: string) => Promise<string | null>;
}

interface Client {
  userId: string;
  controller: ReadableStreamDefaultController<Uint8Array>;
  closed: boolean;
  /** The latest value frame, held back while the client has a frame unread (latest wins). */
  pendingValue: Uint8Array | null;
}

interface UserState {
  seq: number;
  ring: StreamEvent[];
  clients: Set<Client>;
  idleSince: number;
  /**
   * The latest value as its frame, the bytes every client is sent: a value is framed once per
   * user, not per client, and kept off the JS heap.
   */
  lastValue?: Uint8Array;
  /** The `seq` of `lastValue`: a value at or below it is older and dropped. */
  lastValueSeq: number;
}

const encoder = new TextEncoder();
const textDecoder = new TextDecoder();

/**
 * The head of a `portfolio.value` message as valuation writes it (`user_id`, `time`, `seq`
 * first). Values come tens of thousands a second with 50 quotes each; a full schema pass
 * costs ~60 µs apiece, more than everything else the hub does, so the hub checks the part it
 * relies on (whose value, and its order) and forwards the text as published. The browser
 * parses what it displays.
 */
const VALUE_HEAD = /^\{"user_id":"([0-9a-f-]{36})","time":"[^"]{1,40}","seq":(\d{1,15}),/;
/** Bytes enough for VALUE_HEAD, the only part of a value decoded here. */
const VALUE_HEAD_BYTES = 160;
const HEARTBEAT = encoder.encode(": heartbeat\n\n");
const VALUE_PREFIX = encoder.encode("event: value\ndata: ");
const LF = 10;
const CR = 13;

const clientsGauge = gauge("meridian_api_stream_clients", "Open SSE streams");
const droppedTotal = counter(
  "meridian_api_stream_dropped_total",
  "SSE clients dropped as too slow",
);

function frame(e: { id?: string; event: string; data: string }): Uint8Array {
  return encoder.encode(
    `${e.id ? `id: ${e.id}\n` : ""}event: ${e.event}\ndata: ${e.data}\n\n`,
  );
}

/**
 * The `value` frame of a value's JSON bytes (copied: a NATS message's data is a view of the
 * connection's read buffer), or null when a line break would split its `data:` line.
 */
function valueFrame(json: Uint8Array): Uint8Array | null {
  const out = new Uint8Array(VALUE_PREFIX.length + json.length + 2);
  out.set(VALUE_PREFIX);
  out.set(json, VALUE_PREFIX.length);
  out[out.length - 2] = LF;
  out[out.length - 1] = LF;
  // Searched in the copy: NATS hands a Node Buffer, whose indexOf is a JS loop (a tenth of the
  // api's CPU at 20,000 values a second), where a Uint8Array's is native.
  const lf = out.indexOf(LF, VALUE_PREFIX.length);
  return lf === out.length - 2 && out.indexOf(CR, VALUE_PREFIX.length) < 0 ? out : null;
}

/** The JSON text of a frame made by {@link valueFrame}. */
function valueJson(frame: Uint8Array): string {
  return textDecoder.decode(frame.subarray(VALUE_PREFIX.length, frame.length - 2));
}

/** The in-process fan-out. */
export class StreamHub {
  /** Distinguishes this process's ids from a previous one's, so stale ids get a snapshot. */
  readonly epoch = Date.now().toString(36);
  #users = new Map<string, UserState>();
  #subs: Subscription[] = [];
  #timer: ReturnType<typeof setInterval> | undefined;
  #sweep: ReturnType<typeof setInterval> | undefined;
  #clients = 0;
  #dropped = 0;
  #listeners: ((userId: string, event: StreamEventName) => void)[] = [];
  readonly ringSize: number;
  readonly maxQueued: number;
  readonly idleUserMs: number;
  readonly retryMs: number;

  constructor(private readonly opts: StreamHubOptions = {}) {
    this.ringSize = opts.ringSize ?? 256;
    this.maxQueued = opts.maxQueued ?? 256;
    this.idleUserMs = opts.idleUserMs ?? 10 * 60_000;
    this.retryMs = opts.retryMs ?? 3_000;
  }

  /** Subscribes once per pattern and starts the heartbeat. */
  start(nc: NatsConnection): void {
    this.#listen(nc, subjects.portfolioPendingAll, "pending", PortfolioPending);
    this.#listen(nc, subjects.syncProgressAll, "sync", SyncProgress);
    this.#listenValues(nc);
    this.#timer = setInterval(() => this.heartbeat(), this.opts.heartbeatMs ?? 15_000);
    this.#sweep = setInterval(() => this.#forgetIdle(), 60_000);
  }

  #listen<S extends z.ZodType<{ user_id: string }>>(
    nc: NatsConnection,
    subject: string,
    event: StreamEventName,
    schema: S,
  ): void {
    const sub = nc.subscribe(subject, {
      callback: (err, msg) => {
        if (err) return;
        const userId = lastToken(msg.subject);
        const decoded = safeDecode(schema, msg.data);
        if (!decoded.success || decoded.data.user_id !== userId) {
          this.opts.log?.warn("dropped a malformed stream message", { subject: msg.subject });
          return;
        }
        for (const fn of this.#listeners) fn(userId, event);
        const view = this.opts.views?.[event];
        if (!view) return this.publish(userId, event, JSON.stringify(decoded.data));
        // Only for a user connected here (whose ring exists): nobody else needs the read.
        if (!this.#users.has(userId)) return;
        view(userId).then(
          (v) => this.publish(userId, event, JSON.stringify(v)),
          (e) => this.opts.log?.warn("stream view failed", { event, error: e }),
        );
      },
    });
    this.#subs.push(sub);
  }

  #listenValues(nc: NatsConnection): void {
    const sub = nc.subscribe(subjects.portfolioValueAll, {
      callback: (err, msg) => {
        if (err) return;
        const userId = lastToken(msg.subject);
        const state = this.#users.get(userId);
        // Nobody of this user is (or was recently) connected here: nothing to forward.
        if (!state) return;
        const bytes = valueFrame(msg.data);
        // Only the head is decoded: the rest goes out as the bytes it came as.
        const head = bytes &&
          VALUE_HEAD.exec(
            textDecoder.decode(
              bytes.subarray(VALUE_PREFIX.length, VALUE_PREFIX.length + VALUE_HEAD_BYTES),
            ),
          );
        // The frame ends with the value's closing brace and the blank line.
        if (!head || head[1] !== userId || bytes[bytes.length - 3] !== 0x7d) {
          this.opts.log?.warn("dropped a malformed stream message", { subject: msg.subject });
          return;
        }
        const seq = Number(head[2]);
        // Users moving between valuation instances can deliver an older value late.
        if (seq <= state.lastValueSeq) return;
        state.lastValueSeq = seq;
        for (const fn of this.#listeners) fn(userId, "value");
        this.#publishValue(state, bytes);
      },
    });
    this.#subs.push(sub);
  }

  /** Calls `fn` for every valid event heard on NATS, before it is fanned out. */
  onEvent(fn: (userId: string, event: StreamEventName) => void): void {
    this.#listeners.push(fn);
  }

  /** Stops listening and closes every stream. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    clearInterval(this.#sweep);
    for (const s of this.#subs) s.unsubscribe();
    for (const state of this.#users.values()) {
      for (const c of state.clients) this.#end(c);
    }
    this.#users.clear();
    await Promise.resolve();
  }

  #state(userId: string): UserState {
    let s = this.#users.get(userId);
    if (!s) {
      s = { seq: 0, ring: [], clients: new Set(), idleSince: Date.now(), lastValueSeq: -1 };
      this.#users.set(userId, s);
    }
    return s;
  }

  /**
   * Records an event for `userId` and sends it to each of their open streams; a `value`
   * replaces the user's latest value instead of joining the ring.
   */
  publish(userId: string, event: StreamEventName, data: string): void {
    const state = this.#users.get(userId);
    // Nobody of this user is (or was recently) connected here: nothing to remember.
    if (!state) return;
    if (event === "value") {
      const bytes = valueFrame(encoder.encode(data));
      if (bytes) this.#publishValue(state, bytes);
      return;
    }
    const seq = ++state.seq;
    const e: StreamEvent = { id: `${this.epoch}-${seq}`, seq, event, data };
    state.ring.push(e);
    if (state.ring.length > this.ringSize) state.ring.shift();
    const bytes = frame(e);
    for (const c of state.clients) this.#send(c, bytes);
  }

  #publishValue(state: UserState, bytes: Uint8Array): void {
    state.lastValue = bytes;
    // One frame for all of the user's streams: enqueueing does not copy it. A client still
    // reading an earlier frame gets this one when it is done, in place of any in between: a
    // value supersedes the last, so a slow page costs one frame, not a backlog of them.
    for (const c of state.clients) {
      if ((c.controller.desiredSize ?? 1) > 0) this.#send(c, bytes);
      else c.pendingValue = bytes;
    }
  }

  #send(c: Client, bytes: Uint8Array): void {
    if (c.closed) return;
    const size = c.controller.desiredSize;
    if (size !== null && size <= -this.maxQueued) {
      this.#dropped++;
      droppedTotal.inc();
      this.#end(c);
      return;
    }
    try {
      c.controller.enqueue(bytes);
    } catch {
      this.#end(c);
    }
  }

  #end(c: Client): void {
    if (c.closed) return;
    c.closed = true;
    try {
      // Nothing more is queued for a dropped client: its backlog stays at most `maxQueued`
      // frames, then the stream ends and the browser reconnects with Last-Event-ID.
      c.controller.close();
    } catch {
      // already closed by the peer
    }
    this.#detach(c);
  }

  #detach(c: Client): void {
    const state = this.#users.get(c.userId);
    if (state?.clients.delete(c)) {
      this.#clients--;
      clientsGauge.set(this.#clients);
      if (state.clients.size === 0) state.idleSince = Date.now();
    }
  }

  #forgetIdle(): void {
    const cutoff = Date.now() - this.idleUserMs;
    for (const [id, s] of this.#users) {
      if (s.clients.size === 0 && s.idleSince < cutoff) this.#users.delete(id);
    }
  }

  /** Sends a comment line to every stream so proxies keep them open. */
  heartbeat(): void {
    for (const state of this.#users.values()) {
      for (const c of state.clients) this.#send(c, HEARTBEAT);
    }
  }

  /** Number of open streams. */
  get clients(): number {
    return this.#clients;
  }

  /** Number of streams dropped as too slow. */
  get dropped(): number {
    return this.#dropped;
  }

  /**
   * What a reconnecting browser missed: the events after `lastEventId`, or null when they
   * are no longer all known (it then needs a snapshot).
   */
  missed(userId: string, lastEventId: string | undefined): StreamEvent[] | null {
    const state = this.#state(userId);
    if (lastEventId === undefined) return [];
    const m = /^([0-9a-z]{1,16})-(\d{1,15})$/.exec(lastEventId);
    if (!m || m[1] !== this.epoch) return null;
    const last = Number(m[2]);
    if (last > state.seq) return null;
    if (last === state.seq) return [];
    const first = state.ring[0]?.seq ?? state.seq + 1;
    if (last + 1 < first) return null;
    return state.ring.filter((e) => e.seq > last);
  }

  async #sendCurrentValue(c: Client, state: UserState, userId: string): Promise<void> {
    let bytes = state.lastValue ?? null;
    if (bytes === null && this.opts.currentValue) {
      const seqBefore = state.lastValueSeq;
      try {
        const value = await this.opts.currentValue(userId);
        if (value !== null) bytes = valueFrame(encoder.encode(value));
      } catch (e) {
        this.opts.log?.warn("reading the current value failed", { error: e });
      }
      if (state.lastValueSeq !== seqBefore) return;
    }
    if (bytes !== null) this.#send(c, bytes);
  }

  /**
   * Opens a stream for `userId`. `snapshot` builds the snapshot payload when resumption is
   * impossible; it runs only then.
   */
  open(
    userId: string,
    lastEventId: string | undefined,
    snapshot: () => Promise<unknown>,
  ): ReadableStream<Uint8Array> {
    const state = this.#state(userId);
    let client: Client | undefined;
    return new ReadableStream<Uint8Array>({
      start: async (controller) => {
        const c: Client = { userId, controller, closed: false, pendingValue: null };
        client = c;
        controller.enqueue(encoder.encode(`retry: ${this.retryMs}\n: connected\n\n`));
        const attach = () => {
          state.clients.add(c);
          this.#users.set(userId, state);
          this.#clients++;
          clientsGauge.set(this.#clients);
        };
        const missed = this.missed(userId, lastEventId);
        if (missed !== null) {
          for (const e of missed) this.#send(c, frame(e));
          attach();
          // A new or resuming page gets the current value at once (values are not replayed:
          // the latest supersedes what it missed), unless a newer one arrived meanwhile.
          await this.#sendCurrentValue(c, state, userId);
          return;
        }
        const head = state.seq;
        let payload: unknown = null;
        let value = state.lastValue ? valueJson(state.lastValue) : null;
        try {
          [payload, value] = await Promise.all([
            snapshot(),
            value === null && this.opts.currentValue
              ? this.opts.currentValue(userId)
              : Promise.resolve(value),
          ]);
        } catch (e) {
          this.opts.log?.warn("stream snapshot failed", { error: e });
        }
        if (c.closed) return;
        // A value heard while reading is newer than the one read.
        if (state.lastValue) value = valueJson(state.lastValue);
        const data = JSON.stringify({
          ...(payload && typeof payload === "object" ? payload : {}),
          value: value ? JSON.parse(value) : null,
        });
        // The snapshot covers everything up to `head`; what came during the read follows it.
        this.#send(c, frame({ id: `${this.epoch}-${head}`, event: "snapshot", data }));
        for (const e of state.ring) if (e.seq > head) this.#send(c, frame(e));
        if (!c.closed) attach();
      },
      pull: () => {
        const c = client;
        if (c?.pendingValue) {
          const bytes = c.pendingValue;
          c.pendingValue = null;
          this.#send(c, bytes);
        }
      },
      cancel: () => {
        if (client && !client.closed) {
          client.closed = true;
          this.#detach(client);
        }
      },
    }, new CountQueuingStrategy({ highWaterMark: 1 }));
  }
}
