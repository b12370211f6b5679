/**
 * Trading benchmark.
 * - Order placement latency: preview (routing, the broker's impact or an estimate, caps and
 *   collar, the preview stored) and place (the order recorded in one transaction, sent once,
 *   the broker's answer recorded) until the order is accepted, through the api's routes and the
 *   official SDKs against the sandbox's Alpaca and SnapTrade, alternating the two accounts
 *   (one order a second per account).
 * - Order status pipeline: broker reports applied to open orders (the state machine in one
 *   transaction, the order event, the provisional position and `holdings.changed`), 16 at a
 *   time, over 2,000 orders of 200 users; reports per second and p50/p99 per report.
 * The api runs in this process (as services/api/testing/harness.ts wires it), with real
 * PostgreSQL, NATS and the sandbox over HTTP.
 *
 *   deno run -A bench/orders.ts
 * @module
 */
import { Kvm } from "@nats-io/kv";
import { buckets, kvKeys, subjects } from "@meridian/proto";
import { OrderDesk } from "@meridian/sync/trading";
import { TEST_ALPACA_KEY_ID, TEST_ALPACA_SECRET } from "../services/sandbox/mod.ts";
import { SyncWorker } from "../services/sync/worker.ts";
import {
  call,
  connectAlpaca,
  connectSnaptrade,
  type Harness,
  login,
  startHarness,
} from "../services/api/testing/harness.ts";
import { seedUser } from "../services/api/testing/seed.ts";
import { machine, pct, writeResult } from "./lib/load.ts";

const PLACEMENTS = Number(Deno.env.get("BENCH_ORDERS_PLACEMENTS") ?? 40);
const PIPELINE_ORDERS = Number(Deno.env.get("BENCH_ORDERS_PIPELINE") ?? 2000);
const PIPELINE_USERS = 200;
const CONCURRENCY = 16;

async function synced(h: Harness, userId: string, connectionId: string): Promise<string> {
  await new SyncWorker(h.sync, { concurrency: 1 }).syncConnection(userId, connectionId, {
    requestId: crypto.randomUUID(),
    reason: "initial",
    requestedAt: new Date().toISOString(),
  });
  const [a] = await h.sql<{ id: string }[]>`
    select id from accounts where connection_id = ${connectionId} order by name, id limit 1`;
  return a.id;
}

const ms = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return {
    p50: +pct(s, 0.5).toFixed(1),
    p99: +pct(s, 0.99).toFixed(1),
    max: +s[s.length - 1].toFixed(1),
  };
};

/** Preview → accepted, alternating the accounts. */
async function placementLatency(h: Harness) {
  const u = await seedUser(h.sql, "bench-trader@example.com");
  const cookie = await login(h, u.email, u.password);
  const alpaca = await synced(
    h,
    u.userId,
    await connectAlpaca(h, cookie, { keyId: TEST_ALPACA_KEY_ID, secret: TEST_ALPACA_SECRET }),
  );
  const snaptrade = await synced(
    h,
    u.userId,
    await connectSnaptrade(h, cookie, { access: "trade", broker: "ROBINHOOD" }),
  );
  const kv = await new Kvm(h.nats.nc).open(buckets.lastPrices.name);
  await kv.put(
    kvKeys.lastPrice("AAPL"),
    JSON.stringify({
      symbol: "AAPL",
      price: "190",
      previous_close: null,
      time: new Date().toISOString(),
      feed: "iex",
      delayed: false,
    }),
  );
  const samples: Record<string, { preview: number[]; place: number[]; total: number[] }> = {
    alpaca: { preview: [], place: [], total: [] },
    snaptrade: { preview: [], place: [], total: [] },
  };
  const lastAt: Record<string, number> = { alpaca: 0, snaptrade: 0 };
  for (let i = 0; i < PLACEMENTS; i++) {
    const provider = i % 2 === 0 ? "alpaca" : "snaptrade";
    // One order a second per account.
    const wait = lastAt[provider] + 1_050 - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const t0 = performance.now();
    const p = await call(h, "/api/orders/preview", {
      method: "POST",
      cookie,
      body: {
        symbol: "AAPL",
        side: "buy",
        quantity: "1",
        type: "market",
        time_in_force: "day",
        account_id: provider === "alpaca" ? alpaca : snaptrade,
      },
    });
    const preview = await p.json();
    if (p.status !== 200) throw new Error(`preview: ${p.status} ${JSON.stringify(preview)}`);
    const t1 = performance.now();
    const r = await call(h, "/api/orders", {
      method: "POST",
      cookie,
      body: { preview_id: preview.preview_id },
      headers: { "idempotency-key": `bench-${crypto.randomUUID()}` },
    });
    const placed = await r.json();
    const t2 = performance.now();
    lastAt[provider] = t2;
    if (r.status !== 201 || !["accepted", "filled"].includes(placed.order.state)) {
      throw new Error(`place: ${r.status} ${JSON.stringify(placed)}`);
    }
    samples[provider].preview.push(t1 - t0);
    samples[provider].place.push(t2 - t1);
    samples[provider].total.push(t2 - t0);
  }
  return Object.fromEntries(
    Object.entries(samples).map(([k, v]) => [k, {
      samples: v.total.length,
      preview_ms: ms(v.preview),
      place_ms: ms(v.place),
      preview_to_accepted_ms: ms(v.total),
    }]),
  );
}

