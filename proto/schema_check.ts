/**
 * Validation against the committed JSON Schema files (`proto/schema/`), as a consumer in any
 * language would validate: tests use it to prove that what services publish matches what the
 * schema promises, not only what zod accepts.
 * @module
 */
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import type { messageSchemas } from "./messages.ts";

/** A validator of one message's committed JSON Schema: null when valid, else the errors. */
export async function schemaValidator(
  name: keyof typeof messageSchemas,
): Promise<(value: unknown) => string | null> {
  const text = await Deno.readTextFile(new URL(`./schema/${name}.json`, import.meta.url));
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  (addFormats as unknown as (a: Ajv2020) => void)(ajv);
  const validate = ajv.compile(JSON.parse(text));
  return (value) =>
    validate(value)
      ? null
      : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`).join("; ");
}
