/**
 * Webhook fuzz: a few hundred signed SnapTrade and Plaid webhooks with arbitrary JSON values in
 * every field (control characters and NUL, lone surrogates, very long strings, deep nesting,
 * numbers such as 1e400, duplicate keys), some badly signed or redelivered, sent to the relay
 * and ingress running as processes on real NATS and PostgreSQL. Every 2xx must yield exactly
 * one `webhook_events` row, every refusal must be a 4xx or a 503 with Retry-After, and neither
 * process may exit. A seeded PRNG makes a failure reproducible: `FUZZ_SEED=<n>`.
 */
import assert from "node:assert/strict";
import { connect } from "@nats-io/transport-node";
import { webhookEventId } from "@meridian/proto";
import { provisionAll } from "@meridian/runtime";
import {
  eventually,
  freePort,
  processEnv,
  startNats,
  testDatabase,
  waitForPort,
} from "@meridian/runtime/testing";
import { plaidJwt, plaidKey, servePlaidKeys, snaptradeSignature } from "./test_signing.ts";
import { prng } from "../sandbox/prng.ts";
import { sha256Hex } from "./verify.ts";

const SEED = Number(Deno.env.get("FUZZ_SEED") ?? 20261130);
const CASES = 300;
const KEY = "fuzz-consumer-key";
const deno = Deno.execPath();
const enc = new TextEncoder();

/** Seeded choices over the sandbox's PRNG: the same sequence everywhere for a seed. */
function choices(seed: number) {
  const next = prng(`webhook-fuzz:${seed}`);
  const int = (n: number) => Math.floor(next() * n);
  return {
    next,
    int,
    chance: (p: number) => next() < p,
    pick: <T>(xs: readonly T[]): T => xs[int(xs.length)],
  };
}
type Rng = ReturnType<typeof choices>;

/** A number written exactly as given (JSON.stringify cannot write 1e400). */
class Lexeme {
  constructor(readonly text: string) {}
}
/** An object written with its pairs as given, duplicate keys included. */
class Pairs {
  constructor(readonly pairs: [string, unknown][]) {}
}

function toJson(v: unknown): string {
  if (v instanceof Lexeme) return v.text;
  if (v instanceof Pairs) {
    return `{${v.pairs.map(([k, x]) => `${JSON.stringify(k)}:${toJson(x)}`).join(",")}}`;
  }
  if (Array.isArray(v)) return `[${v.map(toJson).join(",")}]`;
  // Strings: JSON.stringify escapes control characters and writes lone surrogates as \ud800.
  return JSON.stringify(v);
}

const NUMBERS = [
  "0",
  "-0",
  "1e400",
  "-1e400",
  "1e-400",
  "12345678901234567890123",
  "3.14",
  "1E2",
  "-0.0",
  "5e-324",
  "1.7976931348623157e308",
];
const ODD = [
  "\u0000",
  "\u0001",
  "\u0007",
  "\b",
  "\t",
  "\n",
  "\r",
  "\u001b",
  "\u007f",
  "\u0085",
  "\u2028",
  "\ufeff",
  "\ufffd",
  "\ud800",
  "\udbff",
  "\udc00",
  "\udfff",
  "😀",
  "é",
  "漢",
  '"',
  "\\",
  "/",
  " ",
];

function oddString(r: Rng): string {
  const kind = r.int(10);
  if (kind === 0) return "";
  if (kind === 1) return "\u0000";
  if (kind === 2 && r.chance(0.3)) {
    // Very long: up to ~300 KB, occasionally near the 1 MiB body limit.
    const unit = Array.from({ length: 8 }, () => r.pick(ODD)).join("") + "x";
    return unit.repeat(r.chance(0.1) ? 120_000 : 1 + r.int(30_000));
  }
  let s = "";
  for (let i = 0, n = 1 + r.int(24); i < n; i++) {
    s += r.chance(0.5) ? r.pick(ODD) : String.fromCharCode(0x20 + r.int(95));
  }
  return s;
}

function oddValue(r: Rng, depth = 0): unknown {
  const x = r.next();
  if (x < 0.4 || depth > 6) return oddString(r);
  if (x < 0.55) return new Lexeme(r.pick(NUMBERS));
  if (x < 0.65) return r.pick([null, true, false]);
  if (x < 0.82) {
    return new Pairs(
      Array.from({ length: r.int(5) }, () => [oddString(r).slice(0, 40), oddValue(r, depth + 1)]),
    );
  }
  if (x < 0.98) return Array.from({ length: r.int(5) }, () => oddValue(r, depth + 1));
  // Nested past the canonicaliser's limit of 512.
  return JSON.parse("[".repeat(600) + "]".repeat(600));
}

