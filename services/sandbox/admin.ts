/**
 * The sandbox's admin API (`/_admin`): call counts, holdings, webhooks on demand, breaking and
 * fixing connections, a slow brokerage. Answers 403 unless the sandbox runs in `demo` or `test` mode.
 * @module
 */
import { Hono } from "hono";
import type { Context } from "hono";
import { z } from "zod";
import type { AlpacaSandbox } from "./alpaca/mod.ts";
import type { CallLog } from "./calls.ts";
import { AdminError } from "./core.ts";
import type { PlaidSandbox } from "./plaid/mod.ts";
import type { SnapTradeSandbox } from "./snaptrade/mod.ts";
import type { WebhookDispatcher } from "./webhooks.ts";

/** Whether the admin API answers: `demo` and `test` do, `off` refuses. */
export type SandboxMode = "demo" | "test" | "off";

const Provider = z.enum(["snaptrade", "plaid", "alpaca"]);
const Decimal = z.string().regex(/^\d+(\.\d+)?$/, "a non-negative decimal string");

const HoldingBody = z.object({
  provider: Provider,
  connection: z.string().min(1),
  symbol: z.string().min(1).max(40),
  quantity: Decimal,
  account: z.string().min(1).optional(),
});

const WebhookBody = z.discriminatedUnion("provider", [
  z.object({
    provider: z.literal("snaptrade"),
    event_type: z.string().regex(/^[A-Z_]+$/),
    connection: z.string().min(1),
    account: z.string().min(1).optional(),
  }),
  z.object({
    provider: z.literal("plaid"),
    connection: z.string().min(1),
    webhook_type: z.string().regex(/^[A-Z_]+$/),
    webhook_code: z.string().regex(/^[A-Z_]+$/),
  }),
]);

const ConnectionBody = z.object({ provider: Provider, connection: z.string().min(1) });

type Hook = z.infer<typeof WebhookBody>;
type Fired = Awaited<ReturnType<SnapTradeSandbox["admin"]["fireWebhook"]>>;

/** What the admin API does to any provider's connection (an Alpaca one is its key id). */
interface ConnectionAdmin {
  setHolding(connection: string, symbol: string, quantity: string, account?: string): void;
  breakConnection(connection: string): void;
  fixConnection(connection: string): void;
}

const MarketBody = z.object({ open: z.boolean() });

const TicksBody = z.object({ interval_ms: z.number().int().min(1).max(60_000) });

const LatencyBody = z.object({ ms: z.number().int().min(0).max(60_000) });

/** What the admin API acts on. */
export interface AdminDeps {
  mode: SandboxMode;
  calls: CallLog;
  snaptrade: SnapTradeSandbox;
  plaid: PlaidSandbox;
  alpaca: AlpacaSandbox | null;
  webhooks: WebhookDispatcher;
  /** Milliseconds every provider request waits before it is answered. */
  latency: { ms: number };
}

