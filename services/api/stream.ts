/**
 * The per-user event stream behind `GET /api/stream`. One NATS subscription per subject
 * pattern for the whole process, fanned out in memory to each user's browsers. Each user
 * has a bounded ring of recent `pending`, `sync` and `order` events so a reconnecting browser resumes
 * with Last-Event-ID; when it is too far behind (or the process restarted) it gets a
 * `snapshot` event instead. When the hub's NATS connection comes back after losing its
 * server (a cluster node died), what was published meanwhile never reached it: every open
 * stream gets a snapshot, and no resumption reaches back across that gap. A `value` is state, not an event: each one supersedes the last,
 * so values carry no id and are not kept in the ring; a browser that connects or resumes gets
 * the latest value. A browser that does not read fast enough is dropped, never buffered
 * without bound.
 * @module
 */
import type { NatsConnection, Subscription } from "@nats-io/nats-core";
import {
  lastToken,
  OrderEvent,
  PortfolioPending,
  safeDecode,
  subjects,
  SyncProgress,
} from "@meridian/proto";
import type { z } from "zod";
import { counter, type EventSink, gauge, type Logger, OffHeapPressure } from "@meridian/runtime";

/** Event names the stream carries. */
export type StreamEventName = "pending" | "sync" | "value" | "snapshot" | "order";

/** One event in a user's ring (`pending`, `sync` or `order`). */
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
  /** Bytes a client may have unread before it is dropped. */
  maxBacklogBytes?: number;
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
  state: UserState;
  sink: EventSink;
  /** Builds the payload of a snapshot for this client's user. */
  snapshot: () => Promise<unknown>;
  closed: boolean;
  /** A value came while the client had a frame unread: it gets the latest when it reads. */
  valueHeldBack: boolean;
  /** A snapshot is being built for it: events wait in the ring, values until it is sent. */
  resyncing: boolean;
}

interface UserState {
  seq: number;
  ring: StreamEvent[];
  clients: Set<Client>;
  idleSince: number;
  /** The latest value as its frame. */
  lastValue: LatestFrame;
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

/** Value frame bytes sent between two full collections (see OffHeapPressure). */
const FRAMED_BYTES_PER_COLLECTION = 256 * 1024 * 1024;

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
 * `json` as a plain Uint8Array view (no copy) when it fits on one `data:` line, else null.
 * NATS hands a Node Buffer, whose indexOf is a JS loop (a tenth of the api's CPU at 20,000
 * values a second), where a Uint8Array's is native.
 */
function singleLine(json: Uint8Array): Uint8Array | null {
  const bytes = new Uint8Array(json.buffer, json.byteOffset, json.byteLength);
  return bytes.indexOf(LF) < 0 && bytes.indexOf(CR) < 0 ? bytes : null;
}

/** The `value` frame of a value's JSON bytes, or null when a line break would split it. */
function valueFrame(json: Uint8Array): Uint8Array | null {
  const line = singleLine(json);
  if (!line) return null;
  const out = new Uint8Array(VALUE_PREFIX.length + line.length + 2);
  writeFrame(out, line);
  return out;
}

/** Writes the `value` frame of `json` (a single line) at the start of `out`; its length. */
function writeFrame(out: Uint8Array, json: Uint8Array): number {
  const length = VALUE_PREFIX.length + json.length + 2;
  out.set(VALUE_PREFIX);
  out.set(json, VALUE_PREFIX.length);
  out[length - 2] = LF;
  out[length - 1] = LF;
  return length;
}

/**
 * A user's latest value frame, overwritten in place. Values arrive tens of thousands a second
 * and each is kept until the next: as a fresh buffer apiece they would outlive the young
 * generation and pile up off-heap until a full collection, which the V8 heap does not see the
 * need for (the api grew past 2 GB in a minute). Clients are sent a copy, gone once written.
 */
class LatestFrame {
  #bytes = new Uint8Array(0);
  #length = 0;

  get empty(): boolean {
    return this.#length === 0;
  }

