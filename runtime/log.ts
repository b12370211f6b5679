/**
 * Structured JSON logs, one object per line, with redaction: values under keys that look
 * like secrets, and any value registered with {@link registerSecret}, never reach the output.
 * @module
 */

/** Log levels in increasing severity. */
export type Level = "debug" | "info" | "warn" | "error";
const SEVERITY: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const SECRET_KEY =
  /secret|token|password|passwd|authorization|cookie|api[-_]?key|consumer[-_]?key|private[-_]?key|^key$|signature/i;
const REDACTED = "[redacted]";
const registered = new Set<string>();

/** Registers a value that must never be printed, wherever it appears. */
export function registerSecret(value: string | undefined | null): void {
  if (value && value.length >= 6) registered.add(value);
}

function scrub(text: string): string {
  let out = text;
  for (const s of registered) if (out.includes(s)) out = out.split(s).join(REDACTED);
  return out;
}

/** Returns a copy of `value` with secret-looking keys and registered values redacted. */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 8) return "[depth]";
  if (typeof value === "string") return scrub(value);
  if (value instanceof Error) {
    return { name: value.name, message: scrub(value.message) };
  }
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = SECRET_KEY.test(k) && v !== null && v !== undefined
        ? REDACTED
        : redact(v, depth + 1);
    }
    return out;
  }
  return value;
}

/** A structured logger bound to a service and optional fixed fields. */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

/** Where log lines go; tests swap it to capture output. */
export let logSink: (line: string) => void = (line) => console.log(line);
/** Replaces the sink; returns the previous one. */
export function setLogSink(sink: (line: string) => void): (line: string) => void {
  const previous = logSink;
  logSink = sink;
  return previous;
}

/** Creates a logger for `service` that prints at or above `level`. */
export function createLogger(
  service: string,
  level: Level = "info",
  bound: Record<string, unknown> = {},
): Logger {
  const write = (lvl: Level, msg: string, fields?: Record<string, unknown>) => {
    if (SEVERITY[lvl] < SEVERITY[level]) return;
    const entry = redact({ ...bound, ...fields }) as Record<string, unknown>;
    logSink(
      JSON.stringify({
        time: new Date().toISOString(),
        level: lvl,
        service,
        msg: scrub(msg),
        ...entry,
      }),
    );
  };
  return {
    debug: (m, f) => write("debug", m, f),
    info: (m, f) => write("info", m, f),
    warn: (m, f) => write("warn", m, f),
    error: (m, f) => write("error", m, f),
    child: (fields) => createLogger(service, level, { ...bound, ...fields }),
  };
}
