/**
 * Route fuzzing from `/api/openapi.json`: every documented operation, signed in and signed
 * out, with path ids, query values and bodies drawn from what a database, a JSON parser or a
 * date parser is likely to choke on (NUL and other control characters, year 0000, impossible
 * dates, cursors that decode to nonsense, huge numbers, wrong types, deep nesting). Not one
 * answer may be a 5xx but a 503 with Retry-After (a dependency that is busy). A seeded PRNG
 * makes a failure reproducible: the message names the seed and the request.
 */
import assert from "node:assert/strict";
import { call, type Harness, login, startHarness } from "./testing/harness.ts";
import { prng } from "../sandbox/prng.ts";
import { seedUser } from "./testing/seed.ts";

const SEED = Number(Deno.env.get("FUZZ_SEED") ?? 20261130);
const CASES_PER_ROUTE = Number(Deno.env.get("FUZZ_CASES") ?? 200);

/** Every UTF-8 byte percent-encoded (a lone surrogate too, which encodeURIComponent refuses). */
const percentEncoded = (s: string) =>
  Array.from(new TextEncoder().encode(s), (b) => `%${b.toString(16).padStart(2, "0")}`).join("");

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const b64url = (s: string) => btoa(s).replaceAll("+", "-").replaceAll("/", "_").replaceAll("=", "");

class Inputs {
  constructor(private readonly rand: () => number, private readonly ids: string[]) {}

  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.rand() * xs.length)];
  }

  /** Strings that have broken parsers and databases before. */
  string(): string {
    return this.pick([
      () => "",
      () => "\u0000",
      () => `AAPL\u0000x`,
      () => "\u0001\u001f\u007f",
      () => "\ud800",
      () => "x".repeat(1 + Math.floor(this.rand() * 5000)),
      () => "0000-01-01",
      () => "2023-02-30",
      () => "9999-12-31",
      () => "-0001-01-01",
      () => "2026-13-45",
      () => "1e400",
      () => "-1",
      () => "NaN",
      () => "null",
      () => "../../etc/passwd",
      () => "%00",
      () => "' or 1=1 --",
      () => "😀",
      () => b64url(`0000-01-01|${crypto.randomUUID()}`),
      () => b64url(`2023-02-30|${crypto.randomUUID()}`),
      () => b64url("2026-01-01|------------------------------------"),
      () => b64url("2026-01-01|\u0000"),
      () => b64url(`2026-01-01|${crypto.randomUUID()}|extra`),
      () => this.pick(this.ids),
      () => crypto.randomUUID(),
      () => "00000000-0000-0000-0000-000000000000",
      () => "link-sandbox-" + crypto.randomUUID(),
    ])();
  }

  json(depth = 0): Json {
    const r = this.rand();
    if (depth > 3 || r < 0.45) return this.string();
    if (r < 0.55) return this.pick([0, -1, 1e308, -0, 2 ** 53 + 1, 0.1]);
    if (r < 0.6) return this.pick([true, false, null]);
    if (r < 0.8) {
      return Array.from({ length: Math.floor(this.rand() * 4) }, () => this.json(depth + 1));
    }
    const o: Record<string, Json> = {};
    for (let i = 0; i < Math.floor(this.rand() * 4); i++) {
      o[this.string().slice(0, 20)] = this.json(depth + 1);
    }
    return o;
  }

  /** A body shaped like the schema (its property names), with hostile values. */
  body(schema: Record<string, unknown> | undefined): string | undefined {
    const r = this.rand();
    if (r < 0.1) return undefined;
    if (r < 0.2) {
      return this.pick(["", "{", "[]", "null", "\u0000", "[".repeat(3000) + "]".repeat(3000)]);
    }
    const props = Object.keys((schema?.properties ?? {}) as Record<string, unknown>);
    const o: Record<string, Json> = {};
    for (const p of props) if (this.rand() < 0.8) o[p] = this.json();
    if (this.rand() < 0.2) o[this.string().slice(0, 10)] = this.json();
    return JSON.stringify(o);
  }

  query(params: { name: string; in: string }[]): string {
    const q = new URLSearchParams();
    for (const p of params.filter((p) => p.in === "query")) {
      if (this.rand() < 0.7) q.append(p.name, this.string());
    }
    if (this.rand() < 0.1) q.append(this.string().slice(0, 10) || "x", this.string());
    const s = q.toString();
    return s ? `?${s}` : "";
  }
}