/** Builds the admin routes (mount at `/_admin`). */
export function adminRoutes(d: AdminDeps): Hono {
  const app = new Hono();

  app.use("*", async (c, next) => {
    if (d.mode !== "demo" && d.mode !== "test") {
      return c.json({ error: "the sandbox admin API is off (SANDBOX_MODE=off)" }, 403);
    }
    try {
      await next();
    } catch (e) {
      if (e instanceof AdminError) return c.json({ error: e.message }, e.status);
      throw e;
    }
  });

  app.onError((e, c) => {
    if (e instanceof AdminError) return c.json({ error: e.message }, e.status);
    return c.json({ error: e instanceof Error ? e.message : String(e) }, 400);
  });

  async function body<T extends z.ZodType>(
    c: Context,
    schema: T,
  ): Promise<z.infer<T> | Response> {
    const json = await c.req.json().catch(() => undefined);
    if (json === undefined) return c.json({ error: "the body must be JSON" }, 400);
    const r = schema.safeParse(json);
    if (!r.success) return c.json({ error: "invalid request", issues: r.error.issues }, 400);
    return r.data;
  }

  function alpaca(): AlpacaSandbox {
    if (!d.alpaca) throw new AdminError(404, "the Alpaca sandbox is not running");
    return d.alpaca;
  }

  /** Each provider's connection admin, routed by the provider key. */
  const admins: Record<z.infer<typeof Provider>, () => ConnectionAdmin> = {
    snaptrade: () => d.snaptrade.admin,
    plaid: () => d.plaid.admin,
    alpaca: () => alpaca().admin,
  };

  /** Runs `fn` on a provider's admin; an unknown connection or account is a 404. */
  function onConnection(provider: z.infer<typeof Provider>, fn: (a: ConnectionAdmin) => void) {
    const admin = admins[provider]();
    try {
      fn(admin);
    } catch (e) {
      if (e instanceof AdminError) throw e;
      throw new AdminError(404, e instanceof Error ? e.message : String(e));
    }
  }

  /** Each webhook-sending provider's "fire one", routed by the provider key. */
  const fire: { [P in Hook["provider"]]: (b: Extract<Hook, { provider: P }>) => Promise<Fired> } = {
    snaptrade: (b) => d.snaptrade.admin.fireWebhook(b.event_type, b.connection, b.account),
    plaid: (b) => d.plaid.admin.fireWebhook(b.connection, b.webhook_type, b.webhook_code),
  };

  app.get("/calls", (c) => c.json(d.calls.counts()));
  app.post("/calls/reset", (c) => {
    d.calls.reset();
    return c.json({ ok: true });
  });

  app.post("/latency", async (c) => {
    const b = await body(c, LatencyBody);
    if (b instanceof Response) return b;
    d.latency.ms = b.ms;
    return c.json({ ok: true, ms: b.ms });
  });

  app.post("/holdings", async (c) => {
    const b = await body(c, HoldingBody);
    if (b instanceof Response) return b;
    onConnection(b.provider, (a) => a.setHolding(b.connection, b.symbol, b.quantity, b.account));
    return c.json({ ok: true });
  });

  app.post("/webhooks", async (c) => {
    const b = await body(c, WebhookBody);
    if (b instanceof Response) return b;
    // The union's member and its provider's function agree; TypeScript cannot see it.
    const r = await (fire[b.provider] as (hook: Hook) => Promise<Fired>)(b);
    return c.json(r.error ? { status: r.status, error: r.error } : { status: r.status });
  });

  app.get("/webhooks", (c) =>
    c.json(
      d.webhooks.sent.slice(-100).map((w) => ({
        provider: w.provider,
        url: w.url,
        event: w.event,
        body: JSON.parse(w.body),
      })),
    ));

  for (const action of ["break", "fix"] as const) {
    app.post(`/connections/${action}`, async (c) => {
      const b = await body(c, ConnectionBody);
      if (b instanceof Response) return b;
      onConnection(b.provider, (a) => {
        if (action === "break") a.breakConnection(b.connection);
        else a.fixConnection(b.connection);
      });
      return c.json({ ok: true });
    });
  }

  app.post("/alpaca/market", async (c) => {
    const b = await body(c, MarketBody);
    if (b instanceof Response) return b;
    alpaca().admin.setMarketOpen(b.open);
    return c.json({ ok: true, open: b.open });
  });

  app.post("/alpaca/ticks", async (c) => {
    const b = await body(c, TicksBody);
    if (b instanceof Response) return b;
    alpaca().admin.setTradeInterval(b.interval_ms);
    return c.json({ ok: true, interval_ms: b.interval_ms });
  });

  app.post("/snaptrade/webhook_url", async (c) => {
    const b = await body(c, z.object({ url: z.string().url().nullable() }));
    if (b instanceof Response) return b;
    d.snaptrade.admin.setWebhookUrl(b.url);
    return c.json({ ok: true });
  });

  app.notFound((c) => c.json({ error: "not found" }, 404));
  return app;
}
