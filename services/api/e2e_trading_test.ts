/**
 * Browser end-to-end of trading against the demo stack (sandbox in demo mode, api, relay,
 * ingress, sync with its order follower, symbols, prices, valuation as processes): the demo
 * user buys 1 AAPL from its holdings row through the Alpaca account and then through the
 * trade-enabled SnapTrade account — ticket, preview, confirmation, confirm — and sees the order
 * go to filled live, the holding's quantity, the cash and the total move without a reload; the
 * read-only SnapTrade connection's accounts are never offered, their reason is shown; a preview
 * that runs out says so and previews again; a resting limit order is canceled from the orders
 * page and shows canceled live; the kill switch refuses an order with its sentence; a phone's
 * width never scrolls sideways. Screenshots go to test-artifacts/.
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { Exact } from "@meridian/portfolio";
import { build } from "../../web/build.ts";
import {
  ARTIFACTS,
  CHROMIUM,
  exists,
  launchChromium,
  stale,
  startDemoStack,
} from "./testing/stack.ts";

/** An account of the demo user, as the ticket names it. */
interface DemoAccount {
  id: string;
  name: string;
}

/** The page's own width against its content's: a phone must never scroll sideways. */
async function assertNoSidewaysScroll(page: Page, what: string) {
  const w = await page.evaluate(() => ({
    scrollWidth: document.scrollingElement!.scrollWidth,
    innerWidth,
  }));
  assert.ok(w.scrollWidth <= w.innerWidth, `${what}: ${JSON.stringify(w)}`);
}