interface Operation {
  method: string;
  path: string;
  parameters?: { name: string; in: string }[];
  body?: Record<string, unknown>;
  /** The statuses the document says this operation answers. */
  statuses: Set<number>;
}

async function operations(h: Harness): Promise<Operation[]> {
  const doc = await (await call(h, "/api/openapi.json")).json();
  const ops: Operation[] = [];
  for (const [path, methods] of Object.entries(doc.paths as Record<string, unknown>)) {
    for (const [method, op] of Object.entries(methods as Record<string, Record<string, unknown>>)) {
      const content = (op.requestBody as { content?: Record<string, { schema?: unknown }> })
        ?.content;
      ops.push({
        method: method.toUpperCase(),
        path,
        parameters: op.parameters as Operation["parameters"],
        body: content?.["application/json"]?.schema as Record<string, unknown> | undefined,
        statuses: new Set(Object.keys(op.responses as Record<string, unknown>).map(Number)),
      });
    }
  }
  return ops;
}

Deno.test({
  name:
    `every route of /api/openapi.json answers fuzzed input without a 5xx, as documented (seed ${SEED})`,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const h = await startHarness();
    try {
      const a = await seedUser(h.sql, "a@example.com");
      const b = await seedUser(h.sql, "b@example.com");
      let cookie = await login(h, a.email, a.password);
      const ids = [...a.connections, ...b.connections, a.userId, b.userId];
      for (const table of ["accounts", "transactions", "sync_runs"]) {
        const rows = await h.sql`select id from ${h.sql(table)} limit 20`;
        ids.push(...rows.map((r) => r.id as string));
      }
      const input = new Inputs(prng(`route-fuzz:${SEED}`), ids);
      const ops = await operations(h);
      assert.ok(ops.length >= 20, `only ${ops.length} operations documented`);
      let requests = 0;
      for (const op of ops) {
        for (let i = 0; i < CASES_PER_ROUTE; i++) {
          const signedIn = i % 2 === 0;
          const path = op.path.replace("{id}", () => percentEncoded(input.string()));
          const url = path + input.query(op.parameters ?? []);
          const body = op.method === "GET" ? undefined : input.body(op.body);
          const res = await call(h, url, {
            method: op.method,
            cookie: signedIn ? cookie : undefined,
            body,
            headers: input.pick<Record<string, string>>([
              {},
              { "content-type": "text/plain" },
              // A header carries bytes, not any string: what an HTTP client can send.
              {
                "last-event-id": input.string().slice(0, 80).replace(/[^\x20-\x7e\x80-\xff]/g, ""),
              },
            ]),
          });
          requests++;
          await res.body?.cancel();
          const what = `seed ${SEED} case ${i}: ${op.method} ${url.slice(0, 200)} ${
            JSON.stringify(body?.slice(0, 200))
          }`;
          if (res.status === 503) {
            assert.ok(res.headers.get("retry-after"), `503 without Retry-After: ${what}`);
          } else {
            assert.ok(res.status < 500, `${res.status}: ${what}`);
          }
          // The document names every answer a route gives.
          assert.ok(op.statuses.has(res.status), `${res.status} is not documented: ${what}`);
          // Signing out (or a rotated session) ends the cookie: sign in again.
          if (signedIn && (op.path === "/api/auth/logout" || op.path === "/api/auth/login")) {
            cookie = await login(h, a.email, a.password);
          }
        }
      }
      console.log(`fuzzed ${ops.length} operations with ${requests} requests, no 5xx`);
    } finally {
      await h.close();
    }
  },
});
