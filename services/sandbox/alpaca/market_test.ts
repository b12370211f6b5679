import assert from "node:assert/strict";
import { trading } from "@alpacahq/alpaca-trade-api";
import {
  DEMO_ALPACA_DATA_KEYS,
  DEMO_ALPACA_KEY_ID,
  DEMO_ALPACA_SECRET,
  startSandbox,
} from "../mod.ts";
import { connectData, control } from "./test_helpers.ts";

const ST = { clientId: "CID", consumerKey: "CKEY" };
const PL = { clientId: "pid", secret: "psecret" };

function clockApi(url: string) {
  return new trading.ClockApi(
    new trading.Configuration({
      basePath: `${url}/alpaca`,
      keyId: DEMO_ALPACA_KEY_ID,
      secret: DEMO_ALPACA_SECRET,
    }),
  );
}

async function setMarket(url: string, body: unknown) {
  const r = await fetch(`${url}/_admin/alpaca/market`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: r.status, body: await r.json() };
}

Deno.test("clock: open at any hour (a Saturday too); the admin switch closes it", async () => {
  let now = Date.parse("2026-11-28T15:00:00Z"); // Saturday 10:00 in New York
  const sb = await startSandbox({
    snaptrade: ST,
    plaid: PL,
    alpaca: { tradeIntervalMs: 60_000 },
    now: () => now,
  });
  try {
    const api = clockApi(sb.url);
    const open = await api.legacyClock();
    assert.equal(open.isOpen, true);
    const raw = await (await api.legacyClockRaw()).raw.json();
    assert.deepEqual(raw, {
      timestamp: "2026-11-28T10:00:00.000-05:00",
      is_open: true,
      next_open: "2026-11-30T09:30:00-05:00",
      next_close: "2026-11-30T16:00:00-05:00",
    });

    assert.equal((await setMarket(sb.url, { open: "no" })).status, 400);
    assert.equal((await setMarket(sb.url, {})).status, 400);
    assert.deepEqual(await setMarket(sb.url, { open: false }), {
      status: 200,
      body: { ok: true, open: false },
    });
    now = Date.parse("2026-07-15T18:00:00Z"); // Wednesday 14:00 EDT
    assert.deepEqual(await (await api.legacyClockRaw()).raw.json(), {
      timestamp: "2026-07-15T14:00:00.000-04:00",
      is_open: false,
      next_open: "2026-07-16T09:30:00-04:00",
      next_close: "2026-07-16T16:00:00-04:00",
    });
    await setMarket(sb.url, { open: true });
    assert.deepEqual(await (await api.legacyClockRaw()).raw.json(), {
      timestamp: "2026-07-15T14:00:00.000-04:00",
      is_open: true,
      next_open: "2026-07-16T09:30:00-04:00",
      next_close: "2026-07-15T16:00:00-04:00",
    });
  } finally {
    await sb.close();
  }
});

Deno.test("a closed market stops equity trades on the stream until it reopens", async () => {
  const sb = await startSandbox({ snaptrade: ST, plaid: PL, alpaca: { tradeIntervalMs: 20 } });
  const ws = sb.url.replace("http", "ws");
  const c = await connectData(`${ws}/alpaca-data/v2/iex`);
  try {
    await setMarket(sb.url, { open: false });
    const k = DEMO_ALPACA_DATA_KEYS[0];
    c.send({ action: "auth", key: k.keyId, secret: k.secret });
    await c.next();
    c.send({ action: "subscribe", trades: ["AAPL"], quotes: ["MSFT"] });
    await c.nextWhere(control("subscription"));
    // Ten ticks pass without a trade or quote.
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(c.queued, 0);
    await setMarket(sb.url, { open: true });
    const frame = await c.next();
    assert.ok(frame.some((m: { T: string; S: string }) => m.T === "t" && m.S === "AAPL"));
  } finally {
    await c.close();
    await sb.close();
  }
});