Deno.test({
  name: "e2e trading: buy from a holding's row through Alpaca and SnapTrade, follow it live",
  ignore: !(await exists(CHROMIUM)),
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const t0 = Date.now();
    await Deno.mkdir(ARTIFACTS, { recursive: true });
    if (await stale()) await build();
    const stack = await startDemoStack("e2e3");
    const { db, procs, api } = stack;
    let browser: Awaited<ReturnType<typeof launchChromium>> | undefined;
    try {
      const ready = Date.now();
      const accounts = async (where: "alpaca" | "snaptrade-trade" | "snaptrade-read") => {
        const [provider, access] = where === "alpaca"
          ? ["alpaca", "trade"]
          : ["snaptrade", where.slice("snaptrade-".length)];
        return await db.sql<DemoAccount[]>`
          select a.id, a.name from accounts a
            join connections c on c.id = a.connection_id
            join users u on u.id = c.user_id
           where u.email = 'demo@example.com' and c.provider = ${provider}
             and c.access = ${access}
           order by a.name`;
      };
      const [alpaca] = await accounts("alpaca");
      const snaptradeTrade = await accounts("snaptrade-trade");
      const readOnly = await accounts("snaptrade-read");
      assert.ok(alpaca, "the demo user has an Alpaca account");
      assert.ok(readOnly.length > 0, "the demo user has a read-only SnapTrade connection");
      // The trade-enabled SnapTrade account that holds AAPL (Robinhood in the sandbox).
      const [robinhood] = await db.sql<DemoAccount[]>`
        select a.id, a.name from accounts a join positions p on p.account_id = a.id
         where a.id = any(${snaptradeTrade.map((a) => a.id)}::uuid[]) and p.symbol = 'AAPL'`;
      assert.ok(
        robinhood,
        `a trade-enabled SnapTrade account holds AAPL: ${JSON.stringify(snaptradeTrade)}`,
      );

      browser = await launchChromium();
      const page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
      // The browser's clock runs on its own time, so a preview's five minutes can pass here.
      await page.clock.install();
      const consoleErrors: string[] = [];
      page.on("console", (m) => {
        if (m.type() === "error") consoleErrors.push(m.text());
      });
      page.on("pageerror", (e) => consoleErrors.push(`page error: ${e.message}`));
      const serverErrors: string[] = [];
      page.on("response", (r) => {
        if (r.status() >= 500) serverErrors.push(`${r.status()} ${r.url()}`);
      });
      let loads = 0;
      page.on("load", () => loads++);
      page.setDefaultTimeout(30_000);

      await page.goto(`${api}/login`);
      await page.getByLabel("Email").fill("demo@example.com");
      await page.getByLabel("Password").fill("meridian-demo");
      await page.getByRole("button", { name: "Sign in" }).click();
      const total = page.locator('[data-testid="total-value"]');
      const cash = page.locator('[data-testid="cash"]');
      await total.waitFor();
      const aapl = page.locator('tbody tr[data-symbol="AAPL"]').first();
      await aapl.waitFor();
      // Values arrive: the total is valuation's, not only the page load's.
      await page.locator('[data-testid="stream-state"]', { hasText: /^Live$/ }).waitFor();
      const loadsAtStart = loads;
      const ticket = page.getByTestId("trade-ticket");

      /** Opens the ticket from AAPL's row and checks which accounts it offers. */
      const openFromRow = async (side: "Buy" | "Sell") => {
        await aapl.getByRole("button", { name: `${side} AAPL` }).click();
        await ticket.waitFor();
        const select = ticket.getByLabel("Account");
        await select.waitFor();
        const offered = await select.locator("option").evaluateAll((os) =>
          os.map((o) => (o as HTMLOptionElement).value)
        );
        // The read-only connection's accounts are never offered; why is said under the list.
        for (const ro of readOnly) {
          assert.ok(!offered.includes(ro.id), `${ro.name} is read-only: ${offered}`);
        }
        const why = await ticket.getByTestId("ineligible").innerText();
        for (const ro of readOnly) {
          assert.ok(
            why.includes(`${ro.name}: the connection is read-only.`),
            `the reason for ${ro.name}: ${why}`,
          );
        }
        return offered;
      };

      /**
       * Buys 1 AAPL through `account` from the row: ticket → preview → confirmation → confirm →
       * filled live → the holding, the cash and the total move, no reload.
       */
      const buyOne = async (account: DemoAccount, shot: string, expire = false) => {
        const quantity = new Exact((await aapl.locator(".c-qty").getAttribute("data-quantity"))!);
        const cashBefore = await cash.getAttribute("data-value");
        const offered = await openFromRow("Buy");
        assert.ok(offered.includes(account.id), `${account.name} is offered: ${offered}`);
        await ticket.getByLabel("Account").selectOption(account.id);
        await ticket.getByLabel("Quantity").fill("1");
        await page.screenshot({ path: `${ARTIFACTS}/e2e-trade-${shot}-1-ticket.png` });
        await ticket.getByRole("button", { name: "Preview order" }).click();
        const confirmation = ticket.getByTestId("confirmation");
        await confirmation.waitFor();
        // Everything of the preview: account, symbol, action, quantity, type, price, time in
        // force, estimated cost, commission, cash after, currency, the risk line and its expiry.
        const text = await confirmation.innerText();
        for (
          const want of [
            "AAPL",
            "Buy",
            "Market",
            "Estimated price",
            "Day",
            "Estimated cost",
            "Commission",
            "Cash after the order",
            "USD",
          ]
        ) assert.ok(text.includes(want), `the confirmation shows ${want}:\n${text}`);
        assert.equal(
          await ticket.getByTestId("confirm-account").getAttribute("data-account-id"),
          account.id,
        );
        assert.equal(await ticket.getByTestId("confirm-quantity").innerText(), "1");
        assert.match(await ticket.getByTestId("risk").innerText(), /buying 1 AAPL/);
        await ticket.getByTestId("preview-expiry").filter({ hasText: /expires in [0-5]:\d\d/ })
          .waitFor();
        await page.screenshot({ path: `${ARTIFACTS}/e2e-trade-${shot}-2-confirm.png` });
        if (expire) {
          // Five minutes pass: the preview says it expired, and confirming is not offered.
          await page.clock.fastForward("05:01");
          await ticket.getByTestId("preview-expired").waitFor();
          assert.ok(await ticket.getByRole("button", { name: "Confirm buy" }).isDisabled());
          await page.screenshot({ path: `${ARTIFACTS}/e2e-trade-${shot}-2b-expired.png` });
          // Back to the real time, which the next preview's expiry is counted from.
          await page.clock.setSystemTime(new Date());
          await ticket.getByRole("button", { name: "Preview again" }).click();
          await ticket.getByTestId("preview-expiry").filter({ hasText: /expires in [45]:\d\d/ })
            .waitFor();
        }
        await ticket.getByRole("button", { name: "Confirm buy" }).click();
        const sent = ticket.getByTestId("order-sent");
        await sent.waitFor();
        const orderId = (await sent.getAttribute("data-order-id"))!;
        // Filled, as the stream reports it.
        await ticket.locator('[data-testid="order-status"][data-state="filled"]').waitFor({
          timeout: 60_000,
        });
        await page.screenshot({ path: `${ARTIFACTS}/e2e-trade-${shot}-3-filled.png` });
        const [row] = await db.sql<{ state: string; account_id: string }[]>`
          select state, account_id from orders where id = ${orderId}`;
        assert.deepEqual(row, { state: "filled", account_id: account.id });
        await ticket.getByRole("button", { name: "Done" }).click();
        await ticket.waitFor({ state: "detached" });
        // The holding gains the share, and the cash and the total move, without a reload.
        await page.waitForFunction(
          (want) =>
            document.querySelector('tbody tr[data-symbol="AAPL"] .c-qty')
              ?.getAttribute("data-quantity") === want,
          quantity.plus(1).toFixed(),
          { timeout: 30_000 },
        );
        await page.waitForFunction(
          (before) =>
            document.querySelector('[data-testid="cash"]')?.getAttribute("data-value") !== before,
          cashBefore,
          { timeout: 30_000 },
        );
        assert.equal(loads, loadsAtStart, "no reload");
        return orderId;
      };

      // Through the Alpaca account.
      const totalBefore = await total.getAttribute("data-value");
      const alpacaOrder = await buyOne(alpaca, "alpaca");
      await page.waitForFunction(
        (before) =>
          document.querySelector('[data-testid="total-value"]')?.getAttribute("data-value") !==
            before,
        totalBefore,
      );
      await page.screenshot({ path: `${ARTIFACTS}/e2e-trade-alpaca-4-holdings.png` });

      // Through the trade-enabled SnapTrade account.
      const snaptradeOrder = await buyOne(robinhood, "snaptrade");
      await page.screenshot({ path: `${ARTIFACTS}/e2e-trade-snaptrade-4-holdings.png` });
      const price = new Exact((await aapl.locator(".c-price").getAttribute("data-price"))!);

      // The orders page lists both, filled; a resting limit order is canceled from it.
      await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Orders" })
        .click();
      const orders = page.getByTestId("orders");
      await orders.waitFor();
      for (const id of [alpacaOrder, snaptradeOrder]) {
        await orders.locator(`li[data-order-id="${id}"][data-state="filled"]`).waitFor();
      }
      // 5 % under the last price: inside the price collar, and it rests at the broker.
      const limit = price.times("0.95").toFixed(2);
      await page.getByLabel("Find a symbol to trade").fill("AAPL");
      const results = page.getByTestId("symbol-results");
      await results.getByRole("button", { name: "Buy AAPL" }).first().click();
      await ticket.getByLabel("Account").waitFor();
      await ticket.getByLabel("Account").selectOption(alpaca.id);
      await ticket.getByLabel("Quantity").fill("1");
      await ticket.getByLabel("Order type").selectOption("limit");
      await ticket.getByLabel(/Limit price/).fill(limit);
      await ticket.getByRole("button", { name: "Preview order" }).click();
      await ticket.getByTestId("confirmation").waitFor();
      await ticket.getByRole("button", { name: "Confirm buy" }).click();
      const resting = ticket.getByTestId("order-sent");
      await resting.waitFor();
      const limitOrder = (await resting.getAttribute("data-order-id"))!;
      await ticket.getByRole("button", { name: "Done" }).click();
      const item = orders.locator(`li[data-order-id="${limitOrder}"]`);
      await orders.locator(`li[data-order-id="${limitOrder}"][data-state="accepted"]`).waitFor();
      await page.screenshot({ path: `${ARTIFACTS}/e2e-trade-5-orders.png`, fullPage: true });
      await item.getByRole("button", { name: /^Cancel order/ }).click();
      await orders.locator(`li[data-order-id="${limitOrder}"][data-state="canceled"]`).waitFor();
      assert.equal(await item.getByRole("button", { name: /^Cancel order/ }).count(), 0);

      // The kill switch: an order is refused with the api's sentence, then trading resumes.
      await page.getByRole("button", { name: "Stop all my trading" }).click();
      await page.getByRole("button", { name: "Resume trading" }).waitFor();
      await results.getByRole("button", { name: "Buy AAPL" }).first().click();
      await ticket.getByLabel("Account").waitFor();
      await ticket.getByLabel("Quantity").fill("1");
      await ticket.getByRole("button", { name: "Preview order" }).click();
      const refused = ticket.getByTestId("ticket-error");
      await refused.waitFor();
      // The api's sentence, never its code.
      assert.match(await refused.innerText(), /^Trading is halted\b.*\.$/);
      await page.screenshot({ path: `${ARTIFACTS}/e2e-trade-6-halted.png` });
      await ticket.getByRole("button", { name: "Cancel", exact: true }).click();
      await page.getByRole("button", { name: "Resume trading" }).click();
      await page.getByRole("button", { name: "Stop all my trading" }).waitFor();

      // A phone's width: the orders page and a ticket from a holding's row fit it.
      await page.setViewportSize({ width: 390, height: 844 });
      await assertNoSidewaysScroll(page, "orders page at 390 px");
      await page.screenshot({ path: `${ARTIFACTS}/e2e-trade-7-orders-phone.png`, fullPage: true });
      await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Dashboard" })
        .click();
      await aapl.waitFor();
      await assertNoSidewaysScroll(page, "dashboard at 390 px");
      await openFromRow("Sell");
      await assertNoSidewaysScroll(page, "ticket at 390 px");
      await page.screenshot({ path: `${ARTIFACTS}/e2e-trade-8-ticket-phone.png` });
      await ticket.getByRole("button", { name: "Cancel", exact: true }).click();
      await ticket.waitFor({ state: "detached" });

      // On the phone, through SnapTrade again, the preview left to expire first (last: the
      // browser's clock jumps, which the other checks need not see).
      await buyOne(robinhood, "phone", true);
      await assertNoSidewaysScroll(page, "dashboard at 390 px after the order");
      await page.screenshot({ path: `${ARTIFACTS}/e2e-trade-9-phone-holdings.png` });
      assert.equal(loads, loadsAtStart, "no reload");

      // Refusals (401 before sign-in, 403 and 422 refusals) are logged by the browser as
      // failed loads; anything else is a bug.
      assert.deepEqual(consoleErrors.filter((e) => !/^Failed to load resource/.test(e)), []);
      assert.deepEqual(serverErrors, []);
      console.log(
        `e2e trading: stack ready in ${((ready - t0) / 1000).toFixed(1)} s, browser flow ${
          ((Date.now() - ready) / 1000).toFixed(1)
        } s`,
      );
    } catch (e) {
      for (const p of procs) console.error(`--- ${p.name}\n${p.log.join("").slice(-3000)}`);
      console.error(
        "orders",
        JSON.stringify(
          await db.sql`select provider, symbol, side, type, state, reason from orders`.catch(
            String,
          ),
        ),
      );
      throw e;
    } finally {
      await browser?.close().catch(() => {});
      await stack.close();
    }
  },
});
