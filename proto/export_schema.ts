/**
 * Writes the JSON Schema of every message to `proto/schema/`, for consumers outside
 * TypeScript. Run with `deno task proto:schema`.
 * @module
 */
import { z } from "zod";
import { messageSchemas } from "./messages.ts";

/** The JSON Schema files as name -> file content. */
export function renderSchemas(): Map<string, string> {
  const files = new Map<string, string>();
  for (const [name, schema] of Object.entries(messageSchemas)) {
    const json = z.toJSONSchema(schema, { target: "draft-2020-12" });
    files.set(`${name}.json`, JSON.stringify({ title: name, ...json }, null, 2) + "\n");
  }
  return files;
}

if (import.meta.main) {
  const dir = new URL("./schema/", import.meta.url);
  await Deno.mkdir(dir, { recursive: true });
  for (const [file, text] of renderSchemas()) await Deno.writeTextFile(new URL(file, dir), text);
  console.log(`wrote ${renderSchemas().size} schemas to proto/schema/`);
}