  /** Replaces the frame with that of `json` (a single line). */
  set(json: Uint8Array): void {
    const length = VALUE_PREFIX.length + json.length + 2;
    // Headroom, so that a value growing by a few bytes does not allocate each time.
    if (length > this.#bytes.length) this.#bytes = new Uint8Array(Math.ceil(length * 1.25));
    this.#length = writeFrame(this.#bytes, json);
  }

  /** The frame, copied (the copy is what a client is sent). */
  copy(): Uint8Array {
    return this.#bytes.slice(0, this.#length);
  }

  /** The value's JSON text, or null when there is none yet. */
  json(): string | null {
    if (this.empty) return null;
    return textDecoder.decode(this.#bytes.subarray(VALUE_PREFIX.length, this.#length - 2));
  }
}

/** The in-process fan-out. */
export class StreamHub {
  /** Distinguishes this process's ids from a previous one's, so stale ids get a snapshot. */
  readonly epoch = Date.now().toString(36);
  #users = new Map<string, UserState>();
  #subs: Subscription[] = [];
  #status: { stop(): void } | null = null;
  #timer: ReturnType<typeof setInterval> | undefined;
  #sweep: ReturnType<typeof setInterval> | undefined;
  #clients = 0;
  #dropped = 0;
  #listeners: ((userId: string, event: StreamEventName) => void)[] = [];
  /** The value frames sent, each a copy that lives until written. */
  #framed = new OffHeapPressure(FRAMED_BYTES_PER_COLLECTION);
  readonly ringSize: number;
  readonly maxBacklogBytes: number;
  readonly idleUserMs: number;
  readonly retryMs: number;

  constructor(private readonly opts: StreamHubOptions = {}) {
    this.ringSize = opts.ringSize ?? 256;
    this.maxBacklogBytes = opts.maxBacklogBytes ?? 256 * 1024;
    this.idleUserMs = opts.idleUserMs ?? 10 * 60_000;
    this.retryMs = opts.retryMs ?? 3_000;
  }

  /** Subscribes once per pattern and starts the heartbeat. */
  start(nc: NatsConnection): void {
    this.#listen(nc, subjects.portfolioPendingAll, "pending", PortfolioPending);
    this.#listen(nc, subjects.syncProgressAll, "sync", SyncProgress);
    this.#listen(nc, subjects.ordersAll, "order", OrderEvent);
    this.#listenValues(nc);
    this.#timer = setInterval(() => this.heartbeat(), this.opts.heartbeatMs ?? 15_000);
    this.#sweep = setInterval(() => this.#forgetIdle(), 60_000);
    const status = nc.status();
    // The iterator the client returns can be stopped, though its type does not say so.
    this.#status = { stop: () => (status as Partial<{ stop(): void }>).stop?.() };
    (async () => {
      for await (const s of status) if (s.type === "reconnect") this.resync();
    })().catch(() => {});
  }

  /**
   * Marks a gap: events published while the hub could not hear them are lost to it. Every
   * user's ring is emptied and their sequence moves past the gap, so a resumption from before
   * it gets a snapshot, and every open stream is sent one now.
   */
  resync(): void {
    for (const state of this.#users.values()) {
      state.ring = [];
      state.seq++;
      for (const c of state.clients) {
        if (c.resyncing) continue;
        c.resyncing = true;
        this.#sendSnapshot(c).catch((e) => {
          this.opts.log?.warn("stream resync failed", { error: e });
          this.#end(c);
        });
      }
    }
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
        const json = singleLine(msg.data);
        // Only the head is decoded: the rest goes out as the bytes it came as.
        const head = json &&
          VALUE_HEAD.exec(textDecoder.decode(json.subarray(0, VALUE_HEAD_BYTES)));
        if (!head || head[1] !== userId || json[json.length - 1] !== 0x7d) {
          this.opts.log?.warn("dropped a malformed stream message", { subject: msg.subject });
          return;
        }
        const seq = Number(head[2]);
        // Users moving between valuation instances can deliver an older value late.
        if (seq <= state.lastValueSeq) return;
        state.lastValueSeq = seq;
        for (const fn of this.#listeners) fn(userId, "value");
        this.#publishValue(state, json);
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
    this.#status?.stop();
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
      s = {
        seq: 0,
        ring: [],
        clients: new Set(),
        idleSince: Date.now(),
        lastValue: new LatestFrame(),
        lastValueSeq: -1,
      };
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
      const json = singleLine(encoder.encode(data));
      if (json) this.#publishValue(state, json);
      return;
    }
    const seq = ++state.seq;
    const e: StreamEvent = { id: `${this.epoch}-${seq}`, seq, event, data };
    state.ring.push(e);
    if (state.ring.length > this.ringSize) state.ring.shift();
    const bytes = frame(e);
    for (const c of state.clients) if (!c.resyncing) this.#send(c, bytes);
  }

