/** `PATCH /api/me`: a base currency Meridian can convert into, or a clear refusal. */
import assert from "node:assert/strict";
import { Decimal } from "decimal.js";
import { Exact } from "@meridian/portfolio";
import { call, json, login, sanitize, withHarness } from "./testing/harness.ts";
import { seedUser } from "./testing/seed.ts";

Deno.test(
  "the base currency defaults to USD and changes only to a convertible one",
  sanitize,
  async () => {
    await withHarness(async (h) => {
      await h.sql`insert into fx_rates (date, currency, per_eur) values
      ('2026-11-26', 'USD', 1.05), ('2026-11-26', 'CHF', 0.93),
      ('2026-11-27', 'USD', 1.055), ('2026-11-27', 'JPY', 161.23)`;
      const a = await seedUser(h.sql, "fx@example.com");
      const cookie = await login(h, a.email, a.password);
      const me = await json(await call(h, "/api/me", { cookie }));
      assert.equal(me.settings.base_currency, "USD");
      // What the dashboard's selector offers: EUR and the latest rates' currencies, sorted.
      assert.deepEqual(me.settings.base_currencies, ["EUR", "JPY", "USD"]);

      const eur = await call(h, "/api/me", {
        method: "PATCH",
        cookie,
        body: { base_currency: "EUR" },
      });
      assert.equal(eur.status, 200);
      assert.equal((await json(eur)).settings.base_currency, "EUR");
      const jpy = await call(h, "/api/me", {
        method: "PATCH",
        cookie,
        body: { base_currency: "JPY" },
      });
      assert.equal((await json(jpy)).settings.base_currency, "JPY");
      assert.equal(
        (await json(await call(h, "/api/me", { cookie }))).settings.base_currency,
        "JPY",
      );

      // The holdings' base totals follow at once: every currency's total in JPY, through EUR.
      const holdings = await json(await call(h, "/api/holdings", { cookie }));
      assert.equal(holdings.base.currency, "JPY");
      assert.equal(holdings.base.fx_date, "2026-11-27");
      assert.deepEqual(holdings.base.unconverted, []);
      const usd = holdings.totals.find((t: { currency: string }) => t.currency === "USD");
      assert.ok(usd, "the seeded user holds USD");
      // Exact decimals, as converted: USD × 161.23 / 1.055 at 20 significant digits.
      const D20 = Decimal.clone({ precision: 20 });
      const jpyOf = (usdAmount: string) => new D20(usdAmount).times("161.23").div("1.055");
      assert.equal(holdings.base.positions_value, jpyOf(usd.positions_value).toFixed());
      assert.equal(holdings.base.cash, jpyOf(usd.cash).toFixed());
      assert.equal(
        holdings.base.total,
        // Exact: decimal.js's default precision would round this sum to 20 digits.
        new Exact(holdings.base.positions_value).plus(holdings.base.cash).toFixed(),
      );

      // CHF is only in an older day's rates; XYZ in none: refused with a sentence, nothing changes.
      for (const base_currency of ["CHF", "XYZ"]) {
        const r = await call(h, "/api/me", { method: "PATCH", cookie, body: { base_currency } });
        assert.equal(r.status, 400);
        const body = await json(r);
        assert.match(
          body.error,
          new RegExp(`no exchange rate for ${base_currency}; choose one of EUR, JPY, USD\\.`),
        );
      }
      for (
        const body of [{ base_currency: "usd" }, { base_currency: "USD", admin: true }, {}, "nope"]
      ) {
        const r = await call(h, "/api/me", { method: "PATCH", cookie, body });
        assert.equal(r.status, 400, JSON.stringify(body));
        assert.ok((await json(r)).error);
      }
      assert.equal(
        (await json(await call(h, "/api/me", { cookie }))).settings.base_currency,
        "JPY",
      );
      assert.equal(
        (await call(h, "/api/me", { method: "PATCH", body: { base_currency: "EUR" } })).status,
        401,
      );
    });
  },
);
