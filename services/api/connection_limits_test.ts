/**
 * The connection routes under load, over the real flows, SDKs and sandbox: one user's flood is
 * cut at their own limit while another user is answered, and a spent shared provider budget
 * answers 503 at once instead of queueing the request.
 */
import assert from "node:assert/strict";
import { INTERACTIVE } from "../sync/providers/config.ts";
import { plaidLimiter } from "../sync/providers/plaid/client.ts";
import { call, type Harness, login, startHarness } from "./testing/harness.ts";
import { seedUser } from "./testing/seed.ts";

const sanitize = { sanitizeOps: false, sanitizeResources: false };

async function withHarness(fn: (h: Harness) => Promise<void>) {
  const h = await startHarness();
  try {
    await fn(h);
  } finally {
    await h.close();
  }
}

function linkToken(h: Harness, cookie: string): Promise<Response> {
  return call(h, "/api/connections/plaid/link-token", { method: "POST", cookie });
}

/** Link tokens the sandbox's Plaid has issued. */
function linkTokensIssued(h: Harness): number {
  return h.sandbox.calls.counts().by_route["plaid POST /link/token/create"] ?? 0;
}

/** A Retry-After header as whole seconds, checked to be one. */
function retryAfter(res: Response): number {
  const v = res.headers.get("retry-after") ?? "";
  assert.match(v, /^[1-9]\d*$/, `Retry-After ${JSON.stringify(v)}`);
  return Number(v);
}

Deno.test(
  "one user's flood of link tokens stops at their own limit; another user is answered",
  sanitize,
  async () => {
    await withHarness(async (h) => {
      const a = await seedUser(h.sql, "a@example.com");
      const b = await seedUser(h.sql, "b@example.com");
      const cookieA = await login(h, a.email, a.password);
      const cookieB = await login(h, b.email, b.password);
      const issued = linkTokensIssued(h);
      // The adversarial test's numbers: 130 requests from B, then one from A, all at once.
      const flood = Array.from({ length: 130 }, () => linkToken(h, cookieB));
      const answers = await Promise.all([...flood, linkToken(h, cookieA)]);
      const ofA = answers.pop()!;
      assert.equal(ofA.status, 200, await ofA.clone().text());
      assert.ok((await ofA.json()).link_token);

      const byStatus = new Map<number, Response[]>();
      for (const r of answers) byStatus.set(r.status, [...byStatus.get(r.status) ?? [], r]);
      assert.deepEqual(
        [...byStatus.keys()].sort(),
        [200, 429],
        "B is answered or told to wait; nobody waits on the shared budget (503)",
      );
      assert.equal(byStatus.get(200)!.length, INTERACTIVE.perUser.limit);
      for (const r of byStatus.get(429)!) {
        const s = retryAfter(r);
        assert.ok(s <= INTERACTIVE.perUser.windowMs / 1000, `Retry-After ${s}`);
        assert.match((await r.json()).error, /Too many connection requests/);
      }
      for (const r of byStatus.get(200)!) await r.body?.cancel();
      // B spent only their own share of the Plaid budget.
      assert.equal(linkTokensIssued(h) - issued, INTERACTIVE.perUser.limit + 1);
    });
  },
);

// Last in this file: it spends the process's Plaid budget for the next minute.
Deno.test(
  "a spent shared provider budget answers 503 with Retry-After at once, not after a minute",
  sanitize,
  async () => {
    await withHarness(async (h) => {
      const a = await seedUser(h.sql, "a@example.com");
      const cookie = await login(h, a.email, a.password);
      // Background syncs in this process have used this minute's Plaid budget.
      const plaid = plaidLimiter(h.config);
      while (plaid.inWindow() < plaid.limit) await plaid.acquire();
      const issued = linkTokensIssued(h);
      const res = await linkToken(h, cookie);
      assert.equal(res.status, 503, await res.clone().text());
      const s = retryAfter(res);
      assert.ok(s > INTERACTIVE.maxWaitMs / 1000 && s <= 60, `Retry-After ${s}`);
      assert.match((await res.json()).error, /busy/);
      assert.equal(linkTokensIssued(h), issued, "no call was made");
    });
  },
);
