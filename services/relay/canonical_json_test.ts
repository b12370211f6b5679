import assert from "node:assert/strict";
import { canonicalize, canonicalizeExact, MAX_DEPTH } from "./canonical_json.ts";
import { constantTimeEqual } from "./verify.ts";

/** [input, Python json.dumps(json.loads(input), separators=(",", ":"), sort_keys=True)], produced by CPython 3. */
const VECTORS: [string, string][] = [
  [
    '{"b":1,"a":2}',
    '{"a":2,"b":1}',
  ],
  [
    '{"eventType":"ACCOUNT_HOLDINGS_UPDATED","webhookId":"w1","n":1.0,"m":1e21,"k":1E2,"s":0.00001,"big":12345678901234567890123,"neg":-0,"nf":-0.0,"x":1.5e-7,"y":123456789012345678.0,"z":0.1}',
    '{"big":12345678901234567890123,"eventType":"ACCOUNT_HOLDINGS_UPDATED","k":100.0,"m":1e+21,"n":1.0,"neg":0,"nf":-0.0,"s":1e-05,"webhookId":"w1","x":1.5e-07,"y":1.2345678901234568e+17,"z":0.1}',
  ],
  [
    '{"name":"Zürich ☃ 😀 \\u007f\\u0001 \\/ tab\\t q\\" bs\\\\","nested":{"z":[{"b":null,"a":true},false],"é":1,"e":2,"\\ud83d\\ude00":3,"\\uffff":4}}',
    '{"name":"Z\\u00fcrich \\u2603 \\ud83d\\ude00 \\u007f\\u0001 / tab\\t q\\" bs\\\\","nested":{"e":2,"z":[{"a":true,"b":null},false],"\\u00e9":1,"\\uffff":4,"\\ud83d\\ude00":3}}',
  ],
  [
    '[1,2.50,"x",{"k":[]}, {}]',
    '[1,2.5,"x",{"k":[]},{}]',
  ],
  [
    '{"a":1,"a":2}',
    '{"a":2}',
  ],
  [
    '{"f":1e400,"g":-1e400}',
    '{"f":Infinity,"g":-Infinity}',
  ],
  [
    '{"deep":[[[[{"x":[0.5, 100, 1e15, 1e16, 9007199254740993]}]]]]}',
    '{"deep":[[[[{"x":[0.5,100,1000000000000000.0,1e+16,9007199254740993]}]]]]}',
  ],
  [
    '  {"lone":"\\ud800x", "ctl":"\\u001f\\b\\f\\r\\n"} ',
    '{"ctl":"\\u001f\\b\\f\\r\\n","lone":"\\ud800x"}',
  ],
  [
    '"just a string"',
    '"just a string"',
  ],
];

Deno.test("canonical JSON matches Python json.dumps known answers", () => {
  for (const [input, expected] of VECTORS) assert.equal(canonicalize(input), expected, input);
});

Deno.test("canonical JSON refuses invalid JSON and absurd nesting", () => {
  for (const bad of ["", "{", "{'a':1}", "NaN", "[1,]", '{"a":Infinity}']) {
    assert.throws(() => canonicalize(bad));
  }
  const deep = "[".repeat(MAX_DEPTH + 2) + "]".repeat(MAX_DEPTH + 2);
  assert.throws(() => canonicalize(deep));
  const deeper = "[".repeat(100_000) + "]".repeat(100_000);
  assert.throws(() => canonicalize(deeper));
});

function python(): string | null {
  try {
    const out = new Deno.Command("python3", { args: ["-c", "print(1)"] }).outputSync();
    return out.success ? "python3" : null;
  } catch {
    return null;
  }
}

function randomValue(rand: () => number, depth: number): unknown {
  const r = rand();
  if (depth > 4 || r < 0.35) {
    const k = Math.floor(rand() * 7);
    if (k === 0) return null;
    if (k === 1) return rand() < 0.5;
    if (k === 2) return Math.floor((rand() - 0.5) * 1e6);
    if (k === 3) return (rand() - 0.5) * 10 ** Math.floor(rand() * 40 - 20);
    const chars = ["a", "Z", "é", "☃", "😀", "\n", '"', "\u007f", "/", " ", "\u0000", "中"];
    return Array.from(
      { length: Math.floor(rand() * 6) },
      () => chars[Math.floor(rand() * chars.length)],
    ).join("");
  }
  if (r < 0.6) {
    return Array.from({ length: Math.floor(rand() * 4) }, () => randomValue(rand, depth + 1));
  }
  const o: Record<string, unknown> = {};
  for (let i = Math.floor(rand() * 5); i > 0; i--) {
    o[String(randomValue(rand, 9))] = randomValue(rand, depth + 1);
  }
  return o;
}

Deno.test({
  name: "canonical JSON agrees with a Python oracle on random payloads",
  ignore: python() === null,
  fn: async () => {
    let seed = 42;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const inputs = Array.from({ length: 2000 }, () => {
      const text = JSON.stringify(randomValue(rand, 0));
      // Some floats written the way other languages write them.
      return text.replace(/(\d)e\+?(\d)/g, "$1E$2");
    });
    const cmd = new Deno.Command("python3", {
      args: [
        "-c",
        "import json,sys\nfor l in sys.stdin.read().split('\\n'):\n  print(json.dumps(json.loads(l),separators=(',',':'),sort_keys=True))",
      ],
      stdin: "piped",
      stdout: "piped",
    }).spawn();
    const w = cmd.stdin.getWriter();
    await w.write(new TextEncoder().encode(inputs.join("\n")));
    await w.close();
    const out = new TextDecoder().decode((await cmd.output()).stdout).trimEnd().split("\n");
    assert.equal(out.length, inputs.length);
    for (let i = 0; i < inputs.length; i++) {
      assert.equal(canonicalize(inputs[i]), out[i], inputs[i]);
    }
  },
});

Deno.test("the fast path (no reviver) agrees with the exact path", () => {
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const texts = [
    '{"b":"x","a":["é",null,true,{"\\ud83d\\ude00":"1","\\uffff":"2","z":"q\\"\\\\/\\u007f"}]}',
    '{"webhookId":"w","n":[{"x":"1"},{"y":2}]}',
    ...Array.from({ length: 2000 }, () => JSON.stringify(randomValue(rand, 0))),
  ];
  for (const t of texts) assert.equal(canonicalize(t), canonicalizeExact(t), t);
});

Deno.test("constant-time compare", () => {
  assert.equal(constantTimeEqual("c2lnbmF0dXJl", "c2lnbmF0dXJl"), true);
  assert.equal(constantTimeEqual("c2lnbmF0dXJl", "c2lnbmF0dXJm"), false);
  assert.equal(constantTimeEqual("abc", "abcd"), false);
  assert.equal(constantTimeEqual("", ""), true);
});
