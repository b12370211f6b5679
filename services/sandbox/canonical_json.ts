/**
 * Canonical JSON as Python's `json.dumps(payload, separators=(",", ":"), sort_keys=True)` writes
 * it (with the default `ensure_ascii=True`): compact, keys sorted by code point at every depth,
 * every non-ASCII character escaped as `\uXXXX` (UTF-16 surrogate pairs above U+FFFF).
 * SnapTrade signs its webhook bodies over this form, so the sandbox sends exactly these bytes.
 * @module
 */

/** A JSON value. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function compareCodePoints(a: string, b: string): number {
  const ai = a[Symbol.iterator]();
  const bi = b[Symbol.iterator]();
  for (;;) {
    const x = ai.next();
    const y = bi.next();
    if (x.done || y.done) return x.done ? (y.done ? 0 : -1) : 1;
    const d = x.value.codePointAt(0)! - y.value.codePointAt(0)!;
    if (d !== 0) return d;
  }
}

const SHORT_ESCAPES: Record<string, string> = {
  '"': '\\"',
  "\\": "\\\\",
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
  "\b": "\\b",
  "\f": "\\f",
};

/** A string literal as Python writes it with `ensure_ascii=True`. */
export function pythonString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    const code = s.charCodeAt(i);
    const short = SHORT_ESCAPES[ch];
    if (short) out += short;
    else if (code < 0x20 || code > 0x7e) {
      // UTF-16 code units, so characters above U+FFFF come out as surrogate pairs, as in Python.
      out += "\\u" + code.toString(16).padStart(4, "0");
    } else out += ch;
  }
  return out + '"';
}

/** A number as Python writes it: integers plainly, floats with `repr(float)`. */
export function pythonNumber(n: number): string {
  if (!Number.isFinite(n)) throw new RangeError("canonical JSON has no NaN or Infinity");
  if (Number.isInteger(n)) return Object.is(n, -0) ? "0" : BigInt(n).toString();
  // Shortest round-trip digits, then Python's layout: positional for 1e-4 <= |n| < 1e16.
  const [mantissa, expPart] = n.toExponential().split("e");
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

/** Serializes `value` canonically (see the module comment). `undefined` members are skipped. */
export function canonicalJson(value: unknown): string {
  if (value === null || value === undefined) return "null";
  switch (typeof value) {
    case "boolean":
      return value ? "true" : "false";
    case "number":
      return pythonNumber(value);
    case "string":
      return pythonString(value);
    case "object": {
      if (Array.isArray(value)) return "[" + value.map((v) => canonicalJson(v)).join(",") + "]";
      const entries = Object.entries(value as Record<string, unknown>)
        .filter(([, v]) => v !== undefined)
        .sort(([a], [b]) => compareCodePoints(a, b));
      return "{" + entries.map(([k, v]) => pythonString(k) + ":" + canonicalJson(v)).join(",") +
        "}";
    }
    default:
      throw new TypeError(`canonical JSON cannot hold a ${typeof value}`);
  }
}