/** Each base field replaced by an arbitrary value with probability `p`; extra odd keys. */
function mutate(r: Rng, base: [string, unknown][], p: number, keep: string[]): Pairs {
  const pairs: [string, unknown][] = base.map((
    [k, v],
  ) => [k, !keep.includes(k) && r.chance(p) ? oddValue(r) : v]);
  for (let i = r.int(4); i > 0; i--) pairs.push([oddString(r).slice(0, 60), oddValue(r)]);
  if (r.chance(0.05)) pairs.push([pairs[0][0], oddValue(r)]); // a duplicate key: the last wins
  return new Pairs(pairs);
}

interface Case {
  provider: "snaptrade" | "plaid";
  body: string;
  headers: Record<string, string>;
}

const SNAPTRADE_TYPES = [
  "ACCOUNT_HOLDINGS_UPDATED",
  "ACCOUNT_TRANSACTIONS_UPDATED",
  "CONNECTION_BROKEN",
  "CONNECTION_FIXED",
  "CONNECTION_DELETED",
  "USER_DELETED",
  "TRADE_UPDATE",
  "USER_REGISTERED",
];
const PLAID_TYPES: [string, string][] = [
  ["HOLDINGS", "DEFAULT_UPDATE"],
  ["INVESTMENTS_TRANSACTIONS", "DEFAULT_UPDATE"],
  ["ITEM", "ERROR"],
  ["ITEM", "PENDING_EXPIRATION"],
  ["ITEM", "LOGIN_REPAIRED"],
  ["ITEM", "NEW_ACCOUNTS_AVAILABLE"],
];

async function snaptradeCase(r: Rng, i: number): Promise<Case> {
  const id = r.chance(0.25) ? oddValue(r) : `fuzz-${SEED}-${i}`;
  const base: [string, unknown][] = [
    ["webhookId", id],
    ["clientId", "MERIDIAN"],
    ["eventTimestamp", new Date().toISOString().replace("Z", "000+00:00")],
    ["userId", r.chance(0.5) ? "user-0" : oddValue(r)],
    ["eventType", r.chance(0.7) ? r.pick(SNAPTRADE_TYPES) : oddValue(r)],
    ["brokerageAuthorizationId", r.chance(0.6) ? `auth-${r.int(3)}` : oddValue(r)],
    ["accountId", oddValue(r)],
    ["details", oddValue(r)],
  ];
  if (r.chance(0.2)) base.push(["webhookSecret", "whsec_fuzz"]);
  const body = toJson(mutate(r, base, 0.3, ["webhookId", "eventTimestamp"]));
  let signature = "AAAA";
  try {
    if (r.chance(0.92)) signature = await snaptradeSignature(body, KEY);
  } catch {
    // Cannot be canonicalised (e.g. nested too deeply): sent unsigned, refused.
  }
  return { provider: "snaptrade", body, headers: { Signature: signature } };
}

async function plaidCase(
  r: Rng,
  keys: {
    good: Awaited<ReturnType<typeof plaidKey>>;
    stranger: { kid: string; privateKey: CryptoKey };
  },
): Promise<Case> {
  const [type, code] = r.pick(PLAID_TYPES);
  const base: [string, unknown][] = [
    ["webhook_type", type],
    ["webhook_code", code],
    ["item_id", r.chance(0.6) ? `item-${r.int(3)}` : oddValue(r)],
    ["error", r.chance(0.5) ? null : oddValue(r)],
    ["consent_expiration_time", oddValue(r)],
    ["reason", oddValue(r)],
    ["environment", "sandbox"],
  ];
  let body = toJson(mutate(r, base, 0.3, []));
  if (r.chance(0.1)) body = body.replaceAll(",", ",\n  "); // Plaid may pretty-print
  if (r.chance(0.03)) body = toJson([oddValue(r)]); // not an object: 400
  const now = Math.floor(Date.now() / 1000);
  const x = r.next();
  const jwt = x < 0.85
    ? await plaidJwt(body, keys.good, { iat: now })
    : x < 0.9
    ? await plaidJwt(body, keys.stranger) // unknown kid: 401, or 503 once the budget is spent
    : x < 0.93
    ? await plaidJwt(body, { ...keys.good, kid: oddString(r) }) // malformed kid
    : x < 0.97
    ? await plaidJwt(body, keys.good, { hash: "0".repeat(64) })
    : await plaidJwt(body, keys.good, { iat: now - 400 });
  return { provider: "plaid", body, headers: { "Plaid-Verification": jwt } };
}

