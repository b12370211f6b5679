/**
 * Plaid's Hosted Link page (`/link/:linkToken`): pick an institution and log in (`user_good` /
 * `pass_good`) to create an item, or in update mode repair the item's login; each visit is a link
 * session whose public token `/link/token/get` reports. Sends the browser on to the link
 * token's `completion_redirect_uri`, if any.
 * @module
 */
import type { Hono } from "hono";
import { esc, page, type SandboxCore } from "../core.ts";
import { INSTITUTIONS } from "../demo_data.ts";
import { repairLogin } from "./errors.ts";
import { institution } from "./shapes.ts";
import type { Item, LinkSession, LinkToken, PlaidStore } from "./state.ts";
import type { PlaidWebhooks } from "./webhooks.ts";

/** Registers the Hosted Link page (`GET` shows the form, `POST` submits it) on the Plaid app. */
export function hostedLinkRoutes(
  app: Hono,
  deps: { core: SandboxCore; store: PlaidStore; hooks: PlaidWebhooks },
): void {
  const { core, store, hooks } = deps;

  function liveLink(token: string): LinkToken | null {
    const t = store.linkTokens.get(token);
    return t && t.expiresAt > core.now() ? t : null;
  }

  app.get("/link/:linkToken", (c) => {
    const t = liveLink(c.req.param("linkToken"));
    if (!t) {
      return c.html(
        page("Link expired", "<h1>This link has expired</h1><p>Start again from the app.</p>"),
        410,
      );
    }
    const update = t.updateItemId ? store.items.get(t.updateItemId) : undefined;
    const choices = update
      ? INSTITUTIONS.filter((i) => i.id === update.institutionId)
      : INSTITUTIONS;
    const radios = choices.map((ins, i) =>
      `<label><input type="radio" name="institution_id" value="${esc(ins.id)}"${
        i === 0 ? " checked" : ""
      } required> ${esc(ins.name)}</label>`
    ).join("\n");
    return c.html(page(
      `${t.clientName} — Plaid sandbox`,
      `<h1>${
        update
          ? `Reconnect ${esc(institution(update.institutionId).name)}`
          : "Select your institution"
      }</h1>
<p>${esc(t.clientName)} uses Plaid to link your investment accounts.</p>
<form method="post">
<fieldset><legend>Institution</legend>
${radios}
</fieldset>
<label>Username <input name="username" value="user_good" autocomplete="username"></label>
<label>Password <input name="password" type="password" value="pass_good" autocomplete="current-password"></label>
<button type="submit" name="action" value="continue">Continue</button>
<button type="submit" name="action" value="exit" formnovalidate>Exit</button>
</form>`,
    ));
  });

  app.post("/link/:linkToken", async (c) => {
    const t = liveLink(c.req.param("linkToken"));
    if (!t) return c.html(page("Link expired", "<h1>This link has expired</h1>"), 410);
    const form = await c.req.parseBody();
    const now = core.now();
    const session: LinkSession = {
      id: crypto.randomUUID(),
      startedAt: now,
      finishedAt: now,
      publicToken: null,
      itemId: null,
      exited: false,
    };
    t.sessions.push(session);
    const done = () =>
      t.completionRedirect
        ? c.redirect(t.completionRedirect, 303)
        : c.html(page("Done", "<h1>All done</h1><p>You can close this window.</p>"));
    if (form.action === "exit") {
      session.exited = true;
      return done();
    }
    if (form.password !== undefined && form.password !== "pass_good") {
      return c.html(
        page(
          "Wrong password",
          "<h1>The credentials were not correct</h1><p>Use user_good / pass_good.</p>",
        ),
        400,
      );
    }
    let item: Item;
    if (t.updateItemId) {
      const existing = store.items.get(t.updateItemId);
      if (!existing) {
        return c.html(page("Not found", "<h1>This connection no longer exists</h1>"), 404);
      }
      item = existing;
      repairLogin(item, hooks);
    } else {
      const ins = INSTITUTIONS.find((i) => i.id === String(form.institution_id ?? ""));
      if (!ins) return c.html(page("Choose an institution", "<h1>Choose an institution</h1>"), 400);
      item = store.createItem(ins.id, t.webhook, core.now());
    }
    session.itemId = item.itemId;
    session.publicToken = store.newPublicToken(item, core.now());
    return done();
  });
}
