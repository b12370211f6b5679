/**
 * Browser end-to-end: sandbox, relay, ingress, sync and api as real processes against a
 * throwaway NATS and PostgreSQL; headless Chromium through playwright-core. Sign up, connect
 * a sandbox SnapTrade brokerage through its portal, see its holdings; the sandbox changes a
 * holding and fires a webhook, the banner appears without a reload; Refresh clears it and
 * shows the new quantity; a second Refresh at once shows the wait message. Then the demo stack
 * (symbols, prices and valuation too): the dashboard moves live, a holding's row is the sum of
 * its accounts, the base currency converts, a phone's width does not scroll sideways.
 * Screenshots go to test-artifacts/.
 */
import assert from "node:assert/strict";
import { Exact } from "@meridian/portfolio";
import { eventually, freePort, startNats, testDatabase } from "@meridian/runtime/testing";
import { build } from "../../web/build.ts";
import {
  ARTIFACTS,
  CHROMIUM,
  exists,
  launchChromium,
  type Proc,
  spawn,
  stackEnv,
  stale,
  startDemoStack,
  stop,
  waitReady,
} from "./testing/stack.ts";

Deno.test({
  name: "e2e: sign up, connect SnapTrade, webhook banner, refresh, cooldown",
  ignore: !(await exists(CHROMIUM)),
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const t0 = Date.now();
    await Deno.mkdir(ARTIFACTS, { recursive: true });
    if (await stale()) await build();
    const db = await testDatabase({ migrate: false });
    const nats = await startNats();
    const outboxDir = await Deno.makeTempDir({ prefix: "meridian-e2e-" });
    const ports = { api: freePort(), relay: freePort(), sandbox: freePort() };
    const env = stackEnv(db.url, nats.url, ports, outboxDir, "e2e1", {
      SANDBOX_MODE: "test",
      REFRESH_COOLDOWN_S: "60",
    });
    const procs: Proc[] = [];
    const api = `http://127.0.0.1:${ports.api}`;
    const sandbox = `http://127.0.0.1:${ports.sandbox}`;
    let browser: Awaited<ReturnType<typeof launchChromium>> | undefined;
    try {
      // The api migrates the database; the others wait for NATS and their turn.
      procs.push(spawn("api", env));
      procs.push(spawn("sandbox", env));
      procs.push(spawn("relay", env));
      const metrics = { ingress: freePort(), sync: freePort() };
      procs.push(spawn("ingress", { ...env, METRICS_PORT: String(metrics.ingress) }));
      procs.push(spawn("sync", { ...env, METRICS_PORT: String(metrics.sync) }));
      await waitReady(`${api}/readyz`, procs);
      await waitReady(`${sandbox}/readyz`, procs);
      await waitReady(`http://127.0.0.1:${ports.relay}/readyz`, procs);
      await waitReady(`http://127.0.0.1:${metrics.ingress}/readyz`, procs);
      await waitReady(`http://127.0.0.1:${metrics.sync}/readyz`, procs);
      const ready = Date.now();

      browser = await launchChromium();
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const consoleErrors: string[] = [];
      page.on("console", (m) => {
        if (m.type() === "error") consoleErrors.push(m.text());
      });
      page.on("pageerror", (e) => consoleErrors.push(`page error: ${e.message}`));
      const serverErrors: string[] = [];
      // While the api restarts below, its port answers 503 until the routes are mounted: the
      // stream's retry may land there, as designed.
      let restarting = false;
      const notFound: string[] = [];
      page.on("response", (r) => {
        if (r.status() >= 500 && !(restarting && r.status() === 503)) {
          serverErrors.push(`${r.status()} ${r.url()}`);
        }
        if (r.status() === 404) notFound.push(r.url());
      });
      page.setDefaultTimeout(30_000);

      // Sign up.
      await page.goto(`${api}/signup`);
      await page.getByLabel("Email").fill("e2e@example.com");
      await page.getByLabel("Password").fill("e2e-password-123");
      await page.getByRole("button", { name: "Create account" }).click();
      await page.getByRole("heading", { name: "Connect your first brokerage" }).waitFor();
      // No valuation runs here, so no value moves: the stream is open, nothing claims "Live".
      await page.locator('[data-testid="stream-state"]', { hasText: /^Connected/ }).waitFor();
      await page.screenshot({ path: `${ARTIFACTS}/e2e-1-empty.png`, fullPage: true });

      // Connect a SnapTrade brokerage through the sandbox portal.
      await page.getByRole("button", { name: "Connect a brokerage" }).click();
      await page.getByRole("button", { name: "Connect read-only" }).click();
      await page.waitForURL(/\/snaptrade\/portal/);
      await page.screenshot({ path: `${ARTIFACTS}/e2e-2-portal.png`, fullPage: true });
      await page.locator('input[name="broker"][value="QUESTRADE"]').check();
      await Promise.all([
        page.waitForURL(new RegExp(`^${api}/`)),
        page.locator('form button[type="submit"], form input[type="submit"]').first().click(),
      ]);
      const row = page.locator('tr[data-symbol="AAPL"]').first();
      await row.waitFor({ timeout: 60_000 });
      await page.screenshot({ path: `${ARTIFACTS}/e2e-3-holdings.png`, fullPage: true });
      assert.match(await row.innerText(), /92/);

      // The sandbox changes a holding and fires a webhook: the banner appears, no reload.
      const [{ external_id: authorizationId }] = await db.sql<{ external_id: string }[]>`
        select c.external_id from connections c join users u on u.id = c.user_id
         where c.provider = 'snaptrade' and u.email = 'e2e@example.com'`;
      const admin = async (path: string, body: unknown) => {
        const res = await fetch(`${sandbox}/_admin${path}`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(body),
        });
        const text = await res.text();
        assert.equal(res.status, 200, `${path}: ${text}`);
        return JSON.parse(text);
      };
      await admin("/holdings", {
        provider: "snaptrade",
        connection: authorizationId,
        symbol: "AAPL",
        quantity: "150",
        account: "51234568",
      });
      const fired = await admin("/webhooks", {
        provider: "snaptrade",
        event_type: "ACCOUNT_HOLDINGS_UPDATED",
        connection: authorizationId,
      });
      assert.equal(fired.status, 200, JSON.stringify(fired));
      const banner = page.locator('[data-testid="updates-banner"]');
      await banner.waitFor({ timeout: 30_000 });
      await page.screenshot({ path: `${ARTIFACTS}/e2e-4-banner.png`, fullPage: true });

      // Refresh: the banner goes and the new quantity shows.
      await banner.getByRole("button", { name: "Refresh" }).click();
      await banner.waitFor({ state: "detached", timeout: 60_000 });
      await page.waitForFunction(
        () =>
          [...document.querySelectorAll('tr[data-symbol="AAPL"] [data-testid="quantity"]')]
            .some((td) => td.textContent?.replace(/[^0-9.]/g, "") === "150"),
        undefined,
        { timeout: 60_000 },
      );
      await page.getByText("Holdings updated").waitFor();
      await page.screenshot({ path: `${ARTIFACTS}/e2e-5-refreshed.png`, fullPage: true });

      // A common laptop width: every column, the provider one last, is whole (#11).
      await page.setViewportSize({ width: 1366, height: 900 });
      const fit = await page.evaluate(() => {
        const wrap = document.querySelector(".table-wrap")!.getBoundingClientRect();
        const cells = [...document.querySelectorAll<HTMLElement>(
          "table.holdings thead th:last-child, table.holdings td.c-provider",
        )];
        const wrapEl = document.querySelector<HTMLElement>(".table-wrap")!;
        return {
          cells: cells.length,
          cut: cells.filter((c) => {
            const r = c.getBoundingClientRect();
            return r.right > wrap.right + 0.5 || r.left < wrap.left - 0.5 ||
              c.scrollWidth > c.clientWidth;
          }).map((c) => c.outerHTML.slice(0, 120)),
          scrolls: wrapEl.scrollWidth > wrapEl.clientWidth,
          header: cells[0]?.textContent,
        };
      });
      assert.ok(fit.cells >= 2, JSON.stringify(fit));
      assert.equal(fit.header, "Provider");
      assert.deepEqual(fit.cut, [], "provider cells inside the table's box");
      assert.equal(fit.scrolls, false, "the table does not scroll sideways at 1366 px");
      await page.screenshot({ path: `${ARTIFACTS}/e2e-5b-1366.png`, fullPage: true });
      await page.setViewportSize({ width: 1280, height: 900 });

      // Again at once: the wait message.
      await page.locator(".page-head").getByRole("button", { name: "Refresh" }).click();
      const wait = page.locator('[data-testid="refresh-wait"]');
      await wait.waitFor();
      assert.match(await wait.innerText(), /wait \d+ seconds?/);
      await page.screenshot({ path: `${ARTIFACTS}/e2e-6-wait.png`, fullPage: true });

      // The api goes away: the indicator says so; it comes back: the stream reconnects.
      restarting = true;
      await stop(procs[0]);
      const streamState = page.locator('[data-testid="stream-state"]');
      await streamState.filter({ hasText: "reconnecting" }).waitFor();
      await page.screenshot({ path: `${ARTIFACTS}/e2e-6b-offline.png` });
      procs[0] = spawn("api", env);
      await waitReady(`${api}/readyz`, procs);
      await streamState.filter({ hasText: /^Connected/ }).waitFor({ timeout: 30_000 });
      restarting = false;

      // Phone-sized screen: one card per holding, and the page never scrolls sideways (#11).
      await page.setViewportSize({ width: 390, height: 844 });
      const overflow = () =>
        page.evaluate(() => ({
          scrollWidth: document.scrollingElement!.scrollWidth,
          innerWidth,
        }));
      const phone = await overflow();
      assert.ok(phone.scrollWidth <= phone.innerWidth, JSON.stringify(phone));
      const card = page.locator('tr[data-symbol="AAPL"]').first();
      // Symbol, name, value, day change, quantity and the accounts holding it (named with
      // their number's end) show; the wide table's other columns do not.
      const shown = await card.evaluate((tr) =>
        [...tr.children].filter((c) => getComputedStyle(c).display !== "none")
          .map((c) => c.className.match(/\bc-\w+/)?.[0])
      );
      assert.deepEqual(shown, ["c-symbol", "c-name", "c-qty", "c-value", "c-day", "c-accounts"]);
      assert.match(await card.innerText(), /Questrade · Margin USD ···4568/);
      await page.screenshot({ path: `${ARTIFACTS}/e2e-7-phone.png`, fullPage: true });
      await page.goto(`${api}/connections`);
      await page.getByRole("heading", { name: "Your connections" }).waitFor();
      await page.getByText("Margin USD ···4568").waitFor();
      const phoneConnections = await overflow();
      assert.ok(
        phoneConnections.scrollWidth <= phoneConnections.innerWidth,
        JSON.stringify(phoneConnections),
      );
      await page.screenshot({ path: `${ARTIFACTS}/e2e-8-connections-phone.png`, fullPage: true });

      // Remove, with confirmation.
      await page.getByRole("button", { name: /^Remove\b/ }).first().click();
      const dialog = page.getByRole("dialog");
      await dialog.waitFor();
      await page.screenshot({ path: `${ARTIFACTS}/e2e-9-remove-confirm.png` });
      await dialog.getByRole("button", { name: "Remove connection" }).click();
      await page.getByText("Nothing connected yet.").waitFor();

      // Expected refusals (401 before sign-in, 429 inside the cooldown) are logged by the
      // browser as failed loads; anything else is a bug.
      assert.deepEqual(consoleErrors.filter((e) => !/^Failed to load resource/.test(e)), []);
      assert.deepEqual(serverErrors, []);
      assert.deepEqual(notFound.filter((u) => u.startsWith(api)), []);
      console.log(
        `e2e: services ready in ${((ready - t0) / 1000).toFixed(1)} s, browser flow ${
          ((Date.now() - ready) / 1000).toFixed(1)
        } s`,
      );
    } catch (e) {
      for (const p of procs) console.error(`--- ${p.name}\n${p.log.join("").slice(-3000)}`);
      console.error(
        "webhook_events",
        await db.sql`select provider, event_type, outcome from webhook_events`.catch(String),
      );
      console.error(
        "pending_updates",
        JSON.stringify(
          await db.sql`select p.*, u.email from pending_updates p join users u on u.id = p.user_id`
            .catch(String),
        ),
      );
      console.error(
        "events",
        JSON.stringify(
          await db
            .sql`select w.event_type, w.outcome, u.email from webhook_events w left join users u on u.id = w.user_id order by processed_at`
            .catch(String),
        ),
      );
      throw e;
    } finally {
      await browser?.close().catch(() => {});
      await Promise.all(procs.map(stop));
      await nats.close();
      await db.close();
      await Deno.remove(outboxDir, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name: "e2e: the demo dashboard moves live, agrees with its accounts, and converts currencies",
  ignore: !(await exists(CHROMIUM)),
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const t0 = Date.now();
    await Deno.mkdir(ARTIFACTS, { recursive: true });
    if (await stale()) await build();
    // The whole demo stack as `make up` runs it (see `startDemoStack`), the demo user's
    // connections seeded by sync, each synced once.
    const stack = await startDemoStack("e2e2");
    const { procs, api } = stack;
    let browser: Awaited<ReturnType<typeof launchChromium>> | undefined;
    try {
      const ready = Date.now();

      browser = await launchChromium();
      const page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
      const consoleErrors: string[] = [];
      page.on("console", (m) => {
        if (m.type() === "error") consoleErrors.push(m.text());
      });
      page.on("pageerror", (e) => consoleErrors.push(`page error: ${e.message}`));
      page.setDefaultTimeout(30_000);

      await page.goto(`${api}/login`);
      await page.getByLabel("Email").fill("demo@example.com");
      await page.getByLabel("Password").fill("meridian-demo");
      await page.getByRole("button", { name: "Sign in" }).click();
      const total = page.locator('[data-testid="total-value"]');
      await total.waitFor();
      await page.locator('tr[data-symbol="AAPL"]').first().waitFor();

      // (a) The total moves as ticks arrive, without a reload.
      const first = await total.getAttribute("data-value");
      const firstText = await total.innerText();
      await page.waitForFunction(
        (before) =>
          document.querySelector('[data-testid="total-value"]')?.getAttribute("data-value") !==
            before,
        first,
        { timeout: 30_000 },
      );
      assert.notEqual(await total.getAttribute("data-value"), first);
      console.log(`e2e demo: total ${firstText} → ${await total.innerText()}`);

      // (e) The header says "Live" while they do, and the market's state shows.
      const streamState = page.locator('[data-testid="stream-state"]');
      await streamState.filter({ hasText: /^Live$/ }).waitFor({ timeout: 15_000 });
      await page.locator('[data-testid="market-status"]', { hasText: "Market open" }).waitFor();
      // Every currency held (USD, CAD) has a rate: nothing is left out of the total.
      assert.equal(await page.locator('[data-testid="unconverted"]').count(), 0);
      await page.locator('[data-testid="also-held"]', { hasText: /CA\$.*\(= \$/ }).waitFor();
      await page.screenshot({ path: `${ARTIFACTS}/e2e-demo-1-live.png`, fullPage: true });

      // The table fits a laptop's width with converted values and price markers (#11).
      const scrolls = await page.evaluate(() => {
        const w = document.querySelector<HTMLElement>(".table-wrap")!;
        return { scrollWidth: w.scrollWidth, clientWidth: w.clientWidth };
      });
      assert.ok(scrolls.scrollWidth <= scrolls.clientWidth, JSON.stringify(scrolls));

      // (b) A holding's "All accounts" value is the sum of its accounts', exactly: the row and
      // its expanded accounts are read from one render.
      const aapl = page.locator('tr[data-symbol="AAPL"]').first();
      await aapl.locator("button.expand").click();
      await page.locator("tr.shares tr[data-account-id]").first().waitFor();
      const parts = await page.evaluate(() => {
        const row = document.querySelector('tr[data-symbol="AAPL"]')!;
        const shares = row.nextElementSibling!;
        return {
          value: row.querySelector(".c-value")!.getAttribute("data-value"),
          accounts: [...shares.querySelectorAll("tr[data-account-id] td[data-value]")]
            .map((td) => td.getAttribute("data-value")!),
        };
      });
      assert.ok(
        parts.accounts.length >= 2,
        `AAPL is held in two accounts: ${JSON.stringify(parts)}`,
      );
      assert.equal(
        parts.accounts.reduce((s, v) => s.plus(v), new Exact(0)).toFixed(),
        new Exact(parts.value!).toFixed(),
      );
      // The "By account" rows add up to it too (read again until no tick fell between reads).
      const byAccount = page.getByRole("button", { name: "By account" });
      const allAccounts = page.getByRole("button", { name: "All accounts" });
      await eventually(async () => {
        await allAccounts.click();
        const all = await aapl.locator(".c-value").getAttribute("data-value");
        await byAccount.click();
        const each = await page.locator('.account-block tr[data-symbol="AAPL"] .c-value')
          .evaluateAll((tds) => tds.map((td) => td.getAttribute("data-value")!));
        return each.length >= 2 &&
          each.reduce((s, v) => s.plus(v), new Exact(0)).eq(new Exact(all!));
      }, { timeoutMs: 30_000, intervalMs: 100, what: "AAPL's accounts sum to its row" });
      await page.screenshot({ path: `${ARTIFACTS}/e2e-demo-2-by-account.png`, fullPage: true });
      await allAccounts.click();

      // (c) The base currency: EUR converts the total at the ECB rate; back to USD after.
      assert.equal(await total.getAttribute("data-currency"), "USD");
      const usd = new Exact((await total.getAttribute("data-value"))!);
      const currency = page.getByLabel("Currency");
      await currency.selectOption("EUR");
      await page.locator('[data-testid="total-value"][data-currency="EUR"]').waitFor();
      assert.match(await total.innerText(), /€/);
      await page.locator('[data-testid="fx-date"]', { hasText: /ECB rates of \d{4}-\d{2}-\d{2}/ })
        .waitFor();
      const eur = new Exact((await total.getAttribute("data-value"))!);
      const rate = await page.evaluate(async () =>
        (await (await fetch("/api/holdings")).json()).base.rates.USD as string
      );
      // Prices move between the two reads: the same to within 1 %.
      const drift = usd.times(rate).minus(eur).abs().div(eur);
      assert.ok(drift.lt(0.01), `USD ${usd} × ${rate} vs EUR ${eur}`);
      await page.screenshot({ path: `${ARTIFACTS}/e2e-demo-3-eur.png`, fullPage: true });
      // Values keep coming in the new currency: the EUR total moves too.
      const eurBefore = await total.getAttribute("data-value");
      await page.waitForFunction(
        (before) => {
          const t = document.querySelector('[data-testid="total-value"]');
          return t?.getAttribute("data-currency") === "EUR" &&
            t.getAttribute("data-value") !== before;
        },
        eurBefore,
        { timeout: 30_000 },
      );
      await currency.selectOption("USD");
      await page.locator('[data-testid="total-value"][data-currency="USD"]').waitFor();
      assert.match(await total.innerText(), /\$/);

      // A moving figure flashes, but not for someone who asked for reduced motion.
      const animation = () =>
        page.evaluate(() => {
          const el = document.querySelector<HTMLElement>('[data-testid="total-value"]')!;
          el.classList.add("flash-up");
          const name = getComputedStyle(el).animationName;
          el.classList.remove("flash-up");
          return name;
        });
      assert.equal(await animation(), "flash-up");
      await page.emulateMedia({ reducedMotion: "reduce" });
      assert.equal(await animation(), "none");
      await page.emulateMedia({ reducedMotion: null });

      // (d) A phone's width: cards, and no sideways scroll.
      await page.setViewportSize({ width: 390, height: 844 });
      const phone = await page.evaluate(() => ({
        scrollWidth: document.scrollingElement!.scrollWidth,
        innerWidth,
      }));
      assert.ok(phone.scrollWidth <= phone.innerWidth, JSON.stringify(phone));
      await page.screenshot({ path: `${ARTIFACTS}/e2e-demo-4-phone.png`, fullPage: true });
      await page.screenshot({ path: `${ARTIFACTS}/e2e-demo-4b-phone-top.png` });

      assert.deepEqual(consoleErrors.filter((e) => !/^Failed to load resource/.test(e)), []);
      console.log(
        `e2e demo: stack ready in ${((ready - t0) / 1000).toFixed(1)} s, browser flow ${
          ((Date.now() - ready) / 1000).toFixed(1)
        } s`,
      );
    } catch (e) {
      for (const p of procs) console.error(`--- ${p.name}\n${p.log.join("").slice(-3000)}`);
      throw e;
    } finally {
      await browser?.close().catch(() => {});
      await stack.close();
    }
  },
});