/** The key the relay forwards for an accepted webhook (by the rule in proto). */
async function expectedKey(c: Case): Promise<string> {
  if (c.provider === "plaid") return await sha256Hex(enc.encode(c.body));
  const o = JSON.parse(c.body);
  const id = typeof o.webhookId === "string" ? o.webhookId : o.webookId;
  return webhookEventId(id);
}

function spawn(script: string, env: Record<string, string>) {
  const child = new Deno.Command(deno, {
    args: ["run", "-A", new URL(script, import.meta.url).pathname],
    // The services stop when this test process (their stdin) goes away.
    env: processEnv({ METRICS_PORT: "0", LOG_LEVEL: "error", STOP_ON_STDIN_EOF: "true", ...env }),
    clearEnv: true,
    stdin: "piped",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const state = { exited: null as Deno.CommandStatus | null, stderr: "" };
  child.status.then((s) => state.exited = s);
  (async () => {
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
      state.stderr = (state.stderr + chunk).slice(-4000);
    }
  })();
  return { child, state };
}

Deno.test({
  name:
    `webhook fuzz (seed ${SEED}): every 2xx yields one webhook_events row; no 5xx but 503 Retry-After; no process exits`,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const db = await testDatabase();
    const nats = await startNats();
    const admin = await connect({ servers: nats.url });
    await provisionAll({ nc: admin });
    await admin.close();
    const good = await plaidKey();
    const stranger = await plaidKey();
    const plaidKeys = servePlaidKeys([good.jwk]);
    const dir = await Deno.makeTempDir({ prefix: "webhook-fuzz-" });
    const [u] = await db.sql`insert into users (email, password_hash)
      values ('fuzz@example.com', ${"x".repeat(40)}) returning id`;
    await db.sql`insert into provider_users
        (user_id, provider, external_user_id, secret_key_id, secret_ciphertext)
      values (${u.id}, 'snaptrade', 'user-0', 'k1', ${new Uint8Array([1])})`;
    for (let i = 0; i < 3; i++) {
      await db.sql`insert into connections (user_id, provider, external_id, institution)
        values (${u.id}, 'snaptrade', ${`auth-${i}`}, 'Inst')`;
      await db.sql`insert into connections
          (user_id, provider, external_id, institution, secret_key_id, secret_ciphertext)
        values (${u.id}, 'plaid', ${`item-${i}`}, 'Inst', 'k1', ${new Uint8Array([1])})`;
    }

    const port = freePort();
    const relay = spawn("./main.ts", {
      NATS_URL: nats.url,
      RELAY_PORT: String(port),
      RELAY_OUTBOX_PATH: `${dir}/outbox.sqlite`,
      SNAPTRADE_CONSUMER_KEY: KEY,
      PLAID_BASE_URL: plaidKeys.url,
    });
    const ingress = spawn("../ingress/main.ts", { NATS_URL: nats.url, DATABASE_URL: db.url });
    const url = `http://127.0.0.1:${port}`;
    let slow: Deno.TcpConn | undefined;
    try {
      await waitForPort(port, 30_000);
      const ready = async () => {
        const res = await fetch(`${url}/readyz`).catch(() => null);
        await res?.body?.cancel();
        return res?.ok ?? false;
      };
      await eventually(ready, { what: "the relay to be ready" });

      // Meanwhile, a client that dribbles its request head: the relay must cut it off.
      slow = await Deno.connect({ hostname: "127.0.0.1", port });
      const slowConn = slow;
      const slowAnswer = (async () => {
        const buf = new Uint8Array(1024);
        let got = "";
        for (;;) {
          const n = await slowConn.read(buf).catch(() => null);
          if (n === null) return got;
          got += new TextDecoder().decode(buf.subarray(0, n));
        }
      })();
      let slowClosed = false;
      slowAnswer.then(() => slowClosed = true);
      (async () => {
        const head = "POST /webhooks/plaid HTTP/1.1\r\nHost: relay\r\nX-Slow: ";
        for (let i = 0; !slowClosed; i++) {
          await slowConn.write(enc.encode(head[i] ?? "a")).catch(() => {});
          await new Promise((r) => setTimeout(r, 500));
        }
      })();

      const r = choices(SEED);
      const cases: Case[] = [];
      for (let i = 0; i < CASES; i++) {
        cases.push(
          r.chance(0.1) && cases.length
            ? r.pick(cases) // a redelivery of an earlier one
            : r.chance(0.6)
            ? await snaptradeCase(r, i)
            : await plaidCase(r, { good, stranger }),
        );
      }
      const accepted = new Map<string, Case>();
      const statuses = new Map<number, number>();
      const send = async (c: Case) => {
        const res = await fetch(`${url}/webhooks/${c.provider}`, {
          method: "POST",
          body: c.body,
          headers: { "content-type": "application/json", ...c.headers },
        }).catch(async (e) => {
          // Most likely the relay died: give it a moment to say so.
          let timer;
          await Promise.race([
            relay.child.status,
            new Promise((r) => timer = setTimeout(r, 2_000)),
          ]);
          clearTimeout(timer);
          const exit = relay.state.exited ? `relay exited (${relay.state.exited.code}) ` : "";
          throw new Error(`${exit}${e}: ${relay.state.stderr.slice(-1500)}`);
        });
        const text = await res.text();
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        const what = `${c.provider} ${res.status} ${text.slice(0, 200)} for ${
          c.body.slice(0, 300)
        }`;
        if (res.status >= 200 && res.status < 300) {
          accepted.set(`${c.provider}/${await expectedKey(c)}`, c);
        } else if (res.status === 503) {
          assert.ok(res.headers.get("retry-after"), `503 without Retry-After: ${what}`);
        } else {
          assert.ok(res.status >= 400 && res.status < 500, `not a 4xx: ${what}`);
          assert.equal(typeof JSON.parse(text).error, "string", what);
        }
      };
      let next = 0;
      await Promise.all(Array.from({ length: 8 }, async () => {
        while (next < cases.length) await send(cases[next++]);
      }));
      // The services are still up, forwarding and recording: one more webhook goes through.
      const canary = JSON.stringify({
        webhookId: `canary-${SEED}`,
        eventTimestamp: new Date().toISOString(),
        eventType: "ACCOUNT_HOLDINGS_UPDATED",
        brokerageAuthorizationId: "auth-0",
      });
      await send({
        provider: "snaptrade",
        body: canary,
        headers: { Signature: await snaptradeSignature(canary, KEY) },
      });
      assert.ok(accepted.has(`snaptrade/canary-${SEED}`));

      const summary = [...statuses].sort().map(([s, n]) => `${s}×${n}`).join(" ");
      console.log(`seed ${SEED}: ${CASES} cases, ${accepted.size} distinct accepted; ${summary}`);
      assert.ok(accepted.size >= CASES / 4, `too few accepted to mean anything: ${summary}`);
      assert.ok((statuses.get(400) ?? 0) + (statuses.get(401) ?? 0) > 10, summary);

      const recorded = async () =>
        (await db.sql<{ provider: string; event_id: string }[]>`
          select provider, event_id from webhook_events`).map((x) => `${x.provider}/${x.event_id}`);
      let rows: string[] = [];
      await eventually(async () => (rows = await recorded()).length >= accepted.size, {
        timeoutMs: 60_000,
        what: "every accepted webhook recorded",
      }).catch((e) => {
        const missing = [...accepted].filter(([k]) => !rows.includes(k)).slice(0, 3);
        throw new Error(
          `${e.message}: ${rows.length} of ${accepted.size}; missing e.g. ` +
            JSON.stringify(missing.map(([k, c]) => [k, c.body.slice(0, 300)])) +
            `; ingress stderr: ${ingress.state.stderr.slice(-1500)}`,
        );
      });
      assert.deepEqual(rows.sort(), [...accepted.keys()].sort(), "exactly one row per 2xx");

      const answer = await slowAnswer;
      assert.match(answer, /^HTTP\/1\.1 408 /, "the dribbling client was cut off");
      assert.equal(relay.state.exited, null, `relay exited: ${relay.state.stderr}`);
      assert.equal(ingress.state.exited, null, `ingress exited: ${ingress.state.stderr}`);
    } finally {
      slow?.close();
      for (const p of [relay, ingress]) {
        if (p.state.exited === null) p.child.kill("SIGTERM");
        await p.child.status;
        await p.child.stdin.close().catch(() => {});
      }
      await plaidKeys.close();
      await nats.close();
      await db.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
