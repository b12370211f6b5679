/**
 * SnapTrade's canonical JSON: the bytes Python's
 * `json.dumps(json.loads(body), separators=(",", ":"), sort_keys=True)` writes, computed from
 * the raw body text. SnapTrade signs this form, not the raw bytes.
 *
 * What this reproduces, and why it works from the raw text rather than `JSON.parse` values:
 * - Keys sorted by code point (Python `str` order), at every depth; for duplicate keys the last
 *   value wins, as in a Python dict.
 * - `ensure_ascii=True`: every character outside `' '..'~'` is written `\uXXXX` (lowercase hex,
 *   UTF-16 code units, so astral characters become surrogate pairs and U+007F is escaped);
 *   `"` `\` `\n` `\r` `\t` `\b` `\f` use their short escapes; `/` is not escaped.
 * - Numbers keep Python's int/float distinction, which `JSON.parse` loses: a lexeme without
 *   `.`/`e`/`E` is a Python int, written exactly with arbitrary precision (`-0` → `0`,
 *   `12345678901234567890123` stays exact). Anything else is a float, written as `repr(float)`:
 *   the shortest round-trip digits, positional for 1e-4 ≤ |x| < 1e16 with at least one decimal
 *   (`1.0`, `1E2` → `100.0`), otherwise exponent form with a sign and two or more digits
 *   (`1e21` → `1e+21`, `0.00001` → `1e-05`); overflow is written `Infinity`/`-Infinity` as
 *   Python does (`1e400`), `-0.0` stays `-0.0`.
 * - Input must be strict JSON (`JSON.parse`); Python would also accept `NaN`/`Infinity`
 *   literals, which we refuse as bad input.
 * @module
 */

/** A number lexeme kept from the source text. */
class Num {
  constructor(readonly source: string) {}
}

/** Nesting deeper than this is refused (Python's own recursion limit is about 1,000). */
export const MAX_DEPTH = 512;

/** Why a body cannot be canonicalised. */
export class CanonicalJsonError extends Error {
  override name = "CanonicalJsonError";
}

function reviver(this: unknown, _key: string, value: unknown, context?: { source?: string }) {
  if (typeof value === "number") {
    if (!context?.source) throw new CanonicalJsonError("number without source text");
    return new Num(context.source);
  }
  return value;
}

/** Parses strict JSON keeping number lexemes. Throws SyntaxError on invalid JSON. */
export function parseKeepingNumbers(text: string): unknown {
  // deno-lint-ignore no-explicit-any
  return JSON.parse(text, reviver as any);
}

function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.codePointAt(i)!;
    const y = b.codePointAt(i)!;
    if (x !== y) return x - y;
    if (x > 0xffff) i++;
  }
  return a.length - b.length;
}

const SHORT: Record<number, string> = {
  0x22: '\\"',
  0x5c: "\\\\",
  0x0a: "\\n",
  0x0d: "\\r",
  0x09: "\\t",
  0x08: "\\b",
  0x0c: "\\f",
};

/** Printable ASCII other than `"` and `\\`: written as is. */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;
/** Characters at or above the first surrogate, where UTF-16 order and code point order differ. */
const HIGH = /[\ud800-\uffff]/;

/** A string literal as Python writes it with `ensure_ascii=True`. */
export function pythonString(s: string): string {
  if (PLAIN.test(s)) return '"' + s + '"';
  let out = '"';
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c <= 0x7e && c !== 0x22 && c !== 0x5c) continue;
    out += s.slice(start, i);
    out += SHORT[c] ?? "\\u" + c.toString(16).padStart(4, "0");
    start = i + 1;
  }
  return out + s.slice(start) + '"';
}

/** A float as Python's `repr(float)` writes it. */
export function pythonFloat(x: number): string {
  if (Number.isNaN(x)) return "NaN";
  if (x === Infinity) return "Infinity";
  if (x === -Infinity) return "-Infinity";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const [mantissa, expPart] = x.toExponential().split("e");
  const exp = Number(expPart);
  const negative = mantissa.startsWith("-");
  const digits = mantissa.replace("-", "").replace(".", "");
  let body: string;
  if (exp >= -4 && exp < 16) {
    if (exp < 0) body = "0." + "0".repeat(-exp - 1) + digits;
    else if (digits.length <= exp + 1) body = digits + "0".repeat(exp + 1 - digits.length) + ".0";
    else body = digits.slice(0, exp + 1) + "." + digits.slice(exp + 1);
  } else {
    const m = digits.length > 1 ? digits[0] + "." + digits.slice(1) : digits;
    body = m + "e" + (exp < 0 ? "-" : "+") + String(Math.abs(exp)).padStart(2, "0");
  }
  return (negative ? "-" : "") + body;
}

