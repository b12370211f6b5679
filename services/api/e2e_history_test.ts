/**
 * Browser end-to-end of value history against the demo stack (every service a process): the
 * demo user's connections sync, valuation rebuilds a year of history from their transactions,
 * and the demo user sees a 1Y chart with reconstructed points, switches ranges, reads TWR and
 * MWR, and watches the chart's last point move with live values; the transactions and income
 * pages show the demo data; a phone's width never scrolls sideways. Screenshots go to
 * test-artifacts/.
 */
import assert from "node:assert/strict";
import type { Locator, Page } from "playwright-core";
import { eventually } from "@meridian/runtime/testing";
import { build } from "../../web/build.ts";
import {
  ARTIFACTS,
  CHROMIUM,
  exists,
  launchChromium,
  stale,
  startDemoStack,
} from "./testing/stack.ts";

async function assertNoSidewaysScroll(page: Page, what: string) {
  const w = await page.evaluate(() => ({
    scrollWidth: document.scrollingElement!.scrollWidth,
    innerWidth,
    // The elements that stick out, to say which one a failure is about.
    wide: [...document.querySelectorAll("body *")]
      .filter((e) => e.getBoundingClientRect().right > innerWidth + 1)
      .slice(0, 5)
      .map((e) => `${e.tagName.toLowerCase()}.${e.className}[${e.getAttribute("data-testid")}]`),
  }));
  assert.ok(w.scrollWidth <= w.innerWidth, `${what}: ${JSON.stringify(w)}`);
}

/** The chart once the answer for `range` is drawn. */
async function showRange(page: Page, range: string): Promise<Locator> {
  await page.getByTestId(`range-${range}`).click();
  const chart = page.locator(
    `[data-testid="history-body"][aria-busy="false"] [data-testid="value-chart"][data-range="${range}"]`,
  );
  await chart.waitFor();
  return chart;
}

Deno.test({
  name: "e2e history: a year rebuilt from transactions, ranges, TWR and MWR, a live last point",
  ignore: !(await exists(CHROMIUM)),
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await Deno.mkdir(ARTIFACTS, { recursive: true });
    if (await stale()) await build();
    // Intraday points every 5 s, so the 1D range has some within the test.
    const stack = await startDemoStack("e2e4", { SNAPSHOT_INTRADAY_S: "5" });
    const { db, api } = stack;
    let browser: Awaited<ReturnType<typeof launchChromium>> | undefined;
    try {
      const [demo] = await db.sql<{ id: string }[]>`
        select id from users where email = 'demo@example.com'`;
      // Every connection rebuilt, so the portfolio's reconstructed total is written.
      await eventually(async () => {
        const [{ n }] = await db.sql<{ n: number }[]>`
          select count(*)::int as n from value_history
           where scope = ${demo.id} and kind = 'reconstructed'`;
        return n >= 12;
      }, { timeoutMs: 180_000, what: "the demo user's rebuilt year" });

      browser = await launchChromium();
      const page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
      const problems: string[] = [];
      // Before signing in, the page's GET /api/me answers 401: that is how it knows to ask.
      let signedIn = false;
      page.on("console", (m) => {
        if (m.type() === "error" && signedIn) problems.push(m.text());
      });
      page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
      page.on("response", (r) => {
        if (r.status() >= 500) problems.push(`${r.status()} ${r.url()}`);
      });
      page.setDefaultTimeout(30_000);

      await page.goto(`${api}/login`);
      await page.getByLabel("Email").fill("demo@example.com");
      await page.getByLabel("Password").fill("meridian-demo");
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.getByTestId("value-chart").waitFor();
      signedIn = true;

      // A year: most of its points rebuilt from transactions.
      const year = await showRange(page, "1Y");
      const points = Number(await year.getAttribute("data-points"));
      const rebuilt = Number(await year.getAttribute("data-reconstructed"));
      assert.ok(points >= 200, `1Y points: ${points}`);
      assert.ok(rebuilt >= 150, `1Y reconstructed points: ${rebuilt} of ${points}`);
      await page.getByTestId("chart-legend").getByText(/reconstructed/i).waitFor();

      // TWR and MWR read as percentages, with their formulas behind the info buttons.
      await page.locator('[data-testid="performance"][data-range="1Y"]').waitFor();
      for (const id of ["perf-twr", "perf-mwr"]) {
        const card = page.getByTestId(id);
        const fraction = await card.getAttribute("data-value");
        assert.ok(fraction && /^-?\d+(\.\d+)?$/.test(fraction), `${id}: ${fraction}`);
        assert.match(await card.innerText(), /%/);
        await page.getByTestId(`${id}-info`).click();
        assert.match(await page.getByTestId(`${id}-formula`).innerText(), /return/i);
      }
      await page.screenshot({ path: `${ARTIFACTS}/history-1y.png`, fullPage: true });

      // Other ranges.
      for (const range of ["1M", "1W", "YTD", "ALL"]) {
        const chart = await showRange(page, range);
        assert.ok(Number(await chart.getAttribute("data-points")) > 0, range);
      }

      // Today: intraday points, and the last point follows the live value.
      const day = await showRange(page, "1D");
      await eventually(async () => Number(await day.getAttribute("data-points")) >= 2, {
        timeoutMs: 60_000,
        what: "intraday points on the 1D chart",
      });
      const last = page.getByTestId("chart-last-value");
      const first = await last.getAttribute("data-value");
      await eventually(async () => (await last.getAttribute("data-value")) !== first, {
        timeoutMs: 30_000,
        what: "the chart's last point moving with the live value",
      });
      assert.equal(await last.getAttribute("data-live"), "true");
      await page.screenshot({ path: `${ARTIFACTS}/history-1d.png`, fullPage: true });

      // The allocation adds up; the transactions and income pages show the demo data.
      await page.getByTestId("allocation-chart").waitFor();
      await page.getByRole("link", { name: "Transactions" }).click();
      await page.getByTestId("transactions-table").locator("tbody tr").first().waitFor();
      await page.getByRole("link", { name: "Income" }).click();
      await page.getByTestId("income-table").waitFor();
      assert.match(await page.getByTestId("income-total").innerText(), /\d/);

      // A phone.
      await page.setViewportSize({ width: 390, height: 844 });
      await page.getByRole("link", { name: "Dashboard" }).click();
      await page.getByTestId("value-chart").waitFor();
      await assertNoSidewaysScroll(page, "dashboard on a phone");
      await page.screenshot({ path: `${ARTIFACTS}/history-phone.png`, fullPage: true });

      assert.deepEqual(problems, []);
    } finally {
      await browser?.close().catch(() => {});
      await stack.close();
    }
  },
});