  #publishValue(state: UserState, json: Uint8Array): void {
    state.lastValue.set(json);
    // A client still reading an earlier frame gets the latest when it is done, in place of any
    // in between: a value supersedes the last, so a slow page costs one frame, not a backlog.
    for (const c of state.clients) {
      if (c.sink.ready && !c.resyncing) this.#sendLatest(c);
      else c.valueHeldBack = true;
    }
  }

  /** Sends the client its user's latest value. */
  #sendLatest(c: Client): void {
    const bytes = c.state.lastValue.copy();
    this.#framed.add(bytes.length);
    this.#send(c, bytes);
  }

  #send(c: Client, bytes: Uint8Array): void {
    if (c.closed) return;
    if (c.sink.backlog > this.maxBacklogBytes) {
      this.#dropped++;
      droppedTotal.inc();
      this.#end(c);
      return;
    }
    c.sink.write(bytes);
  }

  #end(c: Client): void {
    if (c.closed) return;
    c.closed = true;
    // Nothing more is sent to a dropped client: its backlog stays at most `maxBacklogBytes`,
    // then the stream ends and the browser reconnects with Last-Event-ID.
    c.sink.close();
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
    let bytes = state.lastValue.empty ? null : state.lastValue.copy();
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
   * Opens a stream for `userId` on `sink`. `snapshot` builds the snapshot payload when
   * resumption is impossible; it runs only then.
   */
  open(
    userId: string,
    lastEventId: string | undefined,
    snapshot: () => Promise<unknown>,
    sink: EventSink,
  ): void {
    const state = this.#state(userId);
    const c: Client = {
      userId,
      state,
      sink,
      snapshot,
      closed: false,
      valueHeldBack: false,
      resyncing: false,
    };
    sink.onDrain(() => {
      if (!c.valueHeldBack || c.resyncing) return;
      c.valueHeldBack = false;
      this.#sendLatest(c);
    });
    sink.onClose(() => {
      if (c.closed) return;
      c.closed = true;
      this.#detach(c);
    });
    sink.write(encoder.encode(`retry: ${this.retryMs}\n: connected\n\n`));
    this.#start(c, lastEventId).catch((e) => {
      this.opts.log?.warn("opening a stream failed", { error: e });
      this.#end(c);
    });
  }

  /** Sends what the new client missed (or a snapshot), then joins it to the user's streams. */
  async #start(c: Client, lastEventId: string | undefined): Promise<void> {
    const { userId, state } = c;
    const attach = () => {
      state.clients.add(c);
      this.#users.set(userId, state);
      this.#clients++;
      clientsGauge.set(this.#clients);
    };
    const missed = this.missed(userId, lastEventId);
    if (missed !== null) {
      for (const e of missed) this.#send(c, frame(e));
      if (c.closed) return;
      attach();
      // A new or resuming page gets the current value at once (values are not replayed:
      // the latest supersedes what it missed), unless a newer one arrived meanwhile.
      await this.#sendCurrentValue(c, state, userId);
      return;
    }
    await this.#sendSnapshot(c);
    if (!c.closed) attach();
  }

  /**
   * Sends the client a snapshot of everything up to now, then the events that came while it
   * was being read (and, to a client that was paused for it, the latest value).
   */
  async #sendSnapshot(c: Client): Promise<void> {
    const { userId, state } = c;
    const head = state.seq;
    let payload: unknown = null;
    let value = state.lastValue.json();
    try {
      [payload, value] = await Promise.all([
        c.snapshot(),
        value === null && this.opts.currentValue
          ? this.opts.currentValue(userId)
          : Promise.resolve(value),
      ]);
    } catch (e) {
      this.opts.log?.warn("stream snapshot failed", { error: e });
    }
    if (c.closed) return;
    // A value heard while reading is newer than the one read.
    value = state.lastValue.json() ?? value;
    const data = JSON.stringify({
      ...(payload && typeof payload === "object" ? payload : {}),
      value: value ? JSON.parse(value) : null,
    });
    // The snapshot covers everything up to `head`; what came during the read follows it.
    this.#send(c, frame({ id: `${this.epoch}-${head}`, event: "snapshot", data }));
    const next = state.ring.find((e) => e.seq > head);
    if (next && next.seq > head + 1) {
      // More came during the read than the ring holds: a fresh start gets a fresh snapshot.
      this.#end(c);
      return;
    }
    for (const e of state.ring) if (e.seq > head) this.#send(c, frame(e));
    c.resyncing = false;
    if (c.valueHeldBack && c.sink.ready) {
      c.valueHeldBack = false;
      this.#sendLatest(c);
    }
  }
}
