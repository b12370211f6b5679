/** The holdings cache's priced layer: reused while the quotes, market and staleness hold. */
import assert from "node:assert/strict";
import type { LastPrice } from "@meridian/proto";
import { testDatabase } from "@meridian/runtime/testing";
import { HoldingsCache } from "./holdings_cache.ts";
import type { QuoteBook, QuoteEntry } from "./live_quotes.ts";
import { seedUser } from "./testing/seed.ts";

class FakeBook implements QuoteBook {
  quotes = new Map<string, QuoteEntry>();
  open: boolean | null = null;
  get(symbol: string) {
    return this.quotes.get(symbol);
  }
  marketOpen() {
    return this.open;
  }
  put(quote: Omit<LastPrice, "symbol" | "feed">, revision: number) {
    this.quotes.set("AAPL", { quote: { ...quote, symbol: "AAPL", feed: "iex" }, revision });
  }
}

Deno.test("holdings cache: re-priced when a quote, the market or staleness changes", async () => {
  const db = await testDatabase();
  try {
    const a = await seedUser(db.sql, "cache@example.com");
    const [aapl] = await db.sql<{ id: string }[]>`
      insert into instruments (kind, symbol, currency) values ('equity', 'AAPL', 'USD')
      returning id`;
    await db.sql`update positions set instrument_id = ${aapl.id}, unresolved_reason = null
                  where user_id = ${a.userId} and symbol = 'AAPL'`;
    const cache = new HoldingsCache(db.sql, 60_000);
    const book = new FakeBook();
    const t0 = new Date("2026-11-30T15:00:00.000Z");
    const at = (ms: number) => new Date(t0.getTime() + ms);
    const price = (e: { json: string }) =>
      JSON.parse(e.json).positions.find((p: { symbol: string }) => p.symbol === "AAPL");

    const none = await cache.get(a.userId, t0, book);
    assert.equal(price(none).price_source, "provider");
    assert.equal(await cache.get(a.userId, t0, book), none, "nothing changed: the same entry");

    book.put({ price: "150", previous_close: "149", time: t0.toISOString(), delayed: false }, 7);
    const live = await cache.get(a.userId, t0, book);
    assert.equal(price(live).price, "150");
    assert.notEqual(live.etag, none.etag);
    assert.equal(await cache.get(a.userId, at(1_000), book), live);
    // A new revision with the same content: re-priced, and the same ETag.
    book.put({ price: "150", previous_close: "149", time: t0.toISOString(), delayed: false }, 8);
    const again = await cache.get(a.userId, at(1_000), book);
    assert.notEqual(again, live);
    assert.equal(again.etag, live.etag);

    // The market opens: the quote is not stale until 15 minutes have passed, then it is.
    book.open = true;
    const open = await cache.get(a.userId, at(15 * 60_000), book);
    assert.equal(price(open).stale, false);
    assert.equal(await cache.get(a.userId, at(15 * 60_000), book), open);
    const stale = await cache.get(a.userId, at(15 * 60_000 + 1), book);
    assert.equal(price(stale).stale, true);
    assert.notEqual(stale.etag, open.etag);
    // Closed: fresh again (an equity price does not go stale while its market is shut).
    book.open = false;
    assert.equal(price(await cache.get(a.userId, at(15 * 60_000 + 2), book)).stale, false);
  } finally {
    await db.close();
  }
});
