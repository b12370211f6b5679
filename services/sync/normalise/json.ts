/**
 * Reading untrusted provider JSON: each reader returns the shape asked for, or an empty or
 * null stand-in, and never throws on data of the wrong type.
 * @module
 */

/** A JSON object from untrusted provider data (an empty one when it is not an object). */
export function obj(value: unknown): Record<string, unknown> {
  return value && typeof value === "object" && !Array.isArray(value)
    ? value as Record<string, unknown>
    : {};
}

/** An array from untrusted provider data (empty when it is not one). */
export function arr(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** A non-empty trimmed string (a number as its string), or null. */
export function str(value: unknown): string | null {
  if (typeof value === "number") return String(value);
  return typeof value === "string" && value.trim() !== "" ? value.trim() : null;
}
