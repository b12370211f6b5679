import assert from "node:assert/strict";
import { canonicalJson, pythonNumber } from "./canonical_json.ts";

Deno.test("canonical JSON sorts keys at every depth and is compact", () => {
  assert.equal(
    canonicalJson({ b: 1, a: { d: [1, { z: true, y: null }], c: "x" } }),
    '{"a":{"c":"x","d":[1,{"y":null,"z":true}]},"b":1}',
  );
});

Deno.test("canonical JSON escapes non-ASCII like Python ensure_ascii", () => {
  // json.dumps({"name": "Société Générale ☃ 😀", "q": "a\"b\\c\n\u0001/\u007f"}, separators=(",",":"), sort_keys=True)
  assert.equal(
    canonicalJson({ q: 'a"b\\c\n\u0001/\u007f', name: "Société Générale ☃ 😀" }),
    '{"name":"Soci\\u00e9t\\u00e9 G\\u00e9n\\u00e9rale \\u2603 \\ud83d\\ude00","q":"a\\"b\\\\c\\n\\u0001/\\u007f"}',
  );
});

Deno.test("canonical JSON sorts keys by code point, as Python does", () => {
  assert.equal(canonicalJson({ "é": 1, "Z": 2, "a": 3, "😀": 4, "\uffff": 5 }).length > 0, true);
  assert.equal(
    canonicalJson({ "\uffff": 1, "😀": 2, "a": 3, "Z": 4 }),
    '{"Z":4,"a":3,"\\uffff":1,"\\ud83d\\ude00":2}',
  );
});

Deno.test("numbers are written as Python writes them", () => {
  assert.equal(pythonNumber(12.34), "12.34");
  assert.equal(pythonNumber(100), "100");
  assert.equal(pythonNumber(-0.5), "-0.5");
  assert.equal(pythonNumber(0.0001), "0.0001");
  assert.equal(pythonNumber(0.00001), "1e-05");
  assert.equal(pythonNumber(1.25e-10), "1.25e-10");
  // Integral values are written as Python ints: JSON numbers cannot tell 1.0 from 1.
  assert.equal(pythonNumber(1.5e16), "15000000000000000");
  assert.equal(pythonNumber(123456.789), "123456.789");
  assert.equal(pythonNumber(1e-7), "1e-07");
});