/** A number lexeme as Python writes the value `json.loads` gives for it. */
export function pythonNumber(source: string): string {
  if (/^-?\d+$/.test(source)) return BigInt(source).toString();
  return pythonFloat(Number(source));
}

/**
 * Writes a parsed value canonically. Exact-path values carry numbers as {@link Num} (their
 * lexeme); a raw number only occurs on the fast path, which then gives up (HAS_NUMBER).
 */
function write(value: unknown, depth: number, out: string[]): void {
  if (depth > MAX_DEPTH) throw new CanonicalJsonError("JSON nested too deeply");
  if (typeof value === "string") out.push(pythonString(value));
  else if (value === null) out.push("null");
  else if (value === true) out.push("true");
  else if (value === false) out.push("false");
  else if (typeof value === "number") throw HAS_NUMBER;
  else if (value instanceof Num) out.push(pythonNumber(value.source));
  else if (Array.isArray(value)) {
    out.push("[");
    for (let i = 0; i < value.length; i++) {
      if (i) out.push(",");
      write(value[i], depth + 1, out);
    }
    out.push("]");
  } else if (typeof value === "object") {
    const obj = value as Record<string, unknown>;
    const keys = sortedKeys(obj);
    out.push("{");
    for (let i = 0; i < keys.length; i++) {
      if (i) out.push(",");
      out.push(pythonString(keys[i]), ":");
      write(obj[keys[i]], depth + 1, out);
    }
    out.push("}");
  } else throw new CanonicalJsonError(`unexpected value ${typeof value}`);
}

/** Thrown inside {@link write} when a number needs the exact, lexeme-keeping path. */
const HAS_NUMBER = new Error("number");

/** Keys in code point order; the default (UTF-16) sort agrees unless a key has a char ≥ U+D800. */
function sortedKeys(obj: Record<string, unknown>): string[] {
  const keys = Object.keys(obj);
  for (let i = 0; i < keys.length; i++) {
    if (HIGH.test(keys[i])) return keys.sort(compareCodePoints);
  }
  return keys.sort();
}

/**
 * Parses `text` and writes its canonical form. The fast path is a plain `JSON.parse` (no
 * reviver); a body with any number is parsed again keeping number lexemes, so ints, floats and
 * big numbers are written exactly as Python would. `value` is the parsed body (numbers, if any,
 * as lexeme objects; use {@link toPlain} for plain values). Throws SyntaxError (invalid JSON)
 * or CanonicalJsonError.
 */
export function parseCanonical(text: string): { value: unknown; canonical: string } {
  const value = JSON.parse(text);
  const out: string[] = [];
  try {
    write(value, 0, out);
    return { value, canonical: out.join("") };
  } catch (e) {
    if (e !== HAS_NUMBER) throw e;
  }
  const exact = parseKeepingNumbers(text);
  return { value: exact, canonical: serializeCanonical(exact) };
}

/** Serialises a value from {@link parseKeepingNumbers} canonically. */
export function serializeCanonical(value: unknown): string {
  const out: string[] = [];
  write(value, 0, out);
  return out.join("");
}

/** Canonical form of a JSON text; throws SyntaxError (invalid JSON) or CanonicalJsonError. */
export function canonicalize(text: string): string {
  return parseCanonical(text).canonical;
}

/** Canonical form by the exact path only (the reference the fast path is tested against). */
export function canonicalizeExact(text: string): string {
  return serializeCanonical(parseKeepingNumbers(text));
}

/** Converts a parsed value (numbers kept as lexemes) into plain JSON values. */
export function toPlain(value: unknown): unknown {
  if (value instanceof Num) return Number(value.source);
  if (Array.isArray(value)) return value.map(toPlain);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toPlain(v)]));
  }
  return value;
}
