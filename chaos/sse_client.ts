/**
 * A browser-like client of `GET /api/stream` for the fault tests: it signs in, holds the
 * stream, reconnects as EventSource does with `Last-Event-ID` (after the server's end, an
 * error, or now and then on purpose), and checks every event id it is sent. Within a process's
 * ids (`<epoch>-<seq>`) each event must follow the one before (seq + 1); only a `snapshot` may
 * move past a gap, and a reconnection must resume at the next id or start with a snapshot.
 * @module
 */
import { hashPassword, type Sql } from "@meridian/runtime";

/** What the client saw. */
export interface StreamWatch {
  /** Events with an id (`pending`, `sync`, `order`, `snapshot`). */
  events(): number;
  /** Times (Date.now()) at which a snapshot arrived. */
  snapshots(): number[];
  /** Connections made after the first. */
  reconnects(): number;
  /** Every id gap no snapshot covered, described. */
  gaps(): string[];
  stop(): Promise<void>;
}

/** Creates a user with this password in the api's database; its id. */
export async function createUser(sql: Sql, email: string, password: string): Promise<string> {
  const [u] = await sql<{ id: string }[]>`insert into users (email, password_hash)
    values (${email}, ${await hashPassword(password)}) returning id`;
  return u.id;
}

/** Signs in at the api on `origin`; the session cookie (`name=value`). */
export async function signIn(origin: string, email: string, password: string): Promise<string> {
  const res = await fetch(`${origin}/api/auth/login`, {
    method: "POST",
    headers: { origin, "content-type": "application/json" },
    body: JSON.stringify({ email, password }),
  });
  const set = res.headers.get("set-cookie") ?? "";
  await res.body?.cancel();
  const m = /((?:__Host-)?meridian_session=[^;]+)/.exec(set);
  if (res.status !== 200 || !m) throw new Error(`sign-in failed: ${res.status}`);
  return m[1];
}

interface Frame {
  id?: string;
  event: string;
}

/** Holds `origin`'s event stream with `cookie`, hanging up on purpose every `hangUpMs`. */
export function watchStream(
  origin: string,
  cookie: string,
  opts: { hangUpMs: number },
): StreamWatch {
  let lastId: string | undefined;
  let events = 0;
  let connections = 0;
  const snapshots: number[] = [];
  const gaps: string[] = [];
  let stopped = false;
  let current: AbortController | undefined;

  const parseId = (id: string) => {
    const m = /^([0-9a-z]+)-(\d+)$/.exec(id);
    return m ? { epoch: m[1], seq: Number(m[2]) } : null;
  };

  /** Checks one event against the last id, then takes its id. */
  const take = (f: Frame, resumed: boolean) => {
    if (f.id === undefined) return; // a value: state, not an event
    events++;
    const id = parseId(f.id);
    if (!id) return void gaps.push(`unreadable id ${f.id}`);
    if (f.event === "snapshot") snapshots.push(Date.now());
    const last = lastId === undefined ? null : parseId(lastId);
    if (f.event !== "snapshot" && last) {
      if (id.epoch !== last.epoch) gaps.push(`${lastId} → ${f.id} (new process, no snapshot)`);
      else if (id.seq !== last.seq + 1) {
        gaps.push(`${lastId} → ${f.id}${resumed ? " on resuming" : ""}`);
      }
    }
    if (f.event === "snapshot" && last && id.epoch === last.epoch && id.seq < last.seq) {
      gaps.push(`snapshot ${f.id} older than ${lastId}`);
    }
    lastId = f.id;
  };

  const connectOnce = async () => {
    current = new AbortController();
    const hangUp = setTimeout(() => current?.abort(), opts.hangUpMs);
    try {
      const headers: Record<string, string> = { cookie, accept: "text/event-stream" };
      if (lastId) headers["last-event-id"] = lastId;
      const res = await fetch(`${origin}/api/stream`, { headers, signal: current.signal });
      if (res.status !== 200 || !res.body) {
        await res.body?.cancel();
        return;
      }
      connections++;
      let resumed = lastId !== undefined;
      let buffer = "";
      const decoder = new TextDecoder();
      for await (const chunk of res.body) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const frame: Frame = { event: "message" };
          for (const line of block.split("\n")) {
            if (line.startsWith("id: ")) frame.id = line.slice(4);
            else if (line.startsWith("event: ")) frame.event = line.slice(7);
          }
          if (frame.id !== undefined) {
            take(frame, resumed);
            resumed = false;
          }
        }
      }
    } catch {
      // hung up on purpose, or the server went away: reconnect as a browser would
    } finally {
      clearTimeout(hangUp);
    }
  };

  const running = (async () => {
    while (!stopped) {
      await connectOnce();
      if (!stopped) await new Promise((r) => setTimeout(r, 300));
    }
  })();

  return {
    events: () => events,
    snapshots: () => snapshots,
    reconnects: () => Math.max(0, connections - 1),
    gaps: () => gaps,
    async stop() {
      stopped = true;
      current?.abort();
      await running;
    },
  };
}