/** Broker reports applied to open orders, `CONCURRENCY` at a time. */
async function statusPipeline(h: Harness) {
  const orders: string[] = [];
  for (let u = 0; u < PIPELINE_USERS; u++) {
    const s = await seedUser(h.sql, `bench-pipe-${u}@example.com`);
    const [acct] = await h.sql<{ id: string; connection_id: string }[]>`
      select id, connection_id from accounts where user_id = ${s.userId} and provider = 'snaptrade'`;
    const per = Math.ceil(PIPELINE_ORDERS / PIPELINE_USERS);
    const rows = Array.from({ length: per }, () => {
      const id = crypto.randomUUID();
      orders.push(id);
      return {
        id,
        user_id: s.userId,
        account_id: acct.id,
        connection_id: acct.connection_id,
        provider: "snaptrade",
        client_order_id: id,
        broker_order_id: `bench-${id}`,
        symbol: "AAPL",
        side: "buy",
        type: "market",
        time_in_force: "day",
        quantity: "2",
        state: "accepted",
        currency: "USD",
        estimated_amount: "200",
      };
    });
    await h.sql`insert into orders ${h.sql(rows)}`;
  }
  const desk = new OrderDesk({ sync: h.sync, lastPrice: () => Promise.resolve(null) });
  let events = 0;
  const sub = h.nats.nc.subscribe(subjects.ordersAll, { callback: () => void events++ });
  const latencies: number[] = [];
  // Each order: a partial fill, the same report again (ignored), then the fill.
  const reports = orders.flatMap((id) => [
    {
      id,
      report: { state: "partially_filled" as const, filled_quantity: "1", average_price: "100" },
    },
    {
      id,
      report: { state: "partially_filled" as const, filled_quantity: "1", average_price: "100" },
    },
    { id, report: { state: "filled" as const, filled_quantity: "2", average_price: "100.5" } },
  ]);
  // Per order in sequence (a broker's reports of one order arrive in order); orders in parallel.
  const byOrder = new Map<string, typeof reports>();
  for (const r of reports) byOrder.set(r.id, [...(byOrder.get(r.id) ?? []), r]);
  const queue = [...byOrder.values()];
  const t0 = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      for (const r of next) {
        const s = performance.now();
        await desk.applyReport(r.id, r.report, true, "bench");
        latencies.push(performance.now() - s);
      }
    }
  }));
  const seconds = (performance.now() - t0) / 1000;
  const expectedEvents = orders.length * 2;
  const deadline = Date.now() + 10_000;
  while (events < expectedEvents && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
  }
  sub.unsubscribe();
  const [filled] = await h.sql<{ n: number }[]>`
    select count(*)::int as n from orders where id = any(${orders}) and state = 'filled'`;
  return {
    orders: orders.length,
    reports: reports.length,
    concurrency: CONCURRENCY,
    seconds: +seconds.toFixed(2),
    reports_per_s: Math.round(reports.length / seconds),
    report_ms: ms(latencies),
    orders_filled: filled.n,
    order_events_received: events,
    order_events_expected: expectedEvents,
  };
}

if (import.meta.main) {
  const h = await startHarness();
  try {
    const placement = await placementLatency(h);
    console.error(`placement: ${JSON.stringify(placement)}`);
    const pipeline = await statusPipeline(h);
    console.error(`pipeline: ${JSON.stringify(pipeline)}`);
    const rows: [string, string][] = [
      ...Object.entries(placement).map(([k, v]) =>
        [
          `${k}: preview → accepted p50 / p99 (${v.samples} orders)`,
          `${v.preview_to_accepted_ms.p50} / ${v.preview_to_accepted_ms.p99} ms (preview ${v.preview_ms.p50}, place ${v.place_ms.p50})`,
        ] as [string, string]
      ),
      [
        `status pipeline: reports/s (${pipeline.reports} reports, ${pipeline.concurrency} at a time)`,
        `${pipeline.reports_per_s} (p50 / p99 ${pipeline.report_ms.p50} / ${pipeline.report_ms.p99} ms)`,
      ],
      [
        "  orders filled, order events received",
        `${pipeline.orders_filled} / ${pipeline.orders}, ${pipeline.order_events_received} / ${pipeline.order_events_expected}`,
      ],
    ];
    const w = [0, 1].map((i) => Math.max(...rows.map((r) => r[i].length), 8));
    console.log(`| ${"figure".padEnd(w[0])} | ${"measured".padEnd(w[1])} |`);
    console.log(`|${"-".repeat(w[0] + 2)}|${"-".repeat(w[1] + 2)}|`);
    for (const r of rows) console.log(`| ${r[0].padEnd(w[0])} | ${r[1].padEnd(w[1])} |`);
    await writeResult("orders", { machine: machine(), placement, pipeline });
  } finally {
    await h.close();
  }
}
