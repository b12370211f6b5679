/**
 * Encoding and validated decoding of messages. A message that does not match its schema
 * is an error at the boundary, never a half-parsed object.
 * @module
 */
import type { z } from "zod";

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** Validates `value` against `schema` and encodes it as JSON bytes. */
export function encode<S extends z.ZodType>(schema: S, value: z.input<S>): Uint8Array {
  return encoder.encode(JSON.stringify(schema.parse(value)));
}

/**
 * Encodes a value built by typed code without validating it again: for hot paths (every price
 * tick), where the type already guarantees the shape and a schema pass would cost more than the
 * publish. Anything built from outside input goes through {@link encode}.
 */
export function encodeTyped<S extends z.ZodType>(_schema: S, value: z.output<S>): Uint8Array {
  return encoder.encode(JSON.stringify(value));
}

/** Decodes JSON bytes and validates them against `schema`; throws on any mismatch. */
export function decode<S extends z.ZodType>(schema: S, data: Uint8Array): z.output<S> {
  return schema.parse(JSON.parse(decoder.decode(data)));
}

/** Like {@link decode}, but returns the zod result instead of throwing. */
export function safeDecode<S extends z.ZodType>(
  schema: S,
  data: Uint8Array,
): { success: true; data: z.output<S> } | { success: false; error: string } {
  let json: unknown;
  try {
    json = JSON.parse(decoder.decode(data));
  } catch (e) {
    return { success: false, error: `not JSON: ${(e as Error).message}` };
  }
  const result = schema.safeParse(json);
  return result.success ? { success: true, data: result.data } : {
    success: false,
    error: result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "),
  };
}
