/**
 * SnapTrade's connection portal: the page a `/snapTrade/login` link opens, where the user picks a
 * brokerage (or reconnects one) and is sent back to the app with the outcome in the query.
 * Paths are relative to `/snaptrade`.
 * @module
 */
import { Hono } from "hono";
import { esc, page, type SandboxCore } from "../core.ts";
import { BROKERAGES } from "../demo_data.ts";
import type { LoginToken, SnapTradeStore } from "./state.ts";
import { connectionFields, type SnapTradeWebhooks } from "./webhooks.ts";

/** Builds the portal pages (`GET`/`POST /portal`, `GET /portal/done`). */
export function snapTradePortal(
  deps: { core: SandboxCore; store: SnapTradeStore; hooks: SnapTradeWebhooks },
): Hono {
  const { core, store, hooks } = deps;
  const portal = new Hono();

  function liveToken(token: string | undefined): LoginToken | null {
    const t = token ? store.logins.get(token) : undefined;
    return t && !t.used && t.expiresAt > core.now() ? t : null;
  }

  function redirectTo(t: LoginToken, params: Record<string, string>): string {
    const target = t.customRedirect || `${core.publicUrl()}/snaptrade/portal/done`;
    const url = new URL(target);
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    return url.toString();
  }

  portal.get("/portal", (c) => {
    const token = c.req.query("token") ?? "";
    const t = liveToken(token);
    if (!t) {
      return c.html(
        page(
          "Link expired",
          "<h1>This connection link has expired</h1><p>Start again from the app.</p>",
        ),
        410,
      );
    }
    const reconnect = t.reconnect ? store.auths.get(t.reconnect) : undefined;
    const access = t.connectionType === "read" ? "Read-only" : "Trading";
    const options = reconnect ? [reconnect.brokerage] : BROKERAGES;
    const chosen = reconnect?.brokerage.slug ?? t.broker ?? options[0].slug;
    const radios = options.map((b) =>
      `<label><input type="radio" name="broker" value="${esc(b.slug)}"${
        b.slug === chosen ? " checked" : ""
      } required> ${esc(b.name)}${b.allowsTrading ? "" : " (read-only)"}</label>`
    ).join("\n");
    return c.html(page(
      "Connect your brokerage — SnapTrade sandbox",
      `<h1>${
        reconnect ? `Reconnect ${esc(reconnect.brokerage.name)}` : "Connect your brokerage"
      }</h1>
<p id="access">Access requested: <strong>${access}</strong> (${esc(t.connectionType)})</p>
<form method="post" action="portal">
<input type="hidden" name="token" value="${esc(token)}">
<fieldset><legend>Brokerage</legend>
${radios}
</fieldset>
<label>Username <input name="username" value="sandbox-user" autocomplete="username"></label>
<label>Password <input name="password" type="password" value="sandbox-pass" autocomplete="current-password"></label>
<button type="submit" name="action" value="connect">${reconnect ? "Reconnect" : "Connect"}</button>
<button type="submit" name="action" value="abandon" formnovalidate>Cancel</button>
</form>`,
    ));
  });

  portal.post("/portal", async (c) => {
    const form = await c.req.parseBody();
    const token = String(form.token ?? "");
    const t = liveToken(token);
    if (!t) {
      return c.html(page("Link expired", "<h1>This connection link has expired</h1>"), 410);
    }
    if (form.action === "abandon") {
      t.used = true;
      return c.redirect(redirectTo(t, { status: "ABANDONED" }), 303);
    }
    if (t.reconnect) {
      const a = store.auths.get(t.reconnect);
      if (!a) return c.html(page("Not found", "<h1>Connection not found</h1>"), 404);
      t.used = true;
      const wasDisabled = store.enable(a, core.now());
      if (t.connectionType === "trade" && a.brokerage.allowsTrading) a.type = "trade";
      if (wasDisabled) hooks.emit("CONNECTION_FIXED", a.userId, connectionFields(a));
      hooks.connectionHoldingsUpdated(a, 50);
      return c.redirect(redirectTo(t, { status: "SUCCESS", connection_id: a.id }), 303);
    }
    const brokerage = BROKERAGES.find((b) => b.slug === String(form.broker ?? t.broker ?? ""));
    if (!brokerage) {
      return c.html(page("Choose a brokerage", "<h1>Choose a brokerage</h1>"), 400);
    }
    if (t.connectionType === "trade" && !brokerage.allowsTrading) {
      t.used = true;
      return c.redirect(
        redirectTo(t, {
          status: "ERROR",
          status_code: "400",
          error_code: "TRADING_NOT_SUPPORTED",
        }),
        303,
      );
    }
    t.used = true;
    const a = store.addAuthorization(
      t.userId,
      brokerage,
      t.connectionType !== "read" && brokerage.allowsTrading ? "trade" : "read",
      core.now(),
    );
    hooks.emit("CONNECTION_ADDED", a.userId, connectionFields(a));
    hooks.connectionHoldingsUpdated(a, 50);
    return c.redirect(redirectTo(t, { status: "SUCCESS", connection_id: a.id }), 303);
  });

  portal.get("/portal/done", (c) => {
    const status = c.req.query("status") ?? "";
    const id = c.req.query("connection_id") ?? "";
    return c.html(page(
      "Connection finished",
      `<h1>Connection ${esc(status.toLowerCase() || "finished")}</h1>${
        id ? `<p>Connection id: <code>${esc(id)}</code></p>` : ""
      }<p>You can close this window.</p>`,
    ));
  });

  return portal;
}
